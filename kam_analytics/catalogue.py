"""The default service catalogue and entitlement matrix (DOMAIN.md), and queries to read them."""

from __future__ import annotations

import re
from decimal import Decimal

import pandas as pd

from kam_analytics.audit import write_audit
from kam_analytics.errors import ConfigError, Reason
from kam_analytics.schema import POLICIES, TIERS
from kam_analytics.summaries import ensure_summaries
from kam_analytics.write_log import writing

_CODE_RE = re.compile(r"[A-Z0-9_]{1,40}")

# code, German name, English name, unit, internal cost €, list value €, exclusive to KEY
DEFAULT_SERVICES = (
    (
        "SHORTAGE_SUPPLY",
        "Belieferung bei Produktengpass",
        "Priority supply during shortages",
        "Lieferung",
        250,
        600,
        True,
    ),
    (
        "INNOVATION_WS",
        "Produktinnovations-Workshop",
        "Product innovation workshop",
        "Workshop",
        2400,
        4500,
        True,
    ),
    (
        "DEDICATED_CONTACT",
        "Fester Ansprechpartner im Innendienst",
        "Dedicated inside-sales contact",
        "Monat",
        450,
        900,
        True,
    ),
    (
        "CUSTOM_DEV",
        "Individuelle Produkt-/Serviceentwicklung",
        "Custom product or service development",
        "Projekt",
        8000,
        15000,
        True,
    ),
    (
        "CUSTOM_PACKAGING",
        "Individuelle Verpackung / Produktpräsentation",
        "Custom packaging or presentation",
        "Auftrag",
        300,
        650,
        False,
    ),
    (
        "EXCL_MARKETING",
        "Exklusive Marketingaktion",
        "Exclusive marketing campaign",
        "Aktion",
        3500,
        6000,
        True,
    ),
    (
        "GROUP_REPORTING",
        "Konzernweites Reporting",
        "Group-wide reporting",
        "Quartal",
        600,
        1200,
        True,
    ),
    (
        "CENTRAL_BONUS",
        "Zentrale Bonusvereinbarung",
        "Central rebate agreement",
        "Jahr",
        1000,
        2500,
        True,
    ),
    (
        "TRAINING",
        "Trainingsmaßnahme beim Kunden",
        "Training at the customer",
        "Tag",
        900,
        1800,
        False,
    ),
    (
        "FOCUS_GROUP",
        "Customer Focus Group",
        "Exclusive customer focus group",
        "Termin",
        1200,
        2200,
        True,
    ),
    (
        "SATISFACTION_SURVEY",
        "Individuelle Zufriedenheitsbefragung",
        "Individual satisfaction survey",
        "Befragung",
        700,
        1500,
        True,
    ),
    (
        "EXPRESS_FREIGHT",
        "Expressfracht / Eilzustellung",
        "Express freight, rush delivery",
        "Sendung",
        0,
        0,
        False,
    ),
)

# Non-exclusive services: what A, B and C get. KEY gets every service (exclusive ones free,
# express freight waived: the invoice shows its value).
_NON_EXCLUSIVE_POLICY = {
    "CUSTOM_PACKAGING": {"KEY": "free", "A": "billed", "B": "billed", "C": "not_offered"},
    "TRAINING": {"KEY": "free", "A": "billed", "B": "billed", "C": "billed"},
    "EXPRESS_FREIGHT": {"KEY": "waived", "A": "billed", "B": "billed", "C": "billed"},
}
_KEY_WAIVED = {"CUSTOM_DEV", "EXCL_MARKETING"}


def default_policy(service_code: str, tier: str, exclusive: bool) -> str:
    """The policy of the default matrix for one service and tier."""
    if service_code in _NON_EXCLUSIVE_POLICY:
        return _NON_EXCLUSIVE_POLICY[service_code][tier]
    if exclusive:
        if tier != "KEY":
            return "not_offered"
        return "waived" if service_code in _KEY_WAIVED else "free"
    return "billed"


