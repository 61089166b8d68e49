"""Page speed on the large demo company, against the same questions answered in plain pandas.

    bash benchmarks/run.sh                       # or: .venv/bin/python -m benchmarks.bench_pages
    .venv/bin/python -m benchmarks.bench_pages --reps 5 --skip-import --pages overview,bonus

Builds the `large` demo once into benchmarks/out/large.duckdb (reused when present), then, per
page, runs the same kam_analytics functions the page file calls with the page's default widget
values (admin scope: sees every account; current year, today):

- cold: a fresh Python process and a fresh DuckDB connection, first call (imports not timed);
- warm: the same calls repeated in that process (what every widget click costs);
- analyst: the same figures computed the way an analyst would without the product: every table
  the answer needs loaded into pandas (``SELECT * FROM t``) and aggregated there, in the same
  process, after the product's runs.

Every figure is the median over --reps processes. Each `report` kind (every kind of
kam_analytics/reports.REPORTS) is measured like a page. The import of a 100,000-row export reuses
benchmarks/bench_import.py. Peak memory is the RSS high-water mark of one process that imports
the app's libraries (streamlit, plotly) and runs every page's computations twice.

Budgets (issue 8): page warm <= 0.5 s, page cold <= 2 s, report <= 2 s, peak memory < 2 GB,
product >= 5x faster than the analyst on every analysis page. The table is printed and written
to benchmarks/out/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
LARGE_DB = OUT / "large.duckdb"

WARM_BUDGET_S = 0.5
COLD_BUDGET_S = 2.0
REPORT_BUDGET_S = 2.0
MEMORY_BUDGET_MB = 2048
MIN_RATIO = 5.0

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- the product: what each page file calls, with its default widget values ------------------


def page_overview(con, scope):
    """pages/overview.py (default year and as-of date)."""
    from kam_analytics.page_data.overview import load_overview

    return load_overview(con, scope)


def page_services(con, scope):
    """pages/services.py (no filter but the default year, all five summary tabs, the ladder)."""
    from kam_analytics.i18n import select_service_names
    from kam_analytics.page_data.services import load_filter_options, load_services

    select_service_names(con, "de")
    opts = load_filter_options(con, scope)
    return load_services(con, scope, year=opts["years"][0] if opts["years"] else None)


def page_giveaways(con, scope):
    """pages/giveaways.py (default year, the four total tabs)."""
    from kam_analytics.i18n import select_service_names
    from kam_analytics.page_data.giveaways import load_giveaways
    from kam_analytics.page_data.services import load_filter_options

    select_service_names(con, "de")
    opts = load_filter_options(con, scope)
    return load_giveaways(con, scope, year=opts["years"][0] if opts["years"] else None)


def page_matrix(con, scope):
    """pages/matrix.py (table, catalogue, editor frame, the PDF and XLSX the page builds)."""
    from kam_analytics import catalogue as cat
    from kam_analytics.exports import matrix_sheet as ms

    year = dt.date.today().year
    sorted({*cat.matrix_years(con), year, year + 1})
    cat.matrix_source_year(con, year)
    table = ms.sheet_table(con, year, "de")
    ms.matrix_pdf(con, year, "de")
    ms.matrix_xlsx(con, year, "de")
    cat.select_catalogue(con, active_only=True)
    cat.matrix_wide(cat.select_matrix(con, year))
    cat.select_catalogue(con)
    return table


def page_profitability(con, scope):
    """pages/profitability.py (default year)."""
    from kam_analytics.i18n import select_service_names
    from kam_analytics.page_data.profitability import load_profitability
    from kam_analytics.page_data.services import load_filter_options

    opts = load_filter_options(con, scope)
    data = load_profitability(con, scope, year=opts["years"][0] if opts["years"] else None)
    select_service_names(con, "de")
    return data


def page_retention(con, scope):
    """pages/retention.py (KEY tier, today, trend of the first four at-risk accounts, cohorts,
    the first AT_RISK_SHOWN at-risk accounts explained; the back-test is computed on demand)."""
    from kam_analytics.metrics import retention as rt
    from kam_analytics.page_data.retention import AT_RISK_SHOWN, backtest_years, load_retention

    data = load_retention(con, scope)
    for rec in data.at_risk.head(AT_RISK_SHOWN).to_dict(orient="records"):
        rt.explain_signals(rec, "de")
    backtest_years(con, scope)
    return data


def page_mandate(con, scope):
    """pages/mandate.py (current year, first account)."""
    from kam_analytics.page_data.mandate import load_mandate

    return load_mandate(con, scope)


def page_bonus(con, scope):
    """pages/bonus.py (current year, today, first KAM; the statement files are built on click)."""
    from kam_analytics.metrics import bonus as bn
    from kam_analytics.metrics.retention import explain_signals
    from kam_analytics.page_data.bonus import load_bonus

    data = load_bonus(con, scope)
    s = data.standing
    bn.formula_text(s.plan, "de")
    bn.filled_formula(s.now, s.plan, "de")
    bn.figure_notes(s.now, s.plan, "de")
    for r in s.counted.to_dict(orient="records"):
        explain_signals(r, "de")
    [str(c) for c in data.praise["comment"]]
    return data


def page_account(con, scope):
    """pages/account.py (first account, current year)."""
    from kam_analytics.page_data.account import load_account

    return load_account(con, scope)


def page_settings(con, scope):
    """pages/settings.py."""
    from kam_analytics.audit import list_audit
    from kam_analytics.settings_store import get_bonus_plan, get_kam_pay, get_retention_settings

    year = dt.date.today().year
    get_retention_settings(con)
    get_bonus_plan(con, year)
    pay = get_kam_pay(con, year, scope)
    log = list_audit(con, scope, limit=50, action_prefix="settings.")
    return pay, log


def page_audit(con, scope):
    """pages/audit.py."""
    from kam_analytics.audit import audit_choices, list_audit

    audit_choices(con, scope)
    return list_audit(con, scope, limit=500)


def page_users(con, scope):
    """pages/users.py."""
    from kam_analytics import users

    return users.list_users(con, scope=scope), users.select_kams(con)


def page_data_import(con, scope):
    """pages/data_import.py before a file is dropped: saved profiles and the import history."""
    from kam_analytics.ingest.load import list_imports
    from kam_analytics.ingest.profiles import list_profiles

    list_profiles()
    return list_imports(con)


# kinds whose report has no current-year figure: their CLI default (backtest: last year)
REPORT_YEAR_DEFAULT = {"backtest": None}


def _report(kind):
    def run(con, scope):
        from kam_analytics.reports import load_report

        year = REPORT_YEAR_DEFAULT.get(kind, dt.date.today().year)
        return load_report(con, kind, year=year, as_of=None, scope=scope)

    run.__doc__ = f"`python -m kam_analytics report {kind}` for the current year."
    return run


PAGES = {
    "overview": page_overview,
    "services": page_services,
    "giveaways": page_giveaways,
    "matrix": page_matrix,
    "profitability": page_profitability,
    "retention": page_retention,
    "mandate": page_mandate,
    "bonus": page_bonus,
    "account": page_account,
    "settings": page_settings,
    "audit": page_audit,
    "users": page_users,
    "data_import": page_data_import,
}


def _report_kinds() -> tuple[str, ...]:
    """Every kind of kam_analytics/reports.REPORTS: a new report is measured without an edit."""
    from kam_analytics.reports import REPORTS

    return tuple(REPORTS)


REPORT_KINDS = _report_kinds()


# --- the analyst: all tables into pandas, aggregated there -----------------------------------


def _load(con, table: str):
    return con.execute(f"SELECT * FROM {table}").df()  # noqa: S608 - fixed table names


def _pd():
    import pandas as pd

    return pd


def _analyst_events(con, year: int | None):
    """service_events + express shipments as one frame with tier, KAM and billing mode."""
    pd = _pd()
    ev = _load(con, "service_events")
    sh = _load(con, "shipments")
    acc = _load(con, "accounts")
    kams = _load(con, "kams")
    cat = _load(con, "service_catalogue")
    ex = sh[sh["ship_mode"] == "express"]
    c = cat.set_index("service_code").loc["EXPRESS_FREIGHT"]
    cost = ex["freight_cost"].astype(float).fillna(0)
    if pd.notna(c.get("surcharge_fixed")):
        lv = pd.Series(float(c["surcharge_fixed"]), index=ex.index)
    elif pd.notna(c.get("surcharge_pct")):
        lv = cost * (1 + float(c["surcharge_pct"]) / 100)
    else:
        lv = cost
    express = pd.DataFrame(
        {
            "account_id": ex["account_id"],
            "date": ex["ship_date"],
            "service_code": "EXPRESS_FREIGHT",
            "cost": cost,
            "list_value": lv.round(2),
            "billed_amount": ex["freight_charged"].astype(float).fillna(0),
            "given_mode": ex["billing_mode"],
            "waiver": ex["waiver"],
        }
    )
    own = pd.DataFrame(
        {
            "account_id": ev["account_id"],
            "date": ev["date"],
            "service_code": ev["service_code"],
            "cost": ev["cost"].astype(float).fillna(0),
            "list_value": ev["list_value"].astype(float).fillna(0),
            "billed_amount": ev["billed_amount"].astype(float).fillna(0),
            "given_mode": ev["billing_mode"],
            "waiver": ev["waiver"],
        }
    )
    e = pd.concat([own, express], ignore_index=True)
    e["date"] = pd.to_datetime(e["date"])
    if year is not None:
        e = e[e["date"].dt.year == year]
    e["unbilled_value"] = (e["list_value"] - e["billed_amount"]).round(2)
    given = e["given_mode"].astype(object).str.strip().str.lower()
    derived = pd.Series("silent", index=e.index, dtype=object)
    derived[(e["billed_amount"] == 0) & e["waiver"].fillna(False).astype(bool)] = "waived"
    derived[e["billed_amount"] >= e["list_value"]] = "billed"
    e["billing_mode"] = given.where(given.isin(["silent", "waived", "billed"]), derived)
    e = e.merge(acc[["account_id", "name", "tier", "kam_id"]], on="account_id", how="inner")
    e = e.merge(
        kams[["kam_id", "name"]].rename(columns={"name": "kam_name"}), on="kam_id", how="left"
    )
    e["month"] = e["date"].dt.strftime("%Y-%m")
    return e, acc


def _analyst_summaries(e):
    out = []
    for keys in (
        ["account_id", "name", "tier", "kam_name"],
        ["tier"],
        ["kam_id", "kam_name"],
        ["service_code"],
        ["month"],
    ):
        work = e.copy()
        for mode in ("silent", "waived", "billed"):
            work[f"value_{mode}"] = work["list_value"].where(work["billing_mode"] == mode, 0.0)
        out.append(
            work.groupby(keys, dropna=False)[
                [
                    "cost",
                    "list_value",
                    "billed_amount",
                    "unbilled_value",
                    "value_silent",
                    "value_waived",
                    "value_billed",
                ]
            ].sum()
        )
    out.append(e.groupby(["tier", "billing_mode"])["list_value"].sum())
    return out


def _activity(orders, acc, day, window=90):
    """Account ids active on `day` (an order in the `window` days before it, CRM status wins)."""
    pd = _pd()
    d = pd.Timestamp(day)
    recent = orders[
        (orders["order_date"] > d - pd.Timedelta(days=window)) & (orders["order_date"] <= d)
    ]["account_id"].unique()
    active = acc["account_id"].isin(recent)
    active = active.where(acc["status"].astype(object) != "lost", False)
    active = active.where(acc["status"].astype(object) != "active", True)
    return pd.Series(active.to_numpy(), index=acc["account_id"])


def _analyst_orders(con):
    pd = _pd()
    orders = _load(con, "orders")
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    orders["net_revenue"] = orders["net_revenue"].astype(float)
    return orders


def analyst_overview(con):
    """KPIs, revenue by month, service value by tier, key accounts — in pandas."""
    pd = _pd()
    today = dt.date.today()
    year, start, end = today.year, pd.Timestamp(today.year, 1, 1), pd.Timestamp(today)
    orders = _analyst_orders(con)
    e, acc = _analyst_events(con, year)
    kams = _load(con, "kams")
    prev_start, prev_end = start - pd.DateOffset(years=1), end - pd.DateOffset(years=1)
    this = orders[(orders["order_date"] >= start) & (orders["order_date"] <= end)]
    last = orders[(orders["order_date"] >= prev_start) & (orders["order_date"] <= prev_end)]
    key = acc[acc["tier"] == "KEY"]
    a_start = _activity(orders, key, start)
    a_end = _activity(orders, key, end)
    e = e[e["date"] <= end]
    kpi = {
        "revenue": this["net_revenue"].sum(),
        "revenue_prev": last["net_revenue"].sum(),
        "service_value": e["list_value"].sum(),
        "unbilled": e["unbilled_value"].sum(),
        "retained": int((a_start & a_end).sum()),
    }
    by_month = orders[
        (orders["order_date"] >= pd.Timestamp(year - 1, 1, 1)) & (orders["order_date"] <= end)
    ]
    by_month = by_month.groupby([by_month["order_date"].dt.year, by_month["order_date"].dt.month])[
        "net_revenue"
    ].sum()
    by_tier = e.groupby(["tier", "billing_mode"])["list_value"].sum()
    ko = orders[orders["account_id"].isin(key["account_id"])]
    keys = key.merge(kams[["kam_id", "name"]], on="kam_id", how="left").assign(
        revenue=ko[(ko["order_date"] >= start) & (ko["order_date"] <= end)]
        .groupby("account_id")["net_revenue"]
        .sum()
        .reindex(key["account_id"])
        .to_numpy(),
        last_order=ko[ko["order_date"] <= end]
        .groupby("account_id")["order_date"]
        .max()
        .reindex(key["account_id"])
        .to_numpy(),
    )
    return kpi, by_month, by_tier, keys.sort_values("revenue", ascending=False)


def analyst_services(con):
    """Service events of the year, five summaries and the ladder — in pandas."""
    e, _ = _analyst_events(con, dt.date.today().year)
    _load(con, "import_log")
    return _analyst_summaries(e)


def analyst_giveaways(con):
    """Events of the year checked against the tier policy of the matrix — in pandas."""
    pd = _pd()
    year = dt.date.today().year
    e, _ = _analyst_events(con, year)
    matrix = _load(con, "entitlement_matrix")
    m = matrix[matrix["year"] == matrix.loc[matrix["year"] <= year, "year"].max()]
    e = e.merge(m[["service_code", "tier", "policy"]], on=["service_code", "tier"], how="left")
    finding = pd.Series(None, index=e.index, dtype=object)
    finding[e["policy"] == "not_offered"] = "off_policy"
    finding[(e["policy"] == "billed") & (e["unbilled_value"] > 0)] = "giveaway"
    finding[(e["policy"] == "waived") & (e["billing_mode"] == "silent")] = "invisible"
    e["finding"] = finding
    e["leakage"] = e["unbilled_value"].where(e["finding"].isin(["off_policy", "giveaway"]), 0)
    found = e[e["finding"].notna()]
    return [
        found.groupby([by, "finding"])["leakage"].sum()
        for by in ("account_id", "kam_id", "service_code", "tier")
    ]


def analyst_profitability(con):
    """Revenue, margin, service cost and value per account for the year, whale curve — pandas."""
    year = dt.date.today().year
    orders = _analyst_orders(con)
    orders = orders[orders["order_date"].dt.year == year]
    e, acc = _analyst_events(con, year)
    o = orders.groupby("account_id")[["net_revenue", "cost_of_goods"]].sum()
    s = e.groupby("account_id")[["cost", "list_value", "billed_amount"]].sum()
    p = acc.set_index("account_id").join(o).join(s).fillna(0)
    p["net_contribution"] = (
        p["net_revenue"] - p["cost_of_goods"].astype(float) - p["cost"] + p["billed_amount"]
    )
    p = p.sort_values("net_contribution", ascending=False)
    p["cumulative"] = p["net_contribution"].cumsum()
    return p


def _analyst_retention_frame(con):
    pd = _pd()
    today = dt.date.today()
    start, end = pd.Timestamp(today.year, 1, 1), pd.Timestamp(today)
    orders = _analyst_orders(con)
    acc = _load(con, "accounts")
    feedback = _load(con, "feedback")
    mandates = _load(con, "mandates")
    _load(con, "settings")
    key = acc[acc["tier"] == "KEY"].copy()
    ko = orders[orders["account_id"].isin(key["account_id"]) & (orders["order_date"] <= end)]
    ko = ko.sort_values(["account_id", "order_date"])
    days = ko.drop_duplicates(["account_id", "order_date"])
    gaps = days.groupby("account_id")["order_date"].diff().dt.days
    stats = pd.DataFrame(
        {
            "last_order": days.groupby("account_id")["order_date"].max(),
            "median_gap": gaps.groupby(days["account_id"]).median(),
            "rev_t12": ko[ko["order_date"] > end - pd.DateOffset(months=12)]
            .groupby("account_id")["net_revenue"]
            .sum(),
            "rev_prev12": ko[
                (ko["order_date"] <= end - pd.DateOffset(months=12))
                & (ko["order_date"] > end - pd.DateOffset(months=24))
            ]
            .groupby("account_id")["net_revenue"]
            .sum(),
        }
    )
    key = key.set_index("account_id").join(stats)
    key["active_start"] = _activity(orders, key.reset_index(), start).to_numpy()
    key["active_end"] = _activity(orders, key.reset_index(), end).to_numpy()
    key["retained"] = key["active_start"] & key["active_end"]
    surveys = feedback[(feedback["kind"] == "survey") & feedback["score"].notna()].copy()
    surveys["date"] = pd.to_datetime(surveys["date"])
    surveys = surveys[surveys["date"] <= end].sort_values(["account_id", "date"])
    last2 = surveys.groupby("account_id").tail(2)
    drop = last2.groupby("account_id")["score"].agg(
        lambda s: s.iloc[0] - s.iloc[-1] if len(s) == 2 else 0
    )
    key["sat_drop"] = drop.reindex(key.index).fillna(0)
    m = mandates[mandates["year"] == today.year].set_index("account_id")
    answered = m[["contact", "objectives", "success_measures", "support"]].notna().sum(axis=1)
    key["answered"] = answered.reindex(key.index).fillna(0)
    since = (end - key["last_order"]).dt.days
    key["at_risk"] = (
        (since > 1.5 * key["median_gap"])
        | (key["rev_t12"].fillna(0) <= 0.75 * key["rev_prev12"].fillna(0))
        | (key["sat_drop"] >= 2)
        | (key["answered"] < 4)
    )
    return key, orders, feedback, mandates


def analyst_retention(con):
    """Retention detail, summaries by KAM and tier, trend and cohorts — in pandas."""
    pd = _pd()
    key, orders, _, _ = _analyst_retention_frame(con)
    by_kam = key.groupby("kam_id")[["active_start", "retained", "at_risk"]].sum()
    chosen = list(key.index[key["at_risk"]][:4])
    o = orders[orders["account_id"].isin(chosen)]
    trend = o.groupby(["account_id", o["order_date"].dt.to_period("M")])["net_revenue"].sum()
    ko = orders[orders["account_id"].isin(key.index)]
    first = ko.groupby("account_id")["order_date"].min().dt.year
    cohorts = {}
    for y in sorted(ko["order_date"].dt.year.unique()):
        active = _activity(ko, key.reset_index(), pd.Timestamp(y, 12, 31))
        cohorts[y] = active.groupby(first.reindex(active.index).to_numpy()).mean()
    return by_kam, trend, cohorts


def analyst_bonus(con):
    """One KAM's standing: R, M, F from accounts, orders, mandates, surveys — in pandas."""
    pd = _pd()
    year = dt.date.today().year
    key, _, feedback, mandates = _analyst_retention_frame(con)
    kam = sorted(key["kam_id"].dropna().unique())[0]
    mine = key[key["kam_id"] == kam]
    counted = mine[mine["active_start"]]
    r = counted["active_end"].mean()
    m = mandates[(mandates["year"] == year) & mandates["account_id"].isin(counted.index)]
    ratings = (
        m[["contact_rating", "objectives_rating", "success_measures_rating", "support_rating"]]
        .astype(float)
        .mean(axis=1)
    )
    fb = feedback[feedback["account_id"].isin(counted.index) & (feedback["kind"] == "survey")]
    fb = fb[pd.to_datetime(fb["date"]).dt.year == year]
    return r, ratings.mean(), fb["score"].astype(float).mean() / 10


