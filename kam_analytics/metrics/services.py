"""Service value: what each account received, what it was worth, and how much was billed.

Every figure comes from the `service_events_all` view (service events plus every express
shipment as an EXPRESS_FREIGHT event) and is filtered through `visible_accounts(?)`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.metrics.abc import with_abc
from kam_analytics.money import round_cents
from kam_analytics.periods import cut_off
from kam_analytics.schema import BILLING_MODES, TIERS
from kam_analytics.summaries import SERVICE_CELL_SUMS, SERVICE_EVENT_CELLS, ensure_summaries

MONEY = ("cost", "list_value", "billed_amount", "unbilled_value")
REPORT_COLUMNS = [
    "account_id",
    "name",
    "tier",
    "kam_id",
    "cost",
    "list_value",
    "billed_amount",
    "unbilled_value",
    "value_silent",
    "value_waived",
    "value_billed",
    "abc",  # the ABC suggestion from revenue share, beside the assigned tier (metrics.abc)
]
# Dimensions a service-value table can be grouped by, and the event columns they use.
DIMENSIONS = {
    "account": ["account_id", "account_name", "tier", "kam_name"],
    "tier": ["tier"],
    "kam": ["kam_id", "kam_name"],
    "service": ["service_code"],
    "month": ["month"],
    "billing_mode": ["billing_mode"],
}

# The events of the period as cells of the service_months summary (per account, month,
# service, billing mode; kam_analytics/summaries.py): its whole months up to $full_until plus
# the days from $full_until to $as_of from the view (the as-of month's first days), so a cut
# at any day is exact. $full_until NULL: no cut, the summary only.
_CELL_COLUMNS = ", ".join(
    ["account_id", "month", "service_code", "billing_mode", "events", *SERVICE_CELL_SUMS]
)
_SQL_CELLS = f"""cells AS (
    SELECT {_CELL_COLUMNS}
    FROM service_months
    WHERE ($year IS NULL OR month BETWEEN make_date($year, 1, 1) AND make_date($year, 12, 1))
      AND ($full_until IS NULL OR month < $full_until)
    UNION ALL
    SELECT {_CELL_COLUMNS}
    FROM ({SERVICE_EVENT_CELLS})
    WHERE date >= $full_until AND date <= $as_of AND ($year IS NULL OR year(date) = $year)
)"""

_SQL_REPORT = f"""
WITH {_SQL_CELLS},
per_account AS (
    SELECT
        account_id,
        SUM(cost) AS cost,
        SUM(list_value) AS list_value,
        SUM(billed_amount) AS billed_amount,
        SUM(unbilled_value) AS unbilled_value,
        SUM(list_value) FILTER (WHERE billing_mode = 'silent') AS value_silent,
        SUM(list_value) FILTER (WHERE billing_mode = 'waived') AS value_waived,
        SUM(list_value) FILTER (WHERE billing_mode = 'billed') AS value_billed
    FROM cells
    GROUP BY account_id
)
SELECT
    a.account_id,
    a.name,
    a.tier,
    a.kam_id,
    COALESCE(p.cost, 0) AS cost,
    COALESCE(p.list_value, 0) AS list_value,
    COALESCE(p.billed_amount, 0) AS billed_amount,
    COALESCE(p.unbilled_value, 0) AS unbilled_value,
    COALESCE(p.value_silent, 0) AS value_silent,
    COALESCE(p.value_waived, 0) AS value_waived,
    COALESCE(p.value_billed, 0) AS value_billed
FROM accounts a
LEFT JOIN per_account p ON p.account_id = a.account_id
WHERE a.account_id IN (SELECT account_id FROM visible_accounts($kam))
ORDER BY a.account_id
"""

# The page filters, shared by the event rows and their summaries (all bound parameters).
_EVENT_FILTERS = """WHERE e.account_id IN (SELECT account_id FROM visible_accounts($kam))
  AND ($year IS NULL OR year(e.date) = $year)
  AND ($as_of IS NULL OR e.date <= $as_of)
  AND ($account IS NULL OR e.account_id = $account)
  AND ($tiers IS NULL OR list_contains($tiers, COALESCE(a.tier, '')))
  AND ($kams IS NULL OR list_contains($kams, COALESCE(a.kam_id, '')))
  AND ($services IS NULL OR list_contains($services, e.service_code))
