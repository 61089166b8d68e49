"""The glossary: one German and one English name per concept, used wherever the code shows."""

from __future__ import annotations

import datetime as dt
import io
import tomllib
from pathlib import Path

import pytest

from kam_analytics import glossary
from kam_analytics.access import Scope
from kam_analytics.i18n import LOCALE_DIR
from kam_analytics.ingest.mapping import DEBIT_CREDIT_CHOICES
from kam_analytics.metrics.giveaways import FINDINGS
from kam_analytics.metrics.retention import SIGNALS
from kam_analytics.schema import (
    ACCOUNT_STATUSES,
    BILLING_MODES,
    IMPORTABLE_TABLES,
    POLICIES,
    SHIP_MODES,
    TIERS,
)
from tests.test_retention import build_scenario_2025

ROOT = Path(__file__).resolve().parent.parent
CODES = {
    "tier": set(TIERS) | {"none"},
    "mode": set(BILLING_MODES),
    "policy": set(POLICIES),
    "finding": set(FINDINGS),
    "state": {"retained", "lost", "at_risk", "new"},
    "signal": set(SIGNALS),
    "crm": set(ACCOUNT_STATUSES),
    "ship": set(SHIP_MODES),
    "sign": set(DEBIT_CREDIT_CHOICES),
}


def _locales() -> dict[str, dict]:
    return {p.name: tomllib.loads(p.read_text("utf-8")) for p in sorted(LOCALE_DIR.glob("*.toml"))}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_code_has_exactly_one_name(lang):
    for concept, codes in CODES.items():
        names = glossary.terms(concept, lang)
        assert set(names) == codes, concept
        assert all(names.values()), concept
        if lang == "de":  # a German name is never the (English) code itself
            assert all(n != code for code, n in names.items()), concept
        # two codes of one concept never share a name
        assert len({n.casefold() for n in names.values()}) == len(names), concept


def test_names_by_hand():
    assert glossary.tier_label("KEY", "de") == "Key Account"
    assert glossary.tier_label("A", "en") == "A customer"
    assert glossary.tier_label(None, "de") == glossary.tier_label("", "de") == "ohne Kundenstufe"
    assert glossary.tier_label("X", "de") == "X"  # a tier from the user's own export
    assert glossary.key_accounts_label("de") == "Key Accounts"
    assert glossary.billing_mode_label("silent", "de") == "Ohne Berechnung erbracht"
    assert glossary.policy_label("not_offered", "en") == "not offered"
    assert glossary.finding_label("off_policy", "de") == "Außerhalb der Matrix"
    assert glossary.state_label("at_risk", "de") == "Gefährdet"
    assert glossary.signals_text("order_gap;revenue_drop", "de") == "Bestelllücke, Umsatzrückgang"
    assert glossary.signals_text("", "en") == glossary.signals_text(None, "en") == "–"


def test_glossary_names_are_defined_only_in_the_glossary():
    """No other locale file defines a term_ key or repeats a glossary name for its own key."""
    files = _locales()
    glossary_file = files.pop("glossary.toml")
    # texts that happen to equal a glossary name but mean something else
    unrelated = {
        "imp_hist_rows_inserted",  # rows new to the database
        "deck_express_charged",  # freight charged to the customer
        "rp_accounts_title",  # a slide title
        "mx_active",  # a catalogue service is in use
    }
    clashes = []
    for name, data in files.items():
        for lang in ("de", "en"):
            # Import field names are column headers ("Kommentar", "Jahr"): other tables may
            # carry the same header word. The names of codes stay the glossary's alone.
            own = {
                v.casefold()
                for k, v in glossary_file[lang].items()
                if not k.startswith("term_field_")
            }
            for key, text in data.get(lang, {}).items():
                if key.startswith("term_"):
                    clashes.append(f"{name}: {key}")
                elif key not in unrelated and text.casefold() in own:
                    clashes.append(f"{name}: {key} = {text!r}")
    assert clashes == []


def test_no_second_german_name_for_key_accounts():
    hits = [
        p.name
        for p in LOCALE_DIR.glob("*.toml")
        if "Schlüsselkund" in p.read_text("utf-8").split("[en]")[0]
    ]
    assert hits == []