def analyst_mandate(con):
    """Mandate completeness and score per key account of the year — in pandas."""
    year = dt.date.today().year
    orders = _analyst_orders(con)
    sorted(orders["order_date"].dt.year.unique())
    acc = _load(con, "accounts")
    mandates = _load(con, "mandates")
    m = acc[acc["tier"] == "KEY"].merge(
        mandates[mandates["year"] == year], on="account_id", how="left"
    )
    m["answered"] = m[["contact", "objectives", "success_measures", "support"]].notna().sum(axis=1)
    m["score"] = (
        m[["contact_rating", "objectives_rating", "success_measures_rating", "support_rating"]]
        .astype(float)
        .mean(axis=1)
    )
    return m


def analyst_account(con):
    """One account: services of the year, entitlement, revenue by year, mandate, feedback."""
    year = dt.date.today().year
    orders = _analyst_orders(con)
    e, acc = _analyst_events(con, year)
    matrix = _load(con, "entitlement_matrix")
    feedback = _load(con, "feedback")
    mandates = _load(con, "mandates")
    a = acc.sort_values("account_id").iloc[0]
    o = orders[orders["account_id"] == a["account_id"]]
    rev = o.groupby(o["order_date"].dt.year)[["net_revenue", "cost_of_goods"]].sum()
    svc = (
        e[e["account_id"] == a["account_id"]]
        .groupby("service_code")[["cost", "list_value", "billed_amount", "unbilled_value"]]
        .sum()
    )
    ent = matrix[(matrix["tier"] == a["tier"])]
    fb = feedback[feedback["account_id"] == a["account_id"]]
    md = mandates[(mandates["account_id"] == a["account_id"]) & (mandates["year"] == year)]
    return rev, svc, ent, fb, md


