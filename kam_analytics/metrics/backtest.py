"""How far to trust the at-risk flags: a back-test against what happened by year end.

For a past year Y and an as-of date in it (30 June by default):
- *population*: the visible accounts (of the chosen tiers) that the orders show active on the
  as-of date — only a customer who is still buying can be lost;
- *flags*: the at-risk signals as retention.compute_retention computes them on the as-of date
  from orders and surveys dated up to then. ``mandate_incomplete`` is left out: mandate answers
  carry no date, so what was answered by then is not known;
- *outcome*: lost = no order in the activity window up to 31 December of Y (orders only: the
  CRM status is today's and would leak the future into the past);
- *risk score* (for the ranking quality): how far the strongest signal is past its threshold
  (days since the last order / gap limit, revenue drop / threshold, satisfaction drop /
  threshold; 1 = on the threshold). An account with too few orders for a gap limit (fewer
  than 3 order dates) is measured against the activity window instead (days since the last
  order / window): without it, the rare buyers — the most often lost on real data — would
  all score 0. Beside it a *recency baseline*: days since the last order.

Precision = lost among flagged; recall = flagged among lost; AUC = the chance that a lost
account has a higher score than a kept one (ties count half).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.errors import ConfigError, Reason
from kam_analytics.metrics.retention import (
    compute_retention,
    risk_scores,
    select_active_by_orders,
)
from kam_analytics.settings_store import RetentionSettings, get_retention_settings

METHODS = ("flags", "recency")
REPORT_COLUMNS = [
    "year",
    "as_of",
    "method",
    "accounts",
    "flagged",
    "lost",
    "flagged_lost",
    "unflagged_lost",
    "precision",
    "recall",
    "lost_rate_unflagged",
    "auc",
]
BACKTESTED_SIGNALS = ("order_gap", "revenue_drop", "satisfaction_drop")


@dataclass(frozen=True)
class BacktestResult:
    """One method's confusion counts and quality figures on one year's population."""

    year: int
    as_of: dt.date
    method: str
    accounts: int
    flagged: int
    lost: int
    flagged_lost: int

    @property
    def unflagged_lost(self) -> int:
        """Lost accounts that were not flagged."""
        return self.lost - self.flagged_lost

    @property
    def precision(self) -> float | None:
        """Share of the flagged accounts that were lost."""
        return self.flagged_lost / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        """Share of the lost accounts that were flagged."""
        return self.flagged_lost / self.lost if self.lost else None

    @property
    def lost_rate_unflagged(self) -> float | None:
        """Share of the accounts without a flag that were lost."""
        rest = self.accounts - self.flagged
        return self.unflagged_lost / rest if rest else None


def compute_auc(scores: list[float], outcomes: list[bool]) -> float | None:
    """Probability that a lost account scores higher than a kept one (ties count half)."""
    lost = [s for s, o in zip(scores, outcomes, strict=True) if o]
    kept = [s for s, o in zip(scores, outcomes, strict=True) if not o]
    if not lost or not kept:
        return None
    ranks = pd.Series(list(scores)).rank(method="average")
    lost_ranks = sum(r for r, o in zip(ranks, outcomes, strict=True) if o)
    n1, n0 = len(lost), len(kept)
    return float((lost_ranks - n1 * (n1 + 1) / 2) / (n1 * n0))


def _known(v) -> bool:
    return v is not None and not pd.isna(v)


def backtest_frame(
    con,
    *,
    year: int,
    scope: Scope,
    as_of: dt.date | None = None,
    tiers: tuple[str, ...] | None = None,
    settings: RetentionSettings | None = None,
) -> pd.DataFrame:
    """One row per account of the population: flagged, signals, scores and the outcome."""
    year = int(year)
    as_of = as_of or dt.date(year, 6, 30)
    year_end = dt.date(year, 12, 31)
    if not dt.date(year, 1, 1) <= as_of < year_end:
        raise ConfigError(Reason.BACKTEST_AS_OF_OUTSIDE_YEAR, as_of=as_of.isoformat(), year=year)
    if year_end >= dt.date.today():
        raise ConfigError(Reason.BACKTEST_YEAR_NOT_OVER, year=year)
    settings = settings or get_retention_settings(con)
    then = compute_retention(
        con, year=year, as_of=as_of, scope=scope, tiers=tiers, settings=settings
    )
    # the outcome needs one flag per account: not a second compute_retention (50,000 accounts)
    ended = select_active_by_orders(con, scope, year_end, settings.activity_window_days, tiers)
    cols = ["account_id", "name", "tier", "kam_id", "signals", "flagged", "score", "recency"]
    if then.empty:
        return pd.DataFrame(columns=[*cols, "lost"])
    pop = then[then["active_end_by_orders"].astype(bool)].copy()
    # a handful of distinct signal texts: each filtered once, then looked up
    kept = {
        sig: ";".join(s for s in str(sig or "").split(";") if s in BACKTESTED_SIGNALS)
        for sig in pop["signals"].unique()
    }
    pop["signals"] = [kept[sig] for sig in pop["signals"].tolist()]
    pop["flagged"] = pop["signals"] != ""
    pop["score"] = risk_scores(
        settings,
        order_dates=pop["order_dates"],
        days_since_last_order=pop["days_since_last_order"],
        gap_limit_days=pop["gap_limit_days"],
        revenue_change=pop["revenue_change"],
        satisfaction_change=pop["sat_change"],
    )
    pop["recency"] = pop["days_since_last_order"].astype(float)
    pop["lost"] = np.fromiter((a not in ended for a in pop["account_id"].tolist()), bool, len(pop))
    return pop[[*cols, "lost"]].reset_index(drop=True)


def evaluate_backtest(frame: pd.DataFrame, year: int, as_of: dt.date) -> list[BacktestResult]:
    """The flags and the recency baseline on the same population.

    The baseline flags as many accounts as the flags did: those longest without an order.
    """
    n = len(frame)
    lost = int(frame["lost"].sum()) if n else 0
    flagged = int(frame["flagged"].sum()) if n else 0
    hit = int((frame["flagged"] & frame["lost"]).sum()) if n else 0
    out = [BacktestResult(year, as_of, "flags", n, flagged, lost, hit)]
    ranked = frame.sort_values(["recency", "account_id"], ascending=[False, True]).head(flagged)
    out.append(BacktestResult(year, as_of, "recency", n, flagged, lost, int(ranked["lost"].sum())))
    return out


def report_backtest(
    con, *, year: int | None, as_of: dt.date | None = None, scope: Scope
) -> pd.DataFrame:
    """`report backtest`: flags and recency baseline of one ended year (default: last year)."""
    year = int(year) if year is not None else dt.date.today().year - 1
    as_of = as_of or dt.date(year, 6, 30)
    frame = backtest_frame(con, year=year, scope=scope, as_of=as_of)
    rows = []
    for r in evaluate_backtest(frame, year, as_of):
        score = "score" if r.method == "flags" else "recency"
        auc = compute_auc(list(frame[score]), list(frame["lost"])) if len(frame) else None
        rows.append(
            {
                "year": r.year,
                "as_of": r.as_of,
                "method": r.method,
                "accounts": r.accounts,
                "flagged": r.flagged,
                "lost": r.lost,
                "flagged_lost": r.flagged_lost,
                "unflagged_lost": r.unflagged_lost,
                "precision": r.precision,
                "recall": r.recall,
                "lost_rate_unflagged": r.lost_rate_unflagged,
                "auc": auc,
            }
        )
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)


def backtest_thresholds(
    con,
    *,
    year: int,
    scope: Scope,
    changes: dict[str, list[float]],
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """How the flags would have done with other thresholds: one row per (setting, value)."""
    base = get_retention_settings(con)
    rows = []
    for name, values in changes.items():
        for value in values:
            settings = dataclasses.replace(base, **{name: value})
            frame = backtest_frame(con, year=year, scope=scope, as_of=as_of, settings=settings)
            flags = evaluate_backtest(frame, year, as_of or dt.date(year, 6, 30))[0]
            rows.append(
                {
                    "setting": name,
                    "value": value,
                    "current": value == getattr(base, name),
                    "flagged": flags.flagged,
                    "flagged_lost": flags.flagged_lost,
                    "precision": flags.precision,
                    "recall": flags.recall,
                }
            )
    return pd.DataFrame(rows)


def describe_backtest(report: pd.DataFrame, lang: str, window_days: int) -> list[str]:
    """The back-test in sentences a sales director understands (the flags, then the baseline)."""
    from kam_analytics.i18n import fmt_date, fmt_pct, t

    rows = {r["method"]: r for r in report.to_dict(orient="records")}
    flags, base = rows["flags"], rows["recency"]
    as_of = fmt_date(flags["as_of"], lang)
    lines = [t("bt_caption", lang, as_of=as_of, days=window_days)]
    if flags["flagged"]:
        rest = flags["accounts"] - flags["flagged"]
        lines.append(
            t(
                "bt_sentence_flags",
                lang,
                flagged=flags["flagged"],
                hit=flags["flagged_lost"],
                precision=fmt_pct(flags["precision"], lang, 0),
                rest_lost=flags["unflagged_lost"],
                rest=rest,
                rest_rate=fmt_pct(flags["lost_rate_unflagged"], lang, 0),
            )
        )
        if flags["lost"]:
            lines.append(
                t(
                    "bt_sentence_recall",
                    lang,
                    lost=flags["lost"],
                    hit=flags["flagged_lost"],
                    recall=fmt_pct(flags["recall"], lang, 0),
                )
            )
        lines.append(
            t("bt_sentence_recency", lang, flagged=base["flagged"], hit=base["flagged_lost"])
        )
    else:
        lines.append(
            t("bt_sentence_none", lang, as_of=as_of, lost=flags["lost"], accounts=flags["accounts"])
        )
    auc, auc_base = flags["auc"], base["auc"]
    if _known(auc) and _known(auc_base):
        key = "bt_better" if auc > auc_base else "bt_worse"
        lines.append(t(key, lang, auc=fmt_pct(auc, lang, 0), auc_base=fmt_pct(auc_base, lang, 0)))
    return lines