def test_bonus_statement_names_signals_in_words(con):
    """The statement's account sheet and PDF show signal names, never the codes."""
    from openpyxl import load_workbook

    from kam_analytics.exports.bonus_statement import _fmt_cell, statement_xlsx
    from kam_analytics.metrics.bonus import get_standing

    build_scenario_2025(con)
    s = get_standing(
        con, kam_id="K1", year=2025, as_of=dt.date(2025, 9, 30), scope=Scope.everything()
    )
    assert any(s.counted["signals"].fillna("") != "")  # the scenario has a signal to show
    wb = load_workbook(io.BytesIO(statement_xlsx(s, lang="de")))
    cells = [str(c) for row in wb["Kunden"].iter_rows(values_only=True) for c in row if c]
    assert not [c for c in cells if any(sig in c for sig in SIGNALS)]
    assert _fmt_cell("signals", "order_gap;mandate_incomplete", "en") == (
        "Order gap, KAM mandate incomplete"
    )


def test_name_codes_turns_code_columns_into_names():
    import pandas as pd

    df = pd.DataFrame(
        {
            "account_id": ["K1", "A1"],
            "tier": ["KEY", None],
            "billing_mode": ["silent", "billed"],
            "signals": ["order_gap;satisfaction_drop", ""],
            "status": [None, "lost"],
        }
    )
    out = glossary.name_codes(df, "de")
    assert list(out["account_id"]) == ["K1", "A1"]  # ids stay
    assert list(out["tier"]) == ["Key Account", "–"]
    assert list(out["billing_mode"]) == ["Ohne Berechnung erbracht", "In Rechnung gestellt"]
    assert list(out["signals"]) == ["Bestelllücke, Zufriedenheit gesunken", "–"]
    assert list(out["status"]) == ["–", "verloren"]
    assert df["tier"].iloc[0] == "KEY"  # the input is left as it was


def _import_fields() -> list[tuple[str, str]]:
    from kam_analytics.ingest.mapping import mappable_columns

    return [(table, col) for table in IMPORTABLE_TABLES for col in mappable_columns(table)]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_import_field_has_a_name(lang):
    """Each column of an importable table and each input column has its own name (issue 14):
    a new column without one fails here."""
    fields = _import_fields()
    assert len(fields) >= 50  # the 47 stored columns and the input columns
    missing = [
        f"{table}.{col}" for table, col in fields if glossary.field_label(table, col, lang) == col
    ]
    assert missing == []
    for table in IMPORTABLE_TABLES:  # within a table two fields never share a name
        names = [glossary.field_label(table, c, lang) for t, c in fields if t == table]
        assert len({n.casefold() for n in names}) == len(names), table


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_offered_import_value_has_a_name(lang):
    """Each value the import page's value editors offer is named in words."""
    from kam_analytics.ingest.mapping import column_choices, input_columns

    columns = {
        c.name for t in IMPORTABLE_TABLES.values() for c in t.columns if c.kind == "category"
    } | {c for t in IMPORTABLE_TABLES for c, kind in input_columns(t).items() if kind == "category"}
    assert {"tier", "status", "ship_mode", "billing_mode", "kind", "debit_credit"} <= columns
    for col in columns:
        choices = column_choices(col)
        assert choices, col
        names = [glossary.value_label(col, code, lang) for code in choices]
        if lang == "de":  # in English "active" is its own name; every code has a German one
            assert all(n != code for n, code in zip(names, choices, strict=True)), (col, names)
        assert len(set(names)) == len(names), col


def test_import_field_names_by_hand():
    assert glossary.field_label("accounts", "account_id", "de") == "Kundennummer"
    assert glossary.field_label("accounts", "customer_since", "de") == "Kunde seit"
    assert glossary.field_label("accounts", "kam_id", "de") == "KAM-Kürzel"
    assert glossary.field_label("accounts", "parent_id", "de") == (
        "Muttergesellschaft (Kundennummer)"
    )
    assert glossary.field_label("accounts", "name", "de") == "Firmenname"
    assert glossary.field_label("kams", "name", "de") == "Name des KAM"
    assert glossary.field_label("orders", "order_date", "de") == "Auftragsdatum"
    assert glossary.field_label("orders", "net_revenue", "en") == "Net revenue"
    assert glossary.field_label("feedback", "date", "de") == "Datum der Rückmeldung"
    assert glossary.field_label("orders", "no_such_column", "de") == "no_such_column"
    assert glossary.value_label("ship_mode", "express", "de") == "Expressversand"
    assert glossary.value_label("tier", "KEY", "de") == "Key Account"
    assert glossary.value_label("status", "active", "de") == "aktiv"
    assert glossary.value_label("billing_mode", "billed", "en") == "Invoiced"
    assert glossary.value_label("kind", "complaint", "de") == "Beschwerde"
    assert glossary.value_label("debit_credit", "-", "de") == "Haben (−, Gutschrift)"
