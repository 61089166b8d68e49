"""KAM bonus standing (DOMAIN.md "KAM pay"): the formula, now / best / worst, what-if, statement.

    bonus = target_bonus x min(cap, w_r * R' + w_m * M + w_f * F)

Rules as implemented:
- "Those accounts" of a KAM = their key accounts (tier KEY, current accounts.kam_id: the
  current KAM owns an account for the whole year, DEVELOPING.md) active on 1 January.
- R = share of those accounts active on the as-of date (year end for a complete year);
  R' = R when R >= retention gate, else 0.
- M = mean mandate score over those accounts (see metrics/mandates.py: at year end a missing
  rating counts 0 %; during the year only given ratings count and accounts without any
  rating are left out). When no account has a score yet (during the year), M is undefined.
- F = mean score of all surveys of those accounts dated 1 January .. as-of, divided by 10
  (scores clipped to 0-10). No survey: F is undefined. A survey a KAM entered counts only once
  management approved it (kam_analytics/approvals.py).
- A closed year's statement is the one issued at the close (kam_analytics/bonus_close.py);
  the functions here always compute from today's data.
- An undefined M or F is left out and the remaining weights are scaled up so their sum stays
  w_r + w_m + w_f.
- A KAM without key accounts active on 1 January: accounts 0, R/M/F undefined, bonus 0.
- A missing target bonus counts as 0 (bonus 0).
- Best case: every at-risk account among those accounts kept (active at the end); worst case:
  every one of them lost. For a complete year the figures are final: best = worst = now.
- Money is rounded to cents; nothing here ranks KAMs (rows sorted by kam_id).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.errors import ConfigError, NotFoundError, Reason
from kam_analytics.i18n import fmt_eur, fmt_number, fmt_pct
from kam_analytics.metrics import mandates
from kam_analytics.metrics.feedback import praise_quotes, survey_scores
from kam_analytics.metrics.retention import compute_retention
from kam_analytics.periods import is_year_complete, resolve_period
from kam_analytics.settings_store import BonusPlan, get_bonus_plan, get_kam_pay

REPORT_COLUMNS = [
    "kam_id",
    "name",
    "accounts",
    "R",
    "M",
    "F",
    "target_bonus",
    "bonus",
    "bonus_best",
    "bonus_worst",
]


@dataclass(frozen=True)
class BonusFigures:
    """The formula filled in: inputs, effective weights, score before/after cap and bonus."""

    R: float | None
    M: float | None
    F: float | None
    R_eff: float | None
    w_r: float
    w_m: float
    w_f: float
    score: float
    capped_score: float
    target: float
    bonus: float
    gate_met: bool | None
    cap_reached: bool


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def compute_bonus_figures(plan: BonusPlan, target, R, M, F) -> BonusFigures:
    """Apply the formula: gate on R, rescale weights for undefined M/F, cap, round to cents."""
    target_v = 0.0 if _missing(target) else max(0.0, float(target))
    if _missing(R):
        return BonusFigures(
            None, None, None, None, 0.0, 0.0, 0.0, 0.0, 0.0, target_v, 0.0, None, False
        )
    R = min(1.0, max(0.0, float(R)))
    M = None if _missing(M) else min(1.0, max(0.0, float(M)))
    F = None if _missing(F) else min(1.0, max(0.0, float(F)))
    gate_met = R >= plan.retention_gate - 1e-12
    r_eff = R if gate_met else 0.0
    total = plan.w_retention + plan.w_mandate + plan.w_feedback
    present = (
        plan.w_retention
        + (plan.w_mandate if M is not None else 0.0)
        + (plan.w_feedback if F is not None else 0.0)
    )
    scale = total / present if present > 0 else 0.0
    w_r = plan.w_retention * scale
    w_m = plan.w_mandate * scale if M is not None else 0.0
    w_f = plan.w_feedback * scale if F is not None else 0.0
    score = w_r * r_eff + w_m * (M or 0.0) + w_f * (F or 0.0)
    capped = min(plan.cap, score)
    bonus = round(target_v * capped + 1e-9, 2)
    return BonusFigures(
        R, M, F, r_eff, w_r, w_m, w_f, score, capped, target_v, bonus, gate_met, score > plan.cap
    )


@dataclass
class KamStanding:
    """One KAM's standing: the accounts behind it and the figures now, best and worst."""

    kam_id: str
    name: str | None
    year: int
    as_of: dt.date
    year_complete: bool
    plan: BonusPlan
    base_salary: float | None
    target_bonus: float | None
    accounts: pd.DataFrame  # every key account of the KAM, `counted` marks those accounts
    surveys: pd.DataFrame  # the surveys behind F
    now: BonusFigures
    best: BonusFigures
    worst: BonusFigures
    lost: frozenset = field(default_factory=frozenset)
    kept: frozenset = field(default_factory=frozenset)

    @property
    def counted(self) -> pd.DataFrame:
        """Those accounts: key accounts active on 1 January."""
        return self.accounts[self.accounts["counted"]]

    @property
    def at_risk_ids(self) -> list[str]:
        """Counted accounts with an at-risk signal."""
        c = self.counted
        return sorted(c.loc[c["at_risk"], "account_id"])