"""

_SQL_EVENTS = f"""
SELECT
    e.source_table,
    e.source_id,
    e.account_id,
    a.name AS account_name,
    a.tier,
    a.kam_id,
    k.name AS kam_name,
    e.date,
    strftime(e.date, '%Y-%m') AS month,
    e.service_code,
    e.quantity,
    e.cost,
    e.list_value,
    e.billed_amount,
    e.unbilled_value,
    e.billing_mode,
    e.import_id,
    il.file_name,
    il.imported_at,
    e.source_row
FROM service_events_all e
JOIN accounts a ON a.account_id = e.account_id
LEFT JOIN kams k ON k.kam_id = a.kam_id
LEFT JOIN import_log il ON il.import_id = e.import_id
{_EVENT_FILTERS}ORDER BY e.date, e.source_table, e.source_id
"""

# The filtered events of _SQL_EVENTS as summary cells (_SQL_CELLS), grouped in two steps:
# first once per cell dimension (month, service, billing mode), per account and in total
# (GROUPING SETS over the cells), then the per-account rows, with the account's name, tier and
# KAM, once per account dimension (account, tier, KAM). Grouping the cells by the account's
# text columns directly costs several times more at 50,000 accounts. Key columns are
# COALESCEd to '' so rows without tier/KAM form one group. Money sums are DECIMAL: the same
# to the cent in any order.
_SQL_SUMMARY_CELLS = f"""
WITH {_SQL_CELLS},
ev AS (
    SELECT e.*
    FROM cells e
    JOIN accounts a ON a.account_id = e.account_id
    WHERE e.account_id IN (SELECT account_id FROM visible_accounts($kam))
      AND ($account IS NULL OR e.account_id = $account)
      AND ($tiers IS NULL OR list_contains($tiers, COALESCE(a.tier, '')))
      AND ($kams IS NULL OR list_contains($kams, COALESCE(a.kam_id, '')))
      AND ($services IS NULL OR list_contains($services, e.service_code))
),
by_cell AS (
    SELECT
        {{grouping}} AS g,
        {{cell_keys}},
        SUM(events) AS events,
        SUM(quantity) AS quantity,
        SUM(cost) AS cost,
        SUM(list_value) AS list_value,
        SUM(billed_amount) AS billed_amount,
        SUM(unbilled_value) AS unbilled_value,
        SUM(list_value) FILTER (WHERE billing_mode = 'silent') AS value_silent,
        SUM(list_value) FILTER (WHERE billing_mode = 'waived') AS value_waived,
        SUM(list_value) FILTER (WHERE billing_mode = 'billed') AS value_billed
    FROM ev
    GROUP BY GROUPING SETS ({{cell_sets}})
)"""
_SQL_SUMMARY_ACCOUNTS = """,
by_account AS (
    SELECT
        GROUPING({account_cols}) AS g,
        {account_keys},
        SUM(events) AS events,
        SUM(quantity) AS quantity,
        SUM(cost) AS cost,
        SUM(list_value) AS list_value,
        SUM(billed_amount) AS billed_amount,
        SUM(unbilled_value) AS unbilled_value,
        SUM(value_silent) AS value_silent,
        SUM(value_waived) AS value_waived,
        SUM(value_billed) AS value_billed
    FROM (
        SELECT
            c.*,
            COALESCE(a.name, '') AS account_name,
            COALESCE(a.tier, '') AS tier,
            COALESCE(a.kam_id, '') AS kam_id,
            COALESCE(k.name, '') AS kam_name
        FROM by_cell c
        JOIN accounts a ON a.account_id = c.account_id
        LEFT JOIN kams k ON k.kam_id = a.kam_id
        WHERE c.g = {per_account}
    )
    GROUP BY GROUPING SETS ({account_sets})
)"""
_SQL_SUMMARY_SELECT = """
SELECT
    CASE g {cell_grp} END AS grp,
    NULL AS account_id, NULL AS account_name, NULL AS tier, NULL AS kam_id, NULL AS kam_name,
    COALESCE(strftime(month, '%Y-%m'), '') AS month,
    COALESCE(service_code, '') AS service_code,
    COALESCE(billing_mode, '') AS billing_mode,
    {values}
