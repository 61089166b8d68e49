"""The import page's mapping/preview part (AppTest): an all-ambiguous date column is refused
until the order is chosen in the read options; problems are one line per cause; with a file
uploaded the mapping and value editors show fields and values in words (issue 14) while the
mapping they produce still holds the codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics import db
from kam_analytics.access import Scope
from kam_analytics.i18n import t
from kam_analytics.ingest import pipeline
from tests.conftest import DATA
from tests.raw_values import apptest_texts, find_raw, shown_columns, table_problems

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


ACCOUNTS_CSV = (
    "Kundennr;Firma;Kundenstufe;Status\n10001;Müller GmbH;Key;aktiv\n10002;Schmidt AG;B;inaktiv\n"
)
# what the file itself says: the user's headers and values may be shown as they are
FILE_TEXTS = ("kunden.csv", "Kundennr", "Firma", "Kundenstufe", "Müller GmbH", "Schmidt AG")
FILE_TEXTS += ("Key", "aktiv", "inaktiv", "Status")


def _upload_accounts(page, lang, monkeypatch):
    """Upload the accounts file; returns the Mappings the page planned with."""
    planned = []
    real = pipeline.plan_file

    def spy(data, name, mapping=None, **kw):
        planned.append(mapping)
        return real(data, name, mapping=mapping, **kw)

    monkeypatch.setattr(pipeline, "plan_file", spy)
    page.session_state["lang"] = lang
    page.run()
    upload = page.get("file_uploader")[0]
    upload.upload("kunden.csv", ACCOUNTS_CSV.encode(), "text/csv").run()
    assert not page.exception, [e.value for e in page.exception]
    return planned


def _editors(page):
    return [n for n in page.dataframe if getattr(n, "editing_mode", "read_only") != "read_only"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_mapping_editor_shows_fields_and_values_in_words(page, lang, monkeypatch):
    planned = _upload_accounts(page, lang, monkeypatch)
    mapping_editor, tier_editor, status_editor = _editors(page)
    shown = dict(shown_columns(mapping_editor))
    fields = shown[t("imp_col_canonical", lang)]
    if lang == "de":
        assert fields[:5] == [
            "Kundennummer",
            "Firmenname",
            "Kundenstufe",
            "KAM-Kürzel",
            "Muttergesellschaft (Kundennummer)",
        ]
        assert "Kunde seit" in fields and "Status im CRM" in fields
    else:
        assert fields[:3] == ["Customer number", "Company name", "Customer tier"]
    assert "account_id" not in str(shown_columns(mapping_editor))
    # an empty text cell is empty, not Streamlit's grey "None"
    assert shown[t("imp_col_constant", lang)] == [""] * len(fields)
    assert shown[t("imp_col_formula", lang)] == [""] * len(fields)
    captions = [c.value for c in page.caption]
    assert t("term_field_tier", lang) in captions and t("term_field_status", lang) in captions
    assert "tier" not in captions and "status" not in captions
    target = t("imp_value_canonical", lang)
    tiers = dict(shown_columns(tier_editor))
    assert tiers[target] == (
        ["Key Account", "B-Kunde"] if lang == "de" else ["Key account", "B customer"]
    )
    states = dict(shown_columns(status_editor))
    assert states[target] == (["aktiv", "verloren"] if lang == "de" else ["active", "lost"])
    # nothing raw anywhere on the page with a file uploaded
    found = [
        f"[{kind}] {hit} in {text[:80]!r}"
        for kind, text in apptest_texts(page)
        for hit in find_raw(text, lang, FILE_TEXTS)
    ]
    found += [p for n in page.dataframe for p in table_problems(n, lang)]
    assert found == []
    # the editors shown in words still hand the codes to the import
    mapping = planned[-1]
    assert mapping.table == "accounts"
    assert mapping.columns == {
        "account_id": "Kundennr",
        "name": "Firma",
        "tier": "Kundenstufe",
        "status": "Status",
    }
    assert mapping.values == {
        "tier": {"Key": "KEY", "B": "B"},
        "status": {"aktiv": "active", "inaktiv": "lost"},
    }
    assert mapping.defaults == {} and mapping.computed == {}


def test_import_through_the_page_stores_codes(page, monkeypatch, tmp_path):
    _upload_accounts(page, "de", monkeypatch)
    [run] = [b for b in page.button if b.label == t("imp_run")]
    run.click().run()
    assert not page.exception, [e.value for e in page.exception]
    con = db.connect(tmp_path / "kam.duckdb")
    try:
        rows = con.execute(
            "SELECT account_id, name, tier, status FROM accounts ORDER BY account_id"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("10001", "Müller GmbH", "KEY", "active"), ("10002", "Schmidt AG", "B", "lost")]