ANALYST = {
    "overview": analyst_overview,
    "services": analyst_services,
    "giveaways": analyst_giveaways,
    "profitability": analyst_profitability,
    "retention": analyst_retention,
    "mandate": analyst_mandate,
    "bonus": analyst_bonus,
    "account": analyst_account,
    "report:overview": analyst_overview,
    "report:services": analyst_services,
    "report:giveaways": analyst_giveaways,
    "report:retention": analyst_retention,
    "report:bonus": analyst_bonus,
}
# Pages that answer no analytic question (settings, users, audit, the matrix editor, the
# import history) read tables of a few hundred rows: no pandas counterpart, budgets only.


def target(name: str):
    """The product function for a page or `report:kind` name."""
    if name.startswith("report:"):
        return _report(name.split(":", 1)[1])
    return PAGES[name]


# --- child processes ----------------------------------------------------------------------


def child_measure(name: str, db_path: str, warm: int, analyst: bool) -> dict:
    """In a fresh process: cold first call, `warm` repeats, then the analyst version once."""
    import warnings

    warnings.filterwarnings("ignore")
    from kam_analytics import db
    from kam_analytics.access import Scope

    fn = target(name)
    scope = Scope(username="bench", role="admin")
    # Modules were imported before (_preimport): the app imports them once per process.
    con = db.connect(db_path, read_only=True)
    if name == "report:changes" and _no_import_batch(con):
        con.close()
        return {"skipped": "no import batch in this file (a demo): nothing to compare"}
    t = time.perf_counter()
    fn(con, scope)
    cold = time.perf_counter() - t
    warm_times = []
    for _ in range(warm):
        t = time.perf_counter()
        fn(con, scope)
        warm_times.append(time.perf_counter() - t)
    out = {"cold_s": cold, "warm_s": statistics.median(warm_times), "warm_runs": warm_times}
    if analyst and name in ANALYST:
        t = time.perf_counter()
        ANALYST[name](con)
        out["analyst_s"] = time.perf_counter() - t
    con.close()
    return out