FROM by_cell WHERE g <> {per_account}"""
_SQL_SUMMARY_SELECT_ACCOUNTS = """
UNION ALL
SELECT
    CASE g {account_grp} END,
    account_id, account_name, tier, kam_id, kam_name, NULL, NULL, NULL,
    {values}
FROM by_account"""
_SUMMARY_VALUES = """CAST(COALESCE(events, 0) AS BIGINT) AS events,
    COALESCE(quantity, 0) AS quantity,
    COALESCE(cost, 0) AS cost,
    COALESCE(list_value, 0) AS list_value,
    COALESCE(billed_amount, 0) AS billed_amount,
    COALESCE(unbilled_value, 0) AS unbilled_value,
    COALESCE(value_silent, 0) AS value_silent,
    COALESCE(value_waived, 0) AS value_waived,
    COALESCE(value_billed, 0) AS value_billed"""
# The dimensions whose keys are the account's columns: grouped from the per-account rows.
_ACCOUNT_KEYS = ("account_id", "account_name", "tier", "kam_id", "kam_name")
_CELL_KEYS = ("account_id", "month", "service_code", "billing_mode")
_KEY_ORDER = (
    "account_id",
    "account_name",
    "tier",
    "kam_id",
    "kam_name",
    "month",
    "service_code",
    "billing_mode",
)


def _as_list(values) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        return [values]
    return [("" if v is None else str(v)) for v in values]


def _money(df: pd.DataFrame, columns) -> pd.DataFrame:
    for col in columns:
        if col in df:
            df[col] = round_cents(
                pd.to_numeric(df[col], errors="coerce").astype("float64").fillna(0.0)
            )
    return df


def report_services(
    con, *, year: int | None = None, as_of: dt.date | None = None, scope: Scope
) -> pd.DataFrame:
    """One row per visible account (zeros included): cost, list value, billed, unbilled, value by mode."""
    ensure_summaries(con)  # reads service_months
    df = con.execute(_SQL_REPORT, {**_period(year, as_of), "kam": scope.kam_param}).df()
    df = _money(df, REPORT_COLUMNS[4:-1])
    df = with_abc(con, scope, df, year=year, as_of=as_of)
    return df[REPORT_COLUMNS].reset_index(drop=True)


def select_service_events(
    con,
    scope: Scope,
    *,
    year: int | None = None,
    as_of: dt.date | None = None,
    account_id: str | None = None,
    tiers=None,
    kam_ids=None,
    services=None,
) -> pd.DataFrame:
    """The service events (express shipments included) behind every figure, with their import.

    `tiers`, `kam_ids`, `services` are lists (None = no filter); an empty string in `tiers` or
    `kam_ids` selects accounts without tier / without KAM.
    """
    df = con.execute(
        _SQL_EVENTS, _params(scope, year, as_of, account_id, tiers, kam_ids, services)
    ).df()
    df = _money(df, MONEY)
    df["date"] = pd.to_datetime(df["date"]).dt.date
    return df


def _params(scope, year, as_of, account_id, tiers, kam_ids, services) -> dict:
    return {
        "kam": scope.kam_param,
        "year": None if year is None else int(year),
        "as_of": cut_off(year, as_of),
        "account": account_id,
        "tiers": _as_list(tiers),
        "kams": _as_list(kam_ids),
        "services": _as_list(services),
    }


def _period(year, as_of) -> dict:
    """The period's parameters of _SQL_CELLS: year, as-of day and the end of its whole months."""
    end = cut_off(year, as_of)
    full_until = None
    if end is not None:
        # the as-of month is whole when the as-of day is its last one
        next_day = end + dt.timedelta(days=1)
        full_until = next_day if next_day.day == 1 else end.replace(day=1)
    return {"year": None if year is None else int(year), "as_of": end, "full_until": full_until}


def _grouping_id(keys: list[str], used: list[str]) -> int:
    """DuckDB's GROUPING(*used) value for a grouping set of `keys` (bit set = not grouped)."""
    return sum(1 << (len(used) - 1 - i) for i, col in enumerate(used) if col not in keys)


