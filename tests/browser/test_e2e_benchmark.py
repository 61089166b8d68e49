"""The end-to-end benchmark (benchmarks/e2e.py) on the small demo: one page, one role."""

from __future__ import annotations

import pytest

from benchmarks import e2e
from kam_analytics.i18n import t

pytestmark = pytest.mark.browser


def test_one_page_cold_warm_and_filter_are_timed(demo_db, browser):
    result = e2e.measure_scale(
        "small", demo_db, roles=("management",), only={"pages/retention.py"}, browser=browser
    )
    assert [(c.role, c.page, c.kind) for c in result.clicks] == [
        ("management", "nav_retention", "cold"),
        ("management", "nav_retention", "warm"),
        ("management", "nav_retention", "filter"),  # the year select box
    ]
    assert result.errors == []
    assert all(c.seconds is not None and 0 < c.seconds < 60 for c in result.clicks)
    assert all(c.charts >= 1 for c in result.clicks)  # the page draws charts
    assert 50 < result.peak_mb["management"] < 2048

    lines = e2e.format_table([result]).splitlines()
    assert lines[0].split(" | ")[2:] == [
        "small cold (≤2.0)",
        "small warm (≤1.0)",
        "small filter (≤1.0)",
    ]
    assert [c.strip() for c in lines[2].split(" | ")[:2]] == ["management", t("nav_retention")]
    assert lines[3].split(" | ")[1].strip() == "server peak MB" and len(lines) == 4
    report = e2e.to_json([result], [])
    assert report["scales"][0]["clicks"][0]["seconds"] == result.clicks[0].seconds
    missed = {m.split(":")[0] for m in report["misses"]}
    slow = {
        f"small management nav_retention {c.kind}"
        for c in result.clicks
        if c.seconds > e2e.BUDGETS["small"][c.kind]
    }
    assert missed == slow