def _no_import_batch(con) -> bool:
    """True when the file holds no figure snapshot (a fresh demo): `report changes` refuses."""
    from kam_analytics.snapshots import select_snapshots

    return select_snapshots(con).empty


def _preimport(name: str) -> None:
    """Import the modules a page uses (not timed: the app process has them loaded)."""
    import importlib

    for module in (
        "pandas",
        "kam_analytics.metrics.overview",
        "kam_analytics.metrics.services",
        "kam_analytics.metrics.giveaways",
        "kam_analytics.metrics.profitability",
        "kam_analytics.metrics.retention",
        "kam_analytics.metrics.mandates",
        "kam_analytics.metrics.bonus",
        "kam_analytics.metrics.backtest",
        "kam_analytics.metrics.changes",
        "kam_analytics.departments",
        "kam_analytics.reports",
        "kam_analytics.metrics.account",
        "kam_analytics.exports.matrix_sheet",
        "kam_analytics.exports.bonus_statement",
        "kam_analytics.ingest.load",
        "kam_analytics.ingest.profiles",
        "kam_analytics.users",
        "kam_analytics.audit",
        "kam_analytics.settings_store",
        "kam_analytics.commands.report",
        "kam_analytics.i18n",
    ):
        importlib.import_module(module)


def child_memory(db_path: str) -> dict:
    """Peak RSS of one process with the app's libraries that runs every page twice."""
    import resource
    import warnings

    warnings.filterwarnings("ignore")
    import plotly.graph_objects  # noqa: F401 - the app process has them loaded
    import streamlit  # noqa: F401

    from kam_analytics import db
    from kam_analytics.access import Scope

    _preimport("all")
    scope = Scope(username="bench", role="admin")
    con = db.connect(db_path, read_only=True)
    t = time.perf_counter()
    for _ in range(2):
        for name in [*PAGES, *(f"report:{k}" for k in REPORT_KINDS)]:
            if name == "report:changes" and _no_import_batch(con):
                continue
            target(name)(con, scope)
    seconds = time.perf_counter() - t
    con.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_rss_mb": peak_kb / 1024, "all_pages_twice_s": seconds}