def seed_catalogue(con) -> None:
    """Insert the default catalogue where a service code is missing (keeps user edits)."""
    with writing(con, "service_catalogue"):
        for order, (code, de, en, unit, cost, value, _excl) in enumerate(DEFAULT_SERVICES, 1):
            con.execute(
                "INSERT OR IGNORE INTO service_catalogue "
                "(service_code, name_de, name_en, unit, cost, list_value, active, sort_order) "
                "VALUES (?, ?, ?, ?, ?, ?, TRUE, ?)",
                [code, de, en, unit, cost, value, order],
            )


def seed_matrix(con, year: int) -> None:
    """Insert the default entitlement matrix for `year` where cells are missing."""
    with writing(con, "entitlement_matrix"):
        for code, _de, _en, _unit, _cost, _value, exclusive in DEFAULT_SERVICES:
            for tier in ("KEY", "A", "B", "C"):
                con.execute(
                    "INSERT OR IGNORE INTO entitlement_matrix (year, service_code, tier, policy) "
                    "VALUES (?, ?, ?, ?)",
                    [year, code, tier, default_policy(code, tier, exclusive)],
                )


# --- reading and editing the catalogue ------------------------------------------------------

CATALOGUE_COLUMNS = (
    "service_code",
    "name_de",
    "name_en",
    "unit",
    "cost",
    "list_value",
    "surcharge_fixed",
    "surcharge_pct",
    "active",
    "sort_order",
)
_EXCLUSIVE_DEFAULT = {code: excl for code, *_rest, excl in DEFAULT_SERVICES}


def select_catalogue(con, active_only: bool = False) -> pd.DataFrame:
    """The service catalogue in display order (money as float)."""
    cols = ", ".join(CATALOGUE_COLUMNS)
    return con.execute(
        f"SELECT {cols} FROM service_catalogue "
        "WHERE NOT ? OR COALESCE(active, TRUE) "
        "ORDER BY COALESCE(sort_order, 1000000), service_code",
        [active_only],
    ).df()


def service_names(con, lang: str = "de") -> dict[str, str]:
    """{service_code: name in `lang`} for every catalogue service."""
    cat = select_catalogue(con)
    col = "name_en" if lang == "en" else "name_de"
    return {r.service_code: (getattr(r, col) or r.service_code) for r in cat.itertuples()}


def _clean_service(row: dict) -> dict:
    """Validate one catalogue row as edited by a user; raise ConfigError on nonsense."""
    code = str(row.get("service_code") or "").strip().upper()
    if not code or not _CODE_RE.fullmatch(code):
        raise ConfigError(Reason.SERVICE_CODE_INVALID, service=str(row.get("service_code")))
    out = {"service_code": code}
    for name in ("name_de", "name_en", "unit"):
        value = row.get(name)
        out[name] = None if _missing(value) else str(value).strip()
    if not out["name_de"] and not out["name_en"]:
        raise ConfigError(Reason.SERVICE_NAME_MISSING, service=code)
    out["name_de"] = out["name_de"] or out["name_en"]
    out["name_en"] = out["name_en"] or out["name_de"]
    for name in ("cost", "list_value", "surcharge_fixed", "surcharge_pct"):
        value = row.get(name)
        if _missing(value):
            out[name] = None if name.startswith("surcharge") else 0
            continue
        try:
            number = round(float(value), 2)
        except (TypeError, ValueError):
            raise ConfigError(
                Reason.SERVICE_VALUE_NOT_NUMBER, service=code, field=name, value=str(value)
            ) from None
        if number < 0:
            raise ConfigError(Reason.SERVICE_VALUE_NEGATIVE, service=code, field=name)
        out[name] = number
    active = row.get("active")
    out["active"] = True if _missing(active) else bool(active)
    order = row.get("sort_order")
    out["sort_order"] = None if _missing(order) else int(order)
    return out


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(row: dict) -> dict:
    """JSON-friendly copy of a catalogue row (numpy numbers to Python)."""
    out = {}
    for key, value in row.items():
        if _missing(value):
            out[key] = None
        elif hasattr(value, "item"):
            out[key] = value.item()
        elif isinstance(value, Decimal):
            out[key] = float(value)
        else:
            out[key] = value
    return out


