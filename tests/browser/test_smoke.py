"""Issue 2's browser smoke test: the app opens in chromium and the overview shows real numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from kam_analytics.glossary import key_accounts_label
from kam_analytics.i18n import fmt_pct, t
from kam_analytics.periods import default_as_of
from tests.browser.conftest import Steps, heading, main_text, settle, sign_in
from tests.conftest import require_chromium

pytestmark = pytest.mark.browser


def metric_value(pg, label: str) -> str:
    """The value shown on the KPI card labelled `label`."""
    card = pg.get_by_test_id("stMetric").filter(has_text=label).first
    return card.get_by_test_id("stMetricValue").inner_text().strip()


def test_overview_shows_demo_numbers(app_server, page):
    require_chromium()
    from kam_analytics.access import Scope
    from kam_analytics.metrics import overview as ov

    counts = app_server.row_counts()
    assert counts["accounts"] == 120 and counts["orders"] > 10_000
    with app_server.peek() as con:
        today = dt.date.today()
        years = ov.select_data_years(con, Scope.everything())
        year = today.year if today.year in years else years[-1]
        kpi = ov.select_overview_kpis(con, Scope.everything(), year, default_as_of(year))

    steps = Steps(page, "smoke")
    sign_in(page, app_server.url, "leitung", "leitung-demo")
    heading(page, t("ov_title")).wait_for()
    settle(page)
    steps.shot("overview")

    text = main_text(page)
    assert key_accounts_label() in text
    for key in (
        "ov_revenue",
        "ov_service_value",
        "ov_unbilled_share",
        "ov_retention",
    ):
        assert t(key) in text, key
    assert kpi["key_accounts"] == 12
    assert metric_value(page, key_accounts_label()) == "12"
    revenue = metric_value(page, t("ov_revenue"))
    assert "€" in revenue and any(ch.isdigit() for ch in revenue)
    # the shares on the cards are exactly the library's figures, German-formatted
    assert metric_value(page, t("ov_unbilled_share")) == fmt_pct(kpi["unbilled_share"], "de")
    assert metric_value(page, t("ov_retention")) == fmt_pct(kpi["retention"], "de")