def _sort_summary(out: pd.DataFrame, by: list[str], keys: list[str]) -> pd.DataFrame:
    sort_cols = ["month"] if by == ["month"] else ["list_value", *keys]
    ascending = [True] if by == ["month"] else [False, *([True] * len(keys))]
    return out.sort_values(sort_cols, ascending=ascending, kind="stable").reset_index(drop=True)


def _summary_sql(sets: dict[str, list[str]], used: list[str]) -> str:
    """_SQL_SUMMARY_* for the grouping sets `sets`; `grp` is GROUPING(*used) of each set."""
    on_account = {d: k for d, k in sets.items() if set(k) <= set(_ACCOUNT_KEYS)}
    on_cells = [k for d, k in sets.items() if d not in on_account]
    cell_sets = [[], *on_cells, *([["account_id"]] if on_account else [])]
    # GROUPING() takes only columns of a set; the others are selected as NULL
    cell_cols = [c for c in _CELL_KEYS if any(c in k for k in cell_sets)]
    per_account = _grouping_id(["account_id"], cell_cols) if on_account else -1
    cell_keys = ", ".join(
        c if c in cell_cols else f"CAST(NULL AS {'DATE' if c == 'month' else 'VARCHAR'}) AS {c}"
        for c in _CELL_KEYS
    )

    def cases(key_sets, cols) -> str:
        return " ".join(
            f"WHEN {_grouping_id(k, cols)} THEN {_grouping_id(k, used)}" for k in key_sets
        )

    sql = _SQL_SUMMARY_CELLS.format(
        grouping=f"GROUPING({', '.join(cell_cols)})" if cell_cols else "0",
        cell_keys=cell_keys,
        cell_sets=", ".join(f"({', '.join(k)})" for k in cell_sets),
    )
    account_cols = [c for c in _ACCOUNT_KEYS if any(c in k for k in on_account.values())]
    if on_account:
        sql += _SQL_SUMMARY_ACCOUNTS.format(
            account_cols=", ".join(account_cols),
            account_keys=", ".join(
                c if c in account_cols else f"CAST(NULL AS VARCHAR) AS {c}" for c in _ACCOUNT_KEYS
            ),
            per_account=per_account,
            account_sets=", ".join(f"({', '.join(k)})" for k in on_account.values()),
        )
    sql += _SQL_SUMMARY_SELECT.format(
        cell_grp=cases([[], *on_cells], cell_cols),
        per_account=per_account,
        values=_SUMMARY_VALUES,
    )
    if on_account:
        sql += _SQL_SUMMARY_SELECT_ACCOUNTS.format(
            account_grp=cases(on_account.values(), account_cols), values=_SUMMARY_VALUES
        )
    return sql


def summarise_service_events(
    con,
    scope: Scope,
    *,
    year: int | None = None,
    as_of: dt.date | None = None,
    account_id: str | None = None,
    tiers=None,
    kam_ids=None,
    services=None,
    dims=("account", "tier", "kam", "service", "month"),
    quantity: bool = False,
) -> dict:
    """The service-value figures grouped in DuckDB: one query, one GROUPING SET per dimension.

    The one implementation of service summaries (pages, decks, review pack, tests). Returns
    {dim: summary} for every dimension in `dims` — the dimension's key columns, events, cost,
    list_value, billed_amount, unbilled_value and value_<mode>, largest list value first
    (months in calendar order) — and "total": a dict of the same figures over all filtered
    events. With `quantity`, summaries and total also carry the summed quantity (meaningful
    per service; it adds units of different services elsewhere).
    """
    sets = {dim: DIMENSIONS[dim] for dim in dims}
    value_cols = [*MONEY, *(f"value_{m}" for m in BILLING_MODES)]
    used = [c for c in _KEY_ORDER if any(c in keys for keys in sets.values())]
    ensure_summaries(con)  # reads service_months
    sql = _summary_sql(sets, used)
    params = _params(scope, year, as_of, account_id, tiers, kam_ids, services)
    df = con.execute(sql, {**params, **_period(year, as_of)}).df()
    df = _money(df, value_cols)
    df["events"] = df["events"].astype("int64")
    df["quantity"] = pd.to_numeric(df["quantity"]).astype("float64").fillna(0.0)
    extra = ["quantity"] if quantity else []
    grand = df[df["grp"] == _grouping_id([], used)]
    total = {"events": 0, **dict.fromkeys([*value_cols, *extra], 0.0)}
    if len(grand):
        row = grand.iloc[0]
        total = {"events": int(row["events"]), **{c: float(row[c]) for c in [*value_cols, *extra]}}
    result: dict = {"total": total}
    for dim, keys in sets.items():
        part = df[df["grp"] == _grouping_id(keys, used)]
        out = part[[*keys, "events", *value_cols, *extra]].reset_index(drop=True)
        if total["events"] == 0:
            out = _empty_summary(keys, [*value_cols, *extra])
        result[dim] = _sort_summary(out, [dim], keys)
    return result


