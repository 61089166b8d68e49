"""Parsing each distinct value once (the fast path of a 1,000,000-row import) gives the same
values and the same unparseable cells as parsing every row, and a whole import gives the same
rows and the same findings (issue 15)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam_analytics.ingest import parse, read
from kam_analytics.ingest.mapping import Mapping
from kam_analytics.ingest.read import RawSheet
from kam_analytics.ingest.validate import prepare

AMOUNTS = (
    "1.234",
    "1,234",
    "1.234,56",
    "1,234.56",
    "1'234.50",
    "CHF 1'234.50",
    "1.234,56-",
    "(1.234,56)",
    "-(5)",
    "-5-",
    "0.500",
    ",500",
    "1234.500",
    "12,5",
    "12.5",
    "96,9",
    "297,91",
    "1.2.3",
    "1,2,3",
    "1e3",
    "€ 12,00",
    "US$ 3.5",
    "\u22127,5",
    "12\u00a0345,6",
    "n/a",
    "NULL",
    "",
    "-",
    "zwölf",
    None,
)
DATES = (
    "31.12.2025",
    "01.02.25",
    "01/02/2025",
    "13/01/2025",
    "1/13/2025",
    "02/01/2025 10:30",
    "2025-12-31",
    "2025-12-31 10:00:00",
    "2025-02-30",
    "31-Dec-2025",
    "20251231",
    "45000",
    "45000,5",
    "12",
    "morgen",
    "n/a",
    "",
    None,
)
IDS = ("0080000001", "1001.0", "1001.00", "1001", "K7", " 42 ", "-", "", None, "10.5")

random_text = st.text(alphabet="0123456789.,'-()+€$ CHFe/:\u2212\u00a0", max_size=10)


@st.composite
def columns(draw, tokens):
    """A column of repeated values from a small pool, sometimes longer than the 5,000 values
    that decide the decimal separator; with number-cell flags."""
    pool = draw(st.lists(st.one_of(st.sampled_from(tokens), random_text), min_size=1, max_size=8))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=40))
    repeat = draw(st.sampled_from((1, 1, 3, 140)))
    values = [pool[i] for i in picks] * repeat
    flags = draw(st.lists(st.booleans(), min_size=len(picks), max_size=len(picks))) * repeat
    series = pd.Series(values, dtype="str")
    return series, np.array(flags, dtype=bool)


def _same(a: pd.Series, b: pd.Series) -> None:
    assert a.dtype == b.dtype
    assert a.index.equals(b.index)
    pd.testing.assert_series_equal(a, b, check_names=False)
    if a.dtype == "float64":  # -0.0 and 0.0 compare equal: the signs must match too
        assert np.array_equal(np.signbit(a.to_numpy()), np.signbit(b.to_numpy()))


FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@FAST
@given(
    columns(AMOUNTS),
    st.sampled_from((None, ",", ".")),
    st.sampled_from((None, ",", ".")),
    st.booleans(),
)
def test_amounts_distinct_equals_rows(column, decimal, hint, with_cells):
    series, flags = column
    numbers = flags if with_cells else None
    fast = parse.parse_amounts(series, decimal, parse.DEFAULT_NULLS, hint, numbers)
    slow = parse.parse_amounts(series, decimal, parse.DEFAULT_NULLS, hint, numbers, distinct=False)
    _same(fast[0], slow[0])
    _same(fast[1], slow[1])
    _same(parse.amount_currencies(series), parse.amount_currencies(series, distinct=False))


@FAST
@given(columns(DATES), st.sampled_from((None, "dmy", "mdy")), st.sampled_from((None, "%d/%m/%y")))
def test_dates_distinct_equals_rows(column, order, fmt):
    series, _flags = column
    fast = parse.parse_dates(series, fmt, order=order)
    slow = parse.parse_dates(series, fmt, order=order, distinct=False)
    _same(fast[0], slow[0])
    _same(fast[1], slow[1])


@FAST
@given(columns(IDS))
def test_ids_and_shapes_distinct_equal_rows(column):
    series, _flags = column
    _same(parse.parse_ids(series), parse.parse_ids(series, distinct=False))
    _same(parse.per_distinct(series, read._number_shapes), read._number_shapes(series))


def test_decimal_decided_by_the_first_5000_values_in_row_order():
    # 5,000 values that show a decimal point, then 6,000 that show a decimal comma: the point
    # wins (the first 5,000 decide), and the ambiguous "1,234" is then 1234, both ways.
    series = pd.Series(["1.5"] * 5000 + ["2,5"] * 6000 + ["1,234"], dtype="str")
    for distinct in (True, False):
        values, bad = parse.parse_amounts(series, distinct=distinct)
        assert values.iloc[0] == 1.5
        assert values.iloc[-1] == 1234.0
        assert not bad.any()
    flipped = pd.Series(["2,5"] * 5000 + ["1.5"] * 6000 + ["1,234"], dtype="str")
    for distinct in (True, False):
        values, _bad = parse.parse_amounts(flipped, distinct=distinct)
        assert values.iloc[-1] == 1.234
        assert values.iloc[-2] == 1.5  # one point, not three digits after: a decimal point


def _slow_parsers(monkeypatch) -> None:
    """Every parser reads row by row, as before the fast path."""
    monkeypatch.setattr(parse, "per_distinct", lambda text, fn: fn(text))
    monkeypatch.setattr(read, "per_distinct", lambda text, fn: fn(text))
    for name in ("parse_amounts", "parse_dates", "parse_ids", "amount_currencies"):
        monkeypatch.setattr(parse, name, functools.partial(getattr(parse, name), distinct=False))


@st.composite
def shipment_sheets(draw):
    n = draw(st.integers(1, 30))
    pick = st.sampled_from
    rows = {
        "Lieferschein-Nr.": draw(st.lists(pick(IDS[:6] + ("A1", "A2")), min_size=n, max_size=n)),
        "Debitor": draw(st.lists(pick(("10001", "0010001", "K7", "")), min_size=n, max_size=n)),
        "Warenausgang": draw(st.lists(pick(DATES), min_size=n, max_size=n)),
        "Versandbedingung": draw(
            st.lists(pick(("01", "02", "Express", "x")), min_size=n, max_size=n)
        ),
        "Frachtkosten": draw(st.lists(pick(AMOUNTS), min_size=n, max_size=n)),
        "Fracht berechnet": draw(st.lists(pick(AMOUNTS), min_size=n, max_size=n)),
    }
    repeat = draw(st.sampled_from((1, 7)))
    frame = pd.DataFrame({k: v * repeat for k, v in rows.items()}, dtype="str")
    return frame


MAPPING = Mapping(
    table="shipments",
    columns={
        "shipment_id": "Lieferschein-Nr.",
        "account_id": "Debitor",
        "ship_date": "Warenausgang",
        "ship_mode": "Versandbedingung",
        "freight_cost": "Frachtkosten",
        "freight_charged": "Fracht berechnet",
    },
    values={"ship_mode": {"01": "standard", "02": "express"}},
)


def _prepared(frame: pd.DataFrame):
    raw = RawSheet(
        file_name="export.csv",
        sheet=None,
        frame=frame.copy(),
        rows=np.arange(len(frame), dtype="int64") + 2,
        sha256="x",
        decimal_hint=",",
    )
    return prepare(raw, MAPPING, known_accounts={"10001"}, today=pd.Timestamp("2026-01-01").date())


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(shipment_sheets())
def test_import_fast_path_same_rows_and_findings(frame):
    fast = _prepared(frame)
    with pytest.MonkeyPatch.context() as mp:
        _slow_parsers(mp)
        slow = _prepared(frame)
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    assert [p.__dict__ for p in fast.problems] == [p.__dict__ for p in slow.problems]
    assert fast.rows_rejected == slow.rows_rejected
