"""Collector.rows: one finding per failing row, each distinct value's texts rendered once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kam_analytics import errors
from kam_analytics.errors import Reason
from kam_analytics.ingest.problems import Collector
from kam_analytics.ingest.read import RawSheet


def _collector(n):
    frame = pd.DataFrame({"Versand": ["01", "02"] * (n // 2)})
    raw = RawSheet(
        file_name="ship.csv",
        sheet=None,
        frame=frame,
        rows=np.arange(n) + 2,
        sha256="",
        sheet_names=[],
    )
    return Collector(raw), frame["Versand"]


def test_one_finding_per_row_with_its_own_row_and_value(monkeypatch):
    calls = []
    real = errors.render_reason
    monkeypatch.setattr(errors, "render_reason", lambda *a, **k: calls.append(a) or real(*a, **k))
    out, source = _collector(20_000)
    mask = np.ones(20_000, dtype=bool)
    mask[:2] = False
    out.rows(mask, source, Reason.UNKNOWN_VALUE, "Versand", params={"name": "ship_mode"})
    rendered = len(calls)
    assert len(out.items) == 19_998
    first, second = out.items[0], out.items[1]
    assert (first.row, first.value, second.row, second.value) == (4, "01", 5, "02")
    assert out.items[-1].row == 20_001
    assert (
        first.message
        == errors.Problem(
            "ship.csv",
            None,
            4,
            "Versand",
            "01",
            Reason.UNKNOWN_VALUE,
            "error",
            {"name": "ship_mode", "value": "01", "column": "Versand"},
        ).message
    )
    assert str(first).startswith("ship.csv, row 4, column 'Versand': ")
    # two distinct values: their texts were rendered twice, not 19,998 times
    assert rendered == 2
