"""The import page's mapping/preview part (AppTest): an all-ambiguous date column is refused
until the order is chosen in the read options; problems are one line per cause."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.i18n import t
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def page(tmp_path, monkeypatch):
    path = tmp_path / "kam.duckdb"
    db.connect(path).close()
    monkeypatch.setenv("KAM_DB", str(path))
    at = AppTest.from_file(str(ROOT / "pages/data_import.py"), default_timeout=60)
    at.session_state["scope"] = Scope("admin", "admin")
    return at.run()


def test_ambiguous_dates_asked_on_the_page(page):
    data = (DATA / "quirks" / "orders_dates_ambiguous.csv").read_bytes()
    page.get("file_uploader")[0].upload("orders_dates_ambiguous.csv", data, "text/csv").run()
    assert not page.exception, [e.value for e in page.exception]
    assert any(t("imp_blocked", n=1) == e.value for e in page.error)
    grouped = page.dataframe[-1].value
    assert "Order Date" in grouped.iloc[0].tolist()
    radio = [r for r in page.radio if r.label == t("imp_opt_date_order")][0]
    radio.set_value("dmy").run()
    assert not page.exception, [e.value for e in page.exception]
    assert any(t("imp_ok", rows=2) == s.value for s in page.success)


def test_settings_page_maintains_exchange_rates(tmp_path, monkeypatch):
    path = tmp_path / "kam.duckdb"
    db.connect(path).close()
    monkeypatch.setenv("KAM_DB", str(path))
    at = AppTest.from_file(str(ROOT / "pages/settings.py"), default_timeout=60)
    at.session_state["scope"] = Scope("admin", "admin")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    [cur] = [w for w in at.text_input if w.label == t("rates_col_currency")]
    cur.set_value("CHF")
    [year] = [w for w in at.number_input if w.label == t("rates_col_year")]
    year.set_value(2025)
    [rate] = [w for w in at.number_input if w.label == t("rates_col_units_per_eur")]
    rate.set_value(0.9412)
    [save] = [b for b in at.button if b.label == t("rates_save")]
    save.click().run()
    assert not at.exception, [e.value for e in at.exception]
    con = db.connect(path)
    try:
        assert con.execute(
            "SELECT currency, year, month, units_per_eur::DOUBLE FROM exchange_rates"
        ).fetchall() == [("CHF", 2025, 0, 0.9412)]
    finally:
        con.close()
