"""The reports: one list of report kinds and the function behind each.

`python -m kam_analytics report KIND`, the pages' report downloads, the benchmark and the tests
ask this module, so a report and the page it belongs to use the same function. Each function
has the signature ``fn(con, *, year, as_of, scope, **options) -> DataFrame`` and returns the
documented columns, money rounded to cents.
"""

from __future__ import annotations

import importlib

import pandas as pd

# kind -> (module, function)
REPORTS = {
    "overview": ("kam_analytics.metrics.overview", "report_overview"),
    "services": ("kam_analytics.metrics.services", "report_services"),
    "giveaways": ("kam_analytics.metrics.giveaways", "report_giveaways"),
    "retention": ("kam_analytics.metrics.retention", "report_retention"),
    "bonus": ("kam_analytics.metrics.bonus", "report_bonus"),
    "backtest": ("kam_analytics.metrics.backtest", "report_backtest"),
    "departments": ("kam_analytics.departments", "report_departments"),
    "changes": ("kam_analytics.metrics.changes", "report_changes"),
}
# options only some kinds take: option -> the kinds
OPTIONS = {"since": ("changes",)}


def load_report(con, kind: str, *, year=None, as_of=None, scope, **options) -> pd.DataFrame:
    """The report frame of `kind`; options a kind does not take are left out."""
    module_name, func_name = REPORTS[kind]
    func = getattr(importlib.import_module(module_name), func_name)
    taken = {k: v for k, v in options.items() if v is not None and kind in OPTIONS.get(k, ())}
    return func(con, year=year, as_of=as_of, scope=scope, **taken)