def _retention_share(ids, active, lost=(), kept=()) -> float:
    """R: share of the counted accounts `ids` (flags `active`) active at the end, with the
    accounts in `kept` forced active and those in `lost` forced inactive (lost wins)."""
    lost, kept = set(lost), set(kept)
    flags = [
        False if acc in lost else True if acc in kept else bool(flag)
        for acc, flag in zip(ids, active, strict=True)
    ]
    return sum(flags) / len(flags)


def _mean_or_none(values: np.ndarray) -> float | None:
    """Mean of the known values (None when none): numpy sum / count, what pandas' mean does
    (pairwise sum), without its per-call overhead."""
    values = values[~np.isnan(values)]
    return float(values.sum() / len(values)) if len(values) else None


def _mandate_and_feedback(counted: pd.DataFrame, surveys: pd.DataFrame):
    """M and F of the counted accounts (None when undefined); independent of lost / kept.

    `surveys` are the surveys of exactly these accounts (the callers hand in only those).
    """
    M = _mean_or_none(counted["mandate_score"].to_numpy(dtype=np.float64))
    F = _feedback_share(surveys["score"].to_numpy(dtype=np.float64))
    return M, F


def _feedback_share(scores: np.ndarray) -> float | None:
    """F: the mean survey score, scores clipped to 0-10, divided by 10 (None without one)."""
    scores = scores[~np.isnan(scores)]
    return float(np.clip(scores, 0, 10).sum() / len(scores)) / 10.0 if len(scores) else None


def _figures_for(plan, target, counted: pd.DataFrame, surveys: pd.DataFrame, lost=(), kept=()):
    """R, M, F from the counted accounts with some forced lost / kept, and the formula."""
    if counted.empty:
        return compute_bonus_figures(plan, target, None, None, None)
    R = _retention_share(counted["account_id"], counted["active_end"], lost, kept)
    M, F = _mandate_and_feedback(counted, surveys)
    return compute_bonus_figures(plan, target, R, M, F)


def select_kams(con, scope: Scope) -> pd.DataFrame:
    """KAMs the scope may see: all (kams table plus KAM ids used by accounts) or only their own."""
    only = None if scope.sees_all else (scope.kam_id or "\x00none")
    return con.execute(
        """
        WITH ids AS (
            SELECT kam_id FROM kams
            UNION SELECT kam_id FROM accounts WHERE kam_id IS NOT NULL
        )
        SELECT ids.kam_id, k.name FROM ids LEFT JOIN kams k USING (kam_id)
        WHERE ? IS NULL OR ids.kam_id = ?
        ORDER BY ids.kam_id
        """,
        [only, only],
    ).df()