def run_child(args: list[str]) -> dict:
    """Run this module in a child process and return the JSON it prints last."""
    cmd = [sys.executable, "-m", "benchmarks.bench_pages", *args]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the driver ---------------------------------------------------------------------------


def build_large(db_path: Path) -> float | None:
    """Write the large demo company once; seconds taken, or None when it was already there."""
    if db_path.exists() and db_path.stat().st_size > 0:
        return None
    from kam_analytics.demo import write_demo

    db_path.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    write_demo(db_path, scale="large", seed=42)
    return time.perf_counter() - t


def measure_import(rows: int, reps: int) -> dict:
    """The import of a `rows`-row shipments export (benchmarks/bench_import.py) vs openpyxl."""
    from benchmarks import bench_import as bi

    path = bi.make_file(rows)
    runs = [bi.run_import(path) for _ in range(reps)]
    best = statistics.median(r["import_s"] for r in runs)
    return {
        "rows": rows,
        "file": str(path),
        "import_s": best,
        "import_runs": [r["import_s"] for r in runs],
        "rows_loaded": runs[0]["rows"],
    }


def measure_import_analyst(rows: int) -> float:
    """pandas.read_excel (openpyxl, the default engine) of the same file, once."""
    from benchmarks import bench_import as bi

    return bi.time_openpyxl(bi.make_file(rows))