def _empty_summary(keys: list[str], value_cols: list[str]) -> pd.DataFrame:
    """A summary without rows, with the column types of a filled one."""
    columns = {k: pd.Series(dtype=object) for k in keys}
    columns["events"] = pd.Series(dtype="int64")
    columns.update({c: pd.Series(dtype="float64") for c in value_cols})
    return pd.DataFrame(columns)


def ladder_from_summary(summary: pd.DataFrame | dict, by: str | None = None) -> pd.DataFrame:
    """List value per billing mode (silent -> waived -> billed) from summarise_service_events.

    `summary` is one of its tables (with `by` its key column, e.g. "tier": one ladder per
    group, in the order of TIERS with no tier last) or its "total" dict (`by` None).
    Columns: [by,] billing_mode, list_value, share (of the group's total list value).
    """
    keys = [by] if by else []
    rows = []
    if by:
        groups = list(summary[by])
        if by == "tier":
            groups = [t for t in [*TIERS, ""] if t in groups] + [
                g for g in groups if g not in (*TIERS, "")
            ]
        indexed = summary.set_index(by)
        parts = [(g, indexed.loc[g]) for g in groups]
    elif isinstance(summary, dict):
        parts = [(None, summary)]
    else:
        parts = [(None, summary.sum(numeric_only=True))]
    for group, part in parts:
        total = float(part["list_value"])
        for mode in BILLING_MODES:
            value = round(float(part[f"value_{mode}"]), 2)
            row = {
                "billing_mode": mode,
                "list_value": value,
                "share": value / total if total else 0.0,
            }
            if by:
                row = {by: group, **row}
            rows.append(row)
    return pd.DataFrame(rows, columns=[*keys, "billing_mode", "list_value", "share"])


def filter_options(con, scope: Scope) -> dict[str, list]:
    """Choices for the page filters: years with events, tiers, KAMs and services in scope."""
    ensure_summaries(con)  # reads service_months
    pairs = con.execute(
        "SELECT year(e.month) AS y, e.service_code FROM service_months e "
        "WHERE e.account_id IN (SELECT account_id FROM visible_accounts(?)) "
        "GROUP BY ALL",
        [scope.kam_param],
    ).fetchall()
    kams = con.execute(
        "SELECT DISTINCT a.kam_id, k.name FROM accounts a LEFT JOIN kams k ON k.kam_id = a.kam_id "
        "WHERE a.account_id IN (SELECT account_id FROM visible_accounts(?)) "
        "AND a.kam_id IS NOT NULL ORDER BY a.kam_id",
        [scope.kam_param],
    ).fetchall()
    accounts = con.execute(
        "SELECT a.account_id, a.name FROM accounts a "
        "WHERE a.account_id IN (SELECT account_id FROM visible_accounts(?)) ORDER BY a.account_id",
        [scope.kam_param],
    ).fetchall()
    return {
        "years": sorted({int(y) for y, _code in pairs if y is not None}, reverse=True),
        "kams": [(r[0], r[1] or r[0]) for r in kams],
        "services": _sorted_codes({code for _y, code in pairs}),
        "accounts": [(r[0], r[1] or r[0]) for r in accounts],
    }


def _sorted_codes(codes: set) -> list:
    """Service codes as ORDER BY service_code gives them (NULL last)."""
    return sorted(c for c in codes if c is not None) + ([None] if None in codes else [])