def _accounts_frame(
    con, year: int, as_of: dt.date, scope: Scope
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Key accounts with retention flags and mandate scores; surveys of the year."""
    ret = compute_retention(con, year=year, as_of=as_of, scope=scope, tiers=("KEY",))
    mand = mandates.select_mandates(con, scope, year)
    year_end = is_year_complete(year, as_of)
    keep = ["account_id", *mandates.RATINGS]
    mand = mand[keep] if not mand.empty else pd.DataFrame(columns=keep)
    df = ret.merge(mand, on="account_id", how="left")
    for c in mandates.RATINGS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["mandate_score"] = [
        mandates.mandate_score([getattr(r, c) for c in mandates.RATINGS], year_end)
        for r in df.itertuples(index=False)
    ]
    df["mandate_score"] = df["mandate_score"].astype(float)
    df["counted"] = df["active_start"].astype(bool) if not df.empty else []
    surveys = survey_scores(con, scope=scope, year=year, until=as_of)
    surveys = surveys[["feedback_id", "account_id", "date", "score", "comment"]]
    if not df.empty:
        n = surveys.groupby("account_id")["score"].agg(["count", "mean"])
        df = df.merge(
            n.rename(columns={"count": "surveys", "mean": "survey_mean"}),
            left_on="account_id",
            right_index=True,
            how="left",
        )
        df["surveys"] = df["surveys"].fillna(0).astype(int)
    else:
        df["surveys"] = []
        df["survey_mean"] = []
    return df, surveys


@dataclass(frozen=True)
class _KamFigures:
    """One KAM's figures without the frames behind them (what report_bonus needs)."""

    kam_id: str
    name: str | None
    base_salary: float | None
    target_bonus: float | None
    counted: int  # number of counted accounts
    now: BonusFigures
    best: BonusFigures
    worst: BonusFigures
    rows: np.ndarray | None  # positions of the KAM's accounts in the accounts frame
    survey_rows: np.ndarray | None  # positions of the KAM's surveys in the surveys frame


@dataclass(frozen=True)
class _StandingInputs:
    year: int
    as_of: dt.date
    complete: bool
    plan: BonusPlan
    accounts: pd.DataFrame
    surveys: pd.DataFrame
    lost: frozenset
    kept: frozenset
    figures: list[_KamFigures]


def _compute_figures(
    con, *, year, as_of, scope: Scope, kam_ids=None, lost=None, kept=None
) -> _StandingInputs:
    """Every visible KAM's (or `kam_ids`') figures now / best / worst, from numpy arrays.

    The one place the standing's figures are computed (compute_standings and report_bonus
    read it); no per-KAM DataFrame is built here: with 400 KAMs slicing frames per KAM took
    most of the report's time.
    """
    year, as_of = resolve_period(year, as_of)
    plan = get_bonus_plan(con, year)
    pay = get_kam_pay(con, year, scope).set_index("kam_id")
    kams = select_kams(con, scope)
    if kam_ids is not None:
        kams = kams[kams["kam_id"].isin(kam_ids)]
    accounts, surveys = _accounts_frame(con, year, as_of, scope)
    lost_all = set(lost or ())
    kept_all = set(kept or ())
    if lost_all & kept_all:
        raise ConfigError(Reason.LOST_AND_KEPT, accounts=", ".join(sorted(lost_all & kept_all)))
    complete = is_year_complete(year, as_of)
    # rows of each KAM's accounts, computed once instead of one mask per KAM
    rows_of = accounts.groupby("kam_id", sort=False).indices if not accounts.empty else {}
    # each KAM's surveys (those of her counted accounts), in their order, found once: a mask
    # over every survey per KAM took seconds with 400 KAMs
    counted_all = accounts[accounts["counted"]] if not accounts.empty else accounts
    kam_of = dict(zip(counted_all["account_id"], counted_all["kam_id"], strict=True))
    surveys_of = surveys.groupby(surveys["account_id"].map(kam_of), sort=False).indices
    n = len(accounts)
    ids_all = accounts["account_id"].to_numpy(dtype=object) if n else np.array([], dtype=object)
    counted_flags = accounts["counted"].to_numpy(dtype=bool) if n else np.array([], dtype=bool)
    active_all = accounts["active_end"].to_numpy(dtype=object) if n else np.array([], dtype=object)
    risk_all = accounts["at_risk"].to_numpy(dtype=bool) if n else np.array([], dtype=bool)
    mandate_all = (
        accounts["mandate_score"].to_numpy(dtype=np.float64) if n else np.array([], dtype=float)
    )
    score_all = surveys["score"].to_numpy(dtype=np.float64)
    pay_target = pay["target_bonus"].to_dict() if "target_bonus" in pay else {}
    pay_base = pay["base_salary"].to_dict() if "base_salary" in pay else {}
    figures = []
    for kam in kams.itertuples(index=False):
        idx = rows_of.get(kam.kam_id)
        target = pay_target.get(kam.kam_id)
        base = pay_base.get(kam.kam_id)
        target = None if _missing(target) else float(target)
        base = None if _missing(base) else float(base)
        found = surveys_of.get(kam.kam_id)
        mine = idx[counted_flags[idx]] if idx is not None else np.array([], dtype=np.intp)
        if not len(mine):
            now = best = worst = compute_bonus_figures(plan, target, None, None, None)
        else:
            # M and F do not depend on which accounts are lost or kept: computed once
            M = _mean_or_none(mandate_all[mine])
            F = _feedback_share(score_all[found] if found is not None else score_all[:0])
            ids, active = list(ids_all[mine]), list(active_all[mine])

            def figures_of(lost_ids, kept_ids, ids=ids, active=active, M=M, F=F, target=target):
                R = _retention_share(ids, active, lost_ids, kept_ids)
                return compute_bonus_figures(plan, target, R, M, F)

            now = figures_of(lost_all, kept_all)
            if complete:
                best = worst = now
            else:
                risky = set(ids_all[mine][risk_all[mine]])
                best = figures_of(lost_all - risky, kept_all | risky)
                worst = figures_of(lost_all | risky, kept_all - risky)
        name = None if _missing(kam.name) or kam.name is pd.NA else str(kam.name)
        figures.append(
            _KamFigures(kam.kam_id, name, base, target, len(mine), now, best, worst, idx, found)
        )
    return _StandingInputs(
        year,
        as_of,
        complete,
        plan,
        accounts,
        surveys,
        frozenset(lost_all),
        frozenset(kept_all),
        figures,
    )


def compute_standings(
    con,
    *,
    year: int | None,
    as_of: dt.date | None = None,
    scope: Scope,
    kam_ids: list[str] | None = None,
    lost: dict[str, set] | set | None = None,
    kept: dict[str, set] | set | None = None,
) -> list[KamStanding]:
    """The standing of every visible KAM (or of `kam_ids`), with optional forced lost / kept."""
    got = _compute_figures(
        con, year=year, as_of=as_of, scope=scope, kam_ids=kam_ids, lost=lost, kept=kept
    )
    accounts, surveys = got.accounts, got.surveys
    no_rows = accounts.iloc[0:0]
    no_surveys = surveys.iloc[0:0].reset_index(drop=True)
    out = []
    for f in got.figures:
        rows = f.rows
        mine = (accounts.iloc[rows] if rows is not None else no_rows).reset_index(drop=True)
        found = f.survey_rows
        my_surveys = surveys.iloc[found].reset_index(drop=True) if found is not None else no_surveys
        out.append(
            KamStanding(
                f.kam_id,
                f.name,
                got.year,
                got.as_of,
                got.complete,
                got.plan,
                f.base_salary,
                f.target_bonus,
                mine,
                my_surveys,
                f.now,
                f.best,
                f.worst,
                got.lost,
                got.kept,
            )
        )
    return out


def get_standing(
    con,
    *,
    kam_id: str,
    year: int | None,
    as_of: dt.date | None = None,
    scope: Scope,
    lost=(),
    kept=(),
) -> KamStanding:
    """One KAM's standing, with a what-if: accounts forced lost or kept."""
    res = compute_standings(
        con, year=year, as_of=as_of, scope=scope, kam_ids=[kam_id], lost=set(lost), kept=set(kept)
    )
    if not res:
        raise NotFoundError(Reason.KAM_NOT_VISIBLE, kam_id=str(kam_id))
    return res[0]


def what_if_bonus(
    con,
    *,
    kam_id: str,
    year: int | None,
    as_of: dt.date | None = None,
    scope: Scope,
    lost=(),
    kept=(),
) -> BonusFigures:
    """The bonus if the accounts in `lost` were lost and those in `kept` kept at year end."""
    return get_standing(
        con, kam_id=kam_id, year=year, as_of=as_of, scope=scope, lost=lost, kept=kept
    ).now


def report_bonus(
    con, *, year: int | None, as_of: dt.date | None = None, scope: Scope
) -> pd.DataFrame:
    """`report bonus`: one row per visible KAM with the documented columns."""
    rows = []
    for s in _compute_figures(con, year=year, as_of=as_of, scope=scope).figures:
        rows.append(
            {
                "kam_id": s.kam_id,
                "name": s.name,
                "accounts": int(s.counted),
                "R": s.now.R,
                "M": s.now.M,
                "F": s.now.F,
                "target_bonus": None if s.target_bonus is None else round(s.target_bonus, 2),
                "bonus": round(s.now.bonus, 2),
                "bonus_best": round(s.best.bonus, 2),
                "bonus_worst": round(s.worst.bonus, 2),
            }
        )
    df = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    df["accounts"] = df["accounts"].astype("int64")
    for c in ("R", "M", "F", "target_bonus", "bonus", "bonus_best", "bonus_worst"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


# --- the formula in words ------------------------------------------------------------------


def formula_text(plan: BonusPlan, lang: str = "de") -> str:
    """The plan's formula with its weights, gate and cap."""
    n = lambda v: fmt_number(v, lang, 2)  # noqa: E731
    return (
        f"Bonus = Zielbonus × min({n(plan.cap)}; {n(plan.w_retention)}·R' + "
        f"{n(plan.w_mandate)}·M + {n(plan.w_feedback)}·F), R' = R ≥ {n(plan.retention_gate)} ? R : 0"
        if lang == "de"
        else f"bonus = target × min({n(plan.cap)}, {n(plan.w_retention)}·R' + "
        f"{n(plan.w_mandate)}·M + {n(plan.w_feedback)}·F), R' = R if R ≥ {n(plan.retention_gate)} else 0"
    )


def filled_formula(f: BonusFigures, plan: BonusPlan, lang: str = "de") -> str:
    """The formula with the figures filled in, as a KAM can recompute it by hand."""
    n3 = lambda v: fmt_number(v, lang, 4)  # noqa: E731
    sep = ";" if lang == "de" else ","
    if f.R is None:
        return (
            "keine Schlüsselkunden am 1. Januar aktiv → Bonus = 0,00 €"
            if lang == "de"
            else "no key accounts active on 1 January → bonus = €0.00"
        )
    terms = [f"{n3(f.w_r)}·{n3(f.R_eff)}"]
    if f.M is not None:
        terms.append(f"{n3(f.w_m)}·{n3(f.M)}")
    if f.F is not None:
        terms.append(f"{n3(f.w_f)}·{n3(f.F)}")
    target = fmt_eur(f.target, lang)
    return (
        f"{target} × min({n3(plan.cap)}{sep} {' + '.join(terms)}) = {target} × "
        f"min({n3(plan.cap)}{sep} {n3(f.score)}) = {target} × {n3(f.capped_score)} = "
        f"{fmt_eur(f.bonus, lang)}"
    )


def figure_notes(f: BonusFigures, plan: BonusPlan, lang: str = "de") -> list[str]:
    """Why a term is as it is: gate missed, weights rescaled, cap reached."""
    notes = []
    de = lang == "de"
    if f.R is None:
        return notes
    if not f.gate_met:
        notes.append(
            f"R = {fmt_pct(f.R, lang)} liegt unter der Schwelle {fmt_pct(plan.retention_gate, lang)}: "
            "der Bindungsteil zählt 0."
            if de
            else f"R = {fmt_pct(f.R, lang)} is below the gate {fmt_pct(plan.retention_gate, lang)}: "
            "the retention part pays 0."
        )
    if f.M is None or f.F is None:
        left = [x for x, v in (("M", f.M), ("F", f.F)) if v is None]
        notes.append(
            f"{' und '.join(left)} nicht definiert: weggelassen, übrige Gewichte hochskaliert "
            "(Summe bleibt gleich)."
            if de
            else f"{' and '.join(left)} not defined: left out, remaining weights scaled up (same sum)."
        )
    if f.cap_reached:
        notes.append(
            f"Deckel erreicht: {fmt_number(f.score, lang, 3)} → {fmt_number(plan.cap, lang, 3)}."
            if de
            else f"Cap reached: {fmt_number(f.score, lang, 3)} → {fmt_number(plan.cap, lang, 3)}."
        )
    return notes


def standing_praise(con, standing: KamStanding, scope: Scope, limit: int = 5) -> pd.DataFrame:
    """Praise from the KAM's accounts in the standing's year."""
    return praise_quotes(con, scope=scope, kam_id=standing.kam_id, year=standing.year, limit=limit)