def save_service(con, row: dict, username: str) -> str:
    """Insert or update one catalogue service and audit it; returns what happened."""
    new = _clean_service(row)
    old = con.execute(
        f"SELECT {', '.join(CATALOGUE_COLUMNS)} FROM service_catalogue WHERE service_code = ?",
        [new["service_code"]],
    ).fetchall()
    if old:
        old_row = _plain(dict(zip(CATALOGUE_COLUMNS, old[0], strict=True)))
        if new["sort_order"] is None:
            new["sort_order"] = old_row["sort_order"]
        changed = {k: v for k, v in new.items() if _differs(old_row.get(k), v)}
        if not changed:
            return "unchanged"
        sets = ", ".join(f"{k} = ?" for k in changed)
        with writing(con, "service_catalogue"):
            con.execute(
                f"UPDATE service_catalogue SET {sets} WHERE service_code = ?",
                [*changed.values(), new["service_code"]],
            )
        write_audit(
            con,
            username,
            "catalogue_update",
            new["service_code"],
            {k: old_row.get(k) for k in changed},
            changed,
        )
        return "updated"
    if new["sort_order"] is None:
        top = con.execute("SELECT max(sort_order) FROM service_catalogue").fetchall()[0][0]
        new["sort_order"] = (top or 0) + 1
    cols = list(CATALOGUE_COLUMNS)
    with writing(con, "service_catalogue"):
        con.execute(
            f"INSERT INTO service_catalogue ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [new[c] for c in cols],
        )
    write_audit(con, username, "catalogue_add", new["service_code"], None, new)
    return "added"


def _differs(old, new) -> bool:
    if old is None or new is None:
        return (old is None) != (new is None)
    if isinstance(new, float | int) and not isinstance(new, bool):
        return abs(float(old) - float(new)) > 1e-9
    return old != new


def save_catalogue(con, edited: pd.DataFrame, username: str, scope=None) -> dict[str, int]:
    """Apply an edited catalogue table (admin only): counts of added/updated/unchanged rows."""
    if scope is not None:
        scope.require_role("admin")
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    rows = [r for r in edited.to_dict(orient="records") if not _missing(r.get("service_code"))]
    codes = [str(r["service_code"]).strip().upper() for r in rows]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise ConfigError(Reason.SERVICE_CODE_TWICE, codes=", ".join(dupes))
    con.execute("BEGIN TRANSACTION")
    try:
        for row in rows:
            counts[save_service(con, row, username)] += 1
        # the express surcharge is part of every express shipment's list value
        # (service_events_all): its summary is rebuilt in this transaction when it changed
        ensure_summaries(con)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts


# --- the entitlement matrix, one version per year -----------------------------------------


def matrix_years(con) -> list[int]:
    """Years that have their own saved matrix, ascending."""
    rows = con.execute("SELECT DISTINCT year FROM entitlement_matrix ORDER BY year").fetchall()
    return [int(r[0]) for r in rows]


def matrix_source_year(con, year: int | None) -> int | None:
    """The saved matrix valid for `year`: its own, else the latest earlier one, else None (default)."""
    if year is None:
        return None
    rows = con.execute(
        "SELECT max(year) FROM entitlement_matrix WHERE year <= ?", [int(year)]
    ).fetchall()
    return None if rows[0][0] is None else int(rows[0][0])


def select_matrix(con, year: int | None) -> pd.DataFrame:
    """The matrix valid in `year` as rows service_code, tier, policy, exclusive.

    A year without its own matrix uses the latest earlier year's, else the default matrix.
    Catalogue services missing from a saved matrix get their default policy (a service an
    admin added later defaults to `billed` for every tier). Cells of services no longer in the
    catalogue are kept, so old events are still checked against them.
    """
    source = matrix_source_year(con, year)
    saved = con.execute(
        "SELECT service_code, tier, policy FROM entitlement_matrix WHERE year = ?", [source]
    ).fetchall()
    cells = {(code, tier): policy for code, tier, policy in saved}
    order = [
        r[0]
        for r in con.execute(
            "SELECT service_code FROM service_catalogue "
            "ORDER BY COALESCE(sort_order, 1000000), service_code"
        ).fetchall()
    ]
    extra = sorted({code for code, _tier in cells} - set(order))
    rows = []
    for code in order + extra:
        for tier in TIERS:
            policy = cells.get((code, tier))
            if policy is None:
                policy = default_policy(code, tier, _EXCLUSIVE_DEFAULT.get(code, False))
            rows.append((code, tier, policy))
    out = pd.DataFrame(rows, columns=["service_code", "tier", "policy"])
    out["exclusive"] = out["service_code"].map(exclusive_services(out))
    return out


