"""Closing a bonus year: the statements are frozen as issued; reopening; issued vs today's data.

- Management or an admin closes a year once it is over and no survey entry of it waits for
  approval. Closing computes every KAM's standing at 31 December and stores it whole (figures,
  plan, pay, the accounts, ratings and surveys behind it) in `bonus_statements`.
- From then on the bonus page and the statement PDF/XLSX show the issued statement. When the
  year's live data has changed since (an import, a rating), today's figures are shown beside
  it as a difference; the issued figures never change silently.
- While the year is closed, writes of its inputs through the app are refused
  (closed_years.require_open_year). Reopening (admin or management, with a reason) lifts that;
  closing again issues new statements. Both actions are written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from dataclasses import asdict, dataclass

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.approvals import select_reviews
from kam_analytics.audit import write_audit
from kam_analytics.closed_years import select_year_close
from kam_analytics.errors import ConfigError, NotFoundError, Reason
from kam_analytics.i18n import fmt_date, fmt_eur, fmt_pct, t
from kam_analytics.metrics.bonus import BonusFigures, KamStanding, compute_standings
from kam_analytics.settings_store import BonusPlan
from kam_analytics.write_log import writing

# --- a standing as JSON and back ---------------------------------------------------------------


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    values = [v for v in series if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if values and all(isinstance(v, dt.date) for v in values):
        return "date"
    return "text"


def _cell(value, kind: str):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if kind == "date":
        return pd.Timestamp(value).date().isoformat()
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return str(value)


def frame_to_json(df: pd.DataFrame) -> dict:
    """A DataFrame as JSON-ready columns (name, kind) and rows."""
    kinds = [(str(c), _kind(df[c])) for c in df.columns]
    rows = [
        [_cell(v, k) for v, (_c, k) in zip(rec, kinds, strict=True)]
        for rec in df.itertuples(index=False, name=None)
    ]
    return {"columns": kinds, "rows": rows}


def frame_from_json(data: dict) -> pd.DataFrame:
    """The DataFrame written by frame_to_json, with its column kinds restored."""
    names = [c for c, _k in data["columns"]]
    df = pd.DataFrame(data["rows"], columns=names)
    for name, kind in data["columns"]:
        col = df[name]
        if kind == "bool":
            df[name] = col.fillna(False).astype(bool)
        elif kind == "int":
            df[name] = col.astype("int64") if col.notna().all() else col.astype(float)
        elif kind == "float":
            df[name] = pd.to_numeric(col, errors="coerce").astype(float)
        elif kind == "date":
            df[name] = pd.to_datetime(col)
        else:
            df[name] = col.astype(object).where(col.notna(), None)
    return df


def standing_to_json(s: KamStanding) -> str:
    """The whole standing (figures, plan, pay, accounts, surveys) as one JSON text."""
    return json.dumps(
        {
            "kam_id": s.kam_id,
            "name": s.name,
            "year": s.year,
            "as_of": s.as_of.isoformat(),
            "year_complete": s.year_complete,
            "plan": asdict(s.plan),
            "base_salary": s.base_salary,
            "target_bonus": s.target_bonus,
            "now": asdict(s.now),
            "best": asdict(s.best),
            "worst": asdict(s.worst),
            "accounts": frame_to_json(s.accounts),
            "surveys": frame_to_json(s.surveys),
        },
        ensure_ascii=False,
    )


def standing_from_json(text: str) -> KamStanding:
    """The standing stored by standing_to_json."""
    d = json.loads(text)
    return KamStanding(
        d["kam_id"],
        d["name"],
        int(d["year"]),
        dt.date.fromisoformat(d["as_of"]),
        bool(d["year_complete"]),
        BonusPlan(**d["plan"]),
        d["base_salary"],
        d["target_bonus"],
        frame_from_json(d["accounts"]),
        frame_from_json(d["surveys"]),
        BonusFigures(**d["now"]),
        BonusFigures(**d["best"]),
        BonusFigures(**d["worst"]),
    )


# --- close and reopen ------------------------------------------------------------------------

# Sessions of the app are threads of one process: two managers clicking "close" at once must
# not issue two sets of statements.
_close_lock = threading.Lock()


def close_year(con, scope: Scope, year: int, today: dt.date | None = None) -> int:
    """Issue and freeze every KAM's statement of a finished `year` (management/admin); logged."""
    scope.require_role("admin", "management")
    with _close_lock:
        return _close_year(con, scope, int(year), today or dt.date.today())


