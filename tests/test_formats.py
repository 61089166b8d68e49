"""Formats as users read them: table cells, date pickers, roles, tables, amounts (issue 14).

Expectations are written by hand: German 1.234,56 € / 25,6 % / 30.11.2026 / Jan. 2026, English
(en_GB) €1,234.56 / 25.6% / 30 Nov 2026 / Jan 2026, an empty cell "–" in both languages.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_analytics.glossary import role_label, table_label
from kam_analytics.i18n import (
    date_input_format,
    fmt_decimal,
    fmt_eur,
    fmt_month,
    fmt_number,
    fmt_pct,
    fmt_value,
)
from ui.widgets import amount_format

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "de", "en"),
    [
        (1234, "1.234", "1,234"),
        (1234567, "1.234.567", "1,234,567"),
        (-1234, "-1.234", "-1,234"),
        (0, "0", "0"),
        (1234.5, "1.234,5", "1,234.5"),
        (9.5, "9,5", "9.5"),
        (0.0834, "0,08", "0.08"),
        (1234.0, "1.234", "1,234"),
        (np.int64(1234), "1.234", "1,234"),
        (np.float64(2.25), "2,25", "2.25"),
        # DuckDB's DECIMAL(18,2) read with fetchall() is a Decimal, not a float
        (Decimal("1234.50"), "1.234,5", "1,234.5"),
        (Decimal("71100.00"), "71.100", "71,100"),
        # a float sum a hair below zero is zero, not "-0"
        (-0.001, "0", "0"),
        (-1e-12, "0", "0"),
    ],
)
def test_fmt_value_numbers(value, de, en):
    assert fmt_value(value, "de") == de
    assert fmt_value(value, "en") == en


@pytest.mark.parametrize(
    ("value", "de", "en"),
    [
        (dt.date(2026, 11, 30), "30.11.2026", "30 Nov 2026"),
        (dt.date(2026, 3, 1), "01.03.2026", "1 Mar 2026"),
        (dt.datetime(2026, 11, 30), "30.11.2026", "30 Nov 2026"),
        (dt.datetime(2026, 11, 30, 14, 5), "30.11.2026 14:05", "30 Nov 2026 14:05"),
        (pd.Timestamp("2026-11-30"), "30.11.2026", "30 Nov 2026"),
        (pd.Timestamp("2026-11-30 08:15"), "30.11.2026 08:15", "30 Nov 2026 08:15"),
        (np.datetime64("2026-11-30"), "30.11.2026", "30 Nov 2026"),
    ],
)
def test_fmt_value_dates(value, de, en):
    assert fmt_value(value, "de") == de
    assert fmt_value(value, "en") == en


@pytest.mark.parametrize("value", [None, float("nan"), np.nan, pd.NA, pd.NaT, np.float64("nan")])
@pytest.mark.parametrize("lang", ["de", "en"])
def test_fmt_value_empty_is_a_dash(value, lang):
    assert fmt_value(value, lang) == "–"


def test_fmt_value_text_and_booleans_stay():
    assert fmt_value("Müller GmbH", "de") == "Müller GmbH"
    assert fmt_value("", "en") == ""
    assert fmt_value(True, "de") is True
    assert fmt_value(False, "en") is False
    assert fmt_value(np.bool_(True), "de") is True


def test_money_percent_and_number_formats():
    assert fmt_eur(1234.56, "de") == f"1.234,56{NBSP}€"
    assert fmt_eur(1234.56, "en") == "€1,234.56"
    assert fmt_eur(-0.5, "de") == f"-0,50{NBSP}€"
    assert fmt_eur(Decimal("99.99"), "en") == "€99.99"
    assert fmt_eur(None, "en") == "–"
    # no minus before a zero: -0.001 € is 0,00 €
    assert fmt_eur(-0.001, "de") == f"0,00{NBSP}€"
    assert fmt_eur(-0.004, "en") == "€0.00"
    assert fmt_eur(-0.4, "de", 0) == f"0{NBSP}€"
    assert fmt_pct(0.256, "de") == f"25,6{NBSP}%"
    assert fmt_pct(0.256, "en") == "25.6%"
    assert fmt_pct(-0.0001, "de") == f"0,0{NBSP}%"
    assert fmt_pct(float("nan"), "en") == "–"
    assert fmt_number(-0.3, "en") == "0"
    assert fmt_number(2.345, "de", 1) == "2,3"
    assert fmt_decimal(-0.001, "de") == "0"
    assert fmt_decimal(0.125, "en", 3) == "0.125"


@pytest.mark.parametrize(
    ("month", "de", "en"),
    [
        (dt.date(2026, 1, 1), "Jan. 2026", "Jan 2026"),
        ("2026-03", "März 2026", "Mar 2026"),
        ("2026-05-01", "Mai 2026", "May 2026"),
        (dt.date(2026, 9, 1), "Sept. 2026", "Sept 2026"),  # CLDR's abbreviation, both locales
        (dt.date(2026, 12, 1), "Dez. 2026", "Dec 2026"),
    ],
)
def test_abbreviated_months(month, de, en):
    assert fmt_month(month, "de", abbreviated=True) == de
    assert fmt_month(month, "en", abbreviated=True) == en


def test_full_months_and_missing_month():
    assert fmt_month(dt.date(2026, 11, 1), "de") == "November 2026"
    assert fmt_month("2026-10", "en") == "October 2026"
    assert fmt_month(None, "de") == "–"


def test_date_input_format():
    assert date_input_format("de") == "DD.MM.YYYY"
    assert date_input_format("en") == "DD/MM/YYYY"
    assert date_input_format() == "DD.MM.YYYY"
    assert date_input_format("fr") == "DD.MM.YYYY"  # unknown language: the default's


def test_role_label():
    assert role_label("admin", "de") == "Administration"
    assert role_label("management", "de") == "Vertriebsleitung"
    assert role_label("kam", "de") == "Key Account Manager"
    assert role_label("admin", "en") == "Administrator"
    assert role_label("management", "en") == "Management"
    assert role_label("kam", "en") == "Key account manager"
    assert role_label(None, "de") == "–"
    assert role_label("", "en") == "–"
    assert role_label("auditor", "de") == "auditor"  # not a role of ours: shown as it came


def test_table_label():
    assert table_label("shipments", "de") == "Lieferungen"
    assert table_label("service_events", "de") == "Leistungen"
    assert table_label("mandates", "de") == "KAM-Aufträge"
    assert table_label("shipments", "en") == "Shipments"
    assert table_label("feedback", "en") == "Customer feedback"
    assert table_label(None, "en") == "–"
    assert table_label("elsewhere", "de") == "elsewhere"


def test_amount_format():
    assert amount_format(71100) == "%.0f"
    assert amount_format(71100.0) == "%.0f"
    assert amount_format(Decimal("71100.00")) == "%.0f"
    assert amount_format(71100.5) == "%.2f"
    assert amount_format(0.01) == "%.2f"
    assert amount_format(None) == "%.0f"
    assert amount_format("abc") == "%.0f"


FINITE = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
ENGLISH_DECIMAL = re.compile(r"\d\.\d{1,2}$")
GERMAN_DECIMAL = re.compile(r"\d,\d{1,2}$")


def parse_de(text: str) -> float:
    return float(text.replace(".", "").replace(",", "."))


def parse_en(text: str) -> float:
    return float(text.replace(",", ""))


@given(FINITE)
def test_any_float_in_german_has_a_decimal_comma_and_reads_back(x):
    text = fmt_value(x, "de")
    assert not ENGLISH_DECIMAL.search(text), text
    assert re.fullmatch(r"-?\d{1,3}(\.\d{3})*(,\d{1,2})?", text), text
    assert math.isclose(parse_de(text), x, abs_tol=0.0051), (text, x)
    assert text != "-0"


@given(FINITE)
def test_any_float_in_english_has_a_decimal_point_and_reads_back(x):
    text = fmt_value(x, "en")
    assert not GERMAN_DECIMAL.search(text), text
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d{1,2})?", text), text
    assert math.isclose(parse_en(text), x, abs_tol=0.0051), (text, x)
    assert text != "-0"


@given(FINITE)
def test_any_amount_in_german_is_money_with_cents(x):
    text = fmt_eur(x, "de")
    assert re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d{2}\u00a0€", text), text
    assert not text.startswith("-0,00")
    english = fmt_eur(x, "en")
    assert re.fullmatch(r"-?€\d{1,3}(,\d{3})*\.\d{2}", english), english
    assert not english.startswith("-€0.00")