def exclusive_services(matrix: pd.DataFrame) -> dict[str, bool]:
    """{service_code: True when offered to KEY only} for a long matrix."""
    result = {}
    for code, cells in matrix.groupby("service_code", sort=False):
        pol = dict(zip(cells["tier"], cells["policy"], strict=True))
        result[code] = pol.get("KEY", "not_offered") != "not_offered" and all(
            pol.get(t, "not_offered") == "not_offered" for t in TIERS if t != "KEY"
        )
    return result


def matrix_wide(matrix: pd.DataFrame) -> pd.DataFrame:
    """A long matrix as one row per service with one policy column per tier."""
    wide = matrix.pivot(index="service_code", columns="tier", values="policy")
    order = list(dict.fromkeys(matrix["service_code"]))
    wide = wide.reindex(index=order, columns=list(TIERS)).reset_index()
    wide.columns.name = None
    excl = exclusive_services(matrix)
    wide["exclusive"] = wide["service_code"].map(excl).fillna(False).astype(bool)
    return wide


def _write_cells(con, year: int, cells: dict[tuple[str, str], str]) -> None:
    with writing(con, "entitlement_matrix"):
        for (code, tier), policy in cells.items():
            con.execute(
                "INSERT OR REPLACE INTO entitlement_matrix (year, service_code, tier, policy) "
                "VALUES (?, ?, ?, ?)",
                [year, code, tier, policy],
            )


def copy_matrix(con, from_year: int | None, to_year: int, username: str = "system") -> int:
    """Save the matrix valid in `from_year` as `to_year`'s own matrix; returns cells written."""
    matrix = select_matrix(con, from_year)
    cells = {(r.service_code, r.tier): r.policy for r in matrix.itertuples()}
    con.execute("BEGIN TRANSACTION")
    try:
        with writing(con, "entitlement_matrix"):
            con.execute("DELETE FROM entitlement_matrix WHERE year = ?", [int(to_year)])
        _write_cells(con, int(to_year), cells)
        write_audit(
            con,
            username,
            "matrix_copy",
            str(to_year),
            {"from_year": from_year},
            {"cells": len(cells)},
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(cells)


def update_matrix(con, year: int, changes, username: str, scope=None) -> int:
    """Set policies of `year` (admin only) from {(service_code, tier): policy} or a wide frame.

    A year without its own matrix first gets a copy of the one valid for it, so that editing
    one cell never silently drops the inherited rest. One audit entry per changed cell.
    Returns the number of changed cells.
    """
    if scope is not None:
        scope.require_role("admin")
    year = int(year)
    if isinstance(changes, pd.DataFrame):
        changes = {
            (row["service_code"], tier): row[tier]
            for row in changes.to_dict(orient="records")
            for tier in TIERS
            if tier in row and not _missing(row[tier])
        }
    for (code, tier), policy in changes.items():
        if tier not in TIERS:
            raise ConfigError(Reason.TIER_UNKNOWN, tier=str(tier), tiers=", ".join(TIERS))
        if policy not in POLICIES:
            raise ConfigError(
                Reason.POLICY_UNKNOWN,
                policy=str(policy),
                service=code,
                tier=tier,
                policies=", ".join(POLICIES),
            )
    current = select_matrix(con, year)
    before = {(r.service_code, r.tier): r.policy for r in current.itertuples()}
    source = matrix_source_year(con, year)
    own = source == year
    changed = {k: v for k, v in changes.items() if before.get(k) != v}
    if not changed and own:
        return 0
    con.execute("BEGIN TRANSACTION")
    try:
        if not own:
            _write_cells(con, year, before)
            write_audit(
                con,
                username,
                "matrix_copy",
                str(year),
                {"from_year": source},
                {"cells": len(before)},
            )
        _write_cells(con, year, changed)
        for (code, tier), policy in changed.items():
            write_audit(
                con,
                username,
                "matrix_update",
                f"{year}/{code}/{tier}",
                before.get((code, tier)),
                policy,
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(changed)