def _close_year(con, scope: Scope, year: int, today: dt.date) -> int:
    if dt.date(year, 12, 31) >= today:
        raise ConfigError(Reason.YEAR_NOT_OVER, year=year)
    if select_year_close(con, year) is not None:
        raise ConfigError(Reason.YEAR_ALREADY_CLOSED, year=year)
    pending = select_reviews(con, Scope.everything(scope.username), year=year)
    if len(pending):
        raise ConfigError(Reason.YEAR_PENDING_SURVEYS, year=year, n=len(pending))
    standings = compute_standings(
        con, year=year, as_of=dt.date(year, 12, 31), scope=Scope.everything(scope.username)
    )
    con.execute("BEGIN TRANSACTION")
    try:
        close_id = con.execute("SELECT nextval('close_id_seq')").fetchall()[0][0]
        with writing(con, "year_closes", "bonus_statements"):
            con.execute(
                "INSERT INTO year_closes (close_id, year, closed_at, closed_by) VALUES (?, ?, ?, ?)",
                [close_id, year, dt.datetime.now(), scope.username],
            )
            for s in standings:
                con.execute(
                    "INSERT INTO bonus_statements (close_id, kam_id, year, bonus, statement) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [close_id, s.kam_id, year, s.now.bonus, standing_to_json(s)],
                )
        write_audit(
            con,
            scope.username,
            "bonus.close_year",
            str(year),
            None,
            {"close_id": close_id, "bonus": {s.kam_id: s.now.bonus for s in standings}},
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return int(close_id)


def reopen_year(con, scope: Scope, year: int, reason: str) -> None:
    """Reopen a closed year so its inputs can change again (management/admin, reason); logged."""
    scope.require_role("admin", "management")
    year = int(year)
    close = select_year_close(con, year)
    if close is None:
        raise ConfigError(Reason.YEAR_NOT_CLOSED, year=year)
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise ConfigError(Reason.REOPEN_NO_REASON, year=year)
    con.execute("BEGIN TRANSACTION")
    try:
        # every close of the year in force (there is one; never leave a second one behind)
        with writing(con, "year_closes"):
            con.execute(
                "UPDATE year_closes SET reopened_at = ?, reopened_by = ?, reopen_reason = ? "
                "WHERE year = ? AND reopened_at IS NULL",
                [dt.datetime.now(), scope.username, reason, year],
            )
        write_audit(
            con,
            scope.username,
            "bonus.reopen_year",
            str(year),
            {
                "close_id": close["close_id"],
                "closed_at": close["closed_at"],
                "closed_by": close["closed_by"],
            },
            {"reason": reason},
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


# --- the issued statement and today's data -----------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """An issued statement, today's figures for the same year and what differs between them."""

    close_id: int
    closed_at: dt.datetime
    closed_by: str
    standing: KamStanding  # as issued
    live: BonusFigures  # today's data of the same year
    differences: tuple[tuple[str, object, object], ...]  # (part, issued, today)


def select_statement(con, close_id: int, kam_id: str) -> KamStanding | None:
    """The statement of one KAM issued by one close, or None."""
    rows = con.execute(
        "SELECT CAST(statement AS VARCHAR) FROM bonus_statements WHERE close_id = ? AND kam_id = ?",
        [int(close_id), kam_id],
    ).fetchall()
    return standing_from_json(rows[0][0]) if rows else None


def _differs(a, b, tol: float) -> bool:
    a_none = a is None or (isinstance(a, float) and math.isnan(a))
    b_none = b is None or (isinstance(b, float) and math.isnan(b))
    if a_none or b_none:
        return a_none != b_none
    return abs(float(a) - float(b)) > tol


def statement_differences(
    issued: KamStanding, live: KamStanding
) -> list[tuple[str, object, object]]:
    """The parts (accounts, R, M, F, target bonus, bonus) where today's data differs."""
    out = []
    if len(issued.counted) != len(live.counted):
        out.append(("accounts", len(issued.counted), len(live.counted)))
    for part in ("R", "M", "F"):
        a, b = getattr(issued.now, part), getattr(live.now, part)
        if _differs(a, b, 1e-9):
            out.append((part, a, b))
    if _differs(issued.now.target, live.now.target, 0.005):
        out.append(("target", issued.now.target, live.now.target))
    if _differs(issued.now.bonus, live.now.bonus, 0.005):
        out.append(("bonus", issued.now.bonus, live.now.bonus))
    return out


def issued_statement(con, *, year: int, kam_id: str, scope: Scope, live: KamStanding):
    """The issued statement of a closed year with today's `live` standing beside it.

    None while the year is open, or when the KAM had no statement at the close.
    """
    if not scope.sees_all and scope.kam_id != kam_id:
        raise NotFoundError(Reason.KAM_NOT_FOUND, kam_id=str(kam_id))
    close = select_year_close(con, year)
    if close is None:
        return None
    standing = select_statement(con, close["close_id"], kam_id)
    if standing is None:
        return None
    return Issued(
        int(close["close_id"]),
        close["closed_at"],
        close["closed_by"],
        standing,
        live.now,
        tuple(statement_differences(standing, live)),
    )


def _shown(part: str, value, lang: str) -> str:
    if part in ("target", "bonus"):
        return fmt_eur(value, lang)
    if part == "accounts":
        return str(value)
    return fmt_pct(value, lang, 1) if value is not None else t("bonus_undefined", lang)


def issued_note(issued: Issued, lang: str = "de") -> str:
    """'Issued on 05.01.2026 by leitung (statement no. 1).'"""
    return t(
        "bc_issued_note",
        lang,
        date=fmt_date(issued.closed_at, lang),
        user=issued.closed_by,
        n=issued.close_id,
    )


def difference_text(issued: Issued, lang: str = "de") -> str | None:
    """'Issued 8.400,00 €, today's data would give 7.980,00 € (M 85,0 % → 80,0 %)'; None if equal."""
    if not issued.differences:
        return None
    parts = [
        f"{t(f'bc_part_{p}', lang)} {_shown(p, a, lang)} → {_shown(p, b, lang)}"
        for p, a, b in issued.differences
        if p != "bonus"
    ]
    return t(
        "bc_difference",
        lang,
        issued=fmt_eur(issued.standing.now.bonus, lang),
        today=fmt_eur(issued.live.bonus, lang),
        parts="; ".join(parts) if parts else "–",
    )