def _fmt(v, unit="s"):
    if v is None:
        return "–"
    return f"{v:.3f}" if unit == "s" else f"{v:.0f}"


def _ratio(v) -> str:
    return f"{v:.1f}" if v else "–"


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("PASS" if ok else "FAIL")


def main(argv=None) -> int:
    """Measure everything, print the table, write results.json; exit 1 when a budget is missed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=str(LARGE_DB), help="large demo database (built if missing)")
    ap.add_argument("--reps", type=int, default=3, help="fresh processes per page (median)")
    ap.add_argument("--warm", type=int, default=5, help="warm repeats per process (median)")
    ap.add_argument(
        "--pages", help="comma-separated subset of pages/reports (e.g. overview,report:bonus)"
    )
    ap.add_argument("--skip-import", action="store_true", help="skip the 100,000-row import")
    ap.add_argument(
        "--skip-memory",
        action="store_true",
        help="skip the peak-memory run (every page and report twice: minutes on xl)",
    )
    ap.add_argument(
        "--skip-openpyxl",
        action="store_true",
        help="skip the analyst's pandas.read_excel(openpyxl) of the import file",
    )
    ap.add_argument("--import-rows", type=int, default=100_000)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--no-analyst", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        _preimport(args.child)
        if args.child == "memory":
            result = child_memory(args.db)
        else:
            result = child_measure(args.child, args.db, args.warm, not args.no_analyst)
        print(json.dumps(result))
        return 0

    db_path = Path(args.db)
    build_s = build_large(db_path)
    from kam_analytics import db

    con = db.connect(db_path, read_only=True)
    counts = db.count_rows(con)
    con.close()
    print(
        f"database: {db_path} ({db_path.stat().st_size / 1e6:.0f} MB); "
        + (f"built in {build_s:.1f} s" if build_s is not None else "reused")
        + f"; {counts['accounts']:,} accounts, {counts['orders']:,} order lines, "
        f"{counts['shipments']:,} shipments, {counts['service_events']:,} service events"
    )

    names = [*PAGES, *(f"report:{k}" for k in REPORT_KINDS)]
    if args.pages:
        names = [n.strip() for n in args.pages.split(",") if n.strip()]
    rows = []
    for name in names:
        t = time.perf_counter()
        runs = [
            run_child(["--child", name, "--db", str(db_path), "--warm", str(args.warm)])
            for _ in range(args.reps)
        ]
        if any("skipped" in r for r in runs):
            print(f"  skipped  {name:<20} {runs[0]['skipped']}", flush=True)
            continue
        cold = statistics.median(r["cold_s"] for r in runs)
        warm = statistics.median(r["warm_s"] for r in runs)
        analyst = (
            statistics.median(r["analyst_s"] for r in runs)
            if all("analyst_s" in r for r in runs)
            else None
        )
        is_report = name.startswith("report:")
        row = {
            "name": name,
            "kind": "report" if is_report else "page",
            "cold_s": cold,
            "warm_s": warm,
            "cold_runs": [r["cold_s"] for r in runs],
            "analyst_s": analyst,
            "ratio_warm": analyst / warm if analyst else None,
            "ratio_cold": analyst / cold if analyst else None,
        }
        if is_report:
            row["budget_ok"] = cold <= REPORT_BUDGET_S and warm <= REPORT_BUDGET_S
        else:
            row["budget_ok"] = warm <= WARM_BUDGET_S and cold <= COLD_BUDGET_S
        row["ratio_ok"] = None if analyst is None else row["ratio_cold"] >= MIN_RATIO
        rows.append(row)
        print(f"  measured {name:<20} in {time.perf_counter() - t:5.1f} s", flush=True)

    mem = None if args.skip_memory else run_child(["--child", "memory", "--db", str(db_path)])
    imp = None
    if not args.skip_import:
        imp = measure_import(args.import_rows, args.reps)
        imp["analyst_s"] = None if args.skip_openpyxl else measure_import_analyst(args.import_rows)
        imp["ratio"] = imp["analyst_s"] / imp["import_s"] if imp["analyst_s"] else None

    print()
    head = (
        f"{'page / report':<20}{'cold s':>8}{'warm s':>8}{'analyst s':>11}"
        f"{'x cold':>8}{'x warm':>8}  {'budget':<7}{'>=5x':<5}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['name']:<20}{_fmt(r['cold_s']):>8}{_fmt(r['warm_s']):>8}"
            f"{_fmt(r['analyst_s']):>11}"
            f"{_ratio(r['ratio_cold']):>8}{_ratio(r['ratio_warm']):>8}  "
            f"{_verdict(r['budget_ok']):<7}{_verdict(r['ratio_ok']):<5}"
        )
    print()
    print(
        f"budgets: page warm <= {WARM_BUDGET_S} s and cold <= {COLD_BUDGET_S} s; report <= "
        f"{REPORT_BUDGET_S} s; ratio = analyst / product (cold, the stricter), >= {MIN_RATIO}"
    )
    mem_ok = None if mem is None else mem["peak_rss_mb"] < MEMORY_BUDGET_MB
    if mem is not None:
        print(
            f"peak memory (app libraries + every page and report twice): "
            f"{mem['peak_rss_mb']:.0f} MB  (< {MEMORY_BUDGET_MB} MB) {_verdict(mem_ok)}"
        )
    if imp:
        ratio = f"{imp['ratio']:.1f} x" if imp["ratio"] else "–"
        print(
            f"import of {imp['rows']:,} rows (xlsx, read + validate + load): "
            f"{imp['import_s']:.2f} s; pandas.read_excel(openpyxl) alone: "
            f"{_fmt(imp['analyst_s'])} s; ratio {ratio}"
        )

    failed = [r["name"] for r in rows if not r["budget_ok"] or r["ratio_ok"] is False]
    if mem_ok is False:
        failed.append("memory")
    results = {
        "measured_at": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "database": {"path": str(db_path), "build_s": build_s, "rows": counts},
        "reps": args.reps,
        "warm_repeats": args.warm,
        "budgets": {
            "page_warm_s": WARM_BUDGET_S,
            "page_cold_s": COLD_BUDGET_S,
            "report_s": REPORT_BUDGET_S,
            "memory_mb": MEMORY_BUDGET_MB,
            "min_ratio": MIN_RATIO,
        },
        "pages": [r for r in rows if r["kind"] == "page"],
        "reports": [r for r in rows if r["kind"] == "report"],
        "memory": None if mem is None else {**mem, "ok": mem_ok},
        "import": imp,
        "failed": failed,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(
        f"\nwritten: {OUT / 'results.json'}"
        + (f"; FAILED: {', '.join(failed)}" if failed else "; every budget met")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
