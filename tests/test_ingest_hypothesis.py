"""Generated exports with injected quirks are imported exactly or refused with exit 2 naming
file, row and column - never a third outcome (issue 12)."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.test_ingest_quirks import cli

RATE_CHF = Decimal("0.95")
ACCOUNTS = ("10001", "10002", "K7")


def _german(value: Decimal) -> str:
    sign = "-" if value < 0 else ""
    whole, frac = f"{abs(value):.3f}".split(".")
    groups = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{groups},{frac}"


@st.composite
def exports(draw):
    """(rows, options): one order per row with its account, day, amount and currency."""
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        rows.append(
            {
                "order": f"A{i}",
                "account": draw(st.sampled_from(ACCOUNTS)),
                "day": dt.date(2025, draw(st.integers(1, 12)), draw(st.integers(1, 28))),
                "amount": Decimal(draw(st.integers(-500_000, 9_000_000))) / 1000,
                "currency": draw(st.sampled_from(("EUR", "EUR", "CHF"))),
            }
        )
    options = {
        "xlsx": draw(st.booleans()),
        "slashed": draw(st.booleans()),
        "pad": draw(st.booleans()),
        "total": draw(st.booleans()),
        "total_named_remark": draw(st.booleans()),
        "rate": draw(st.booleans()),
        "text_amount_rows": draw(st.sets(st.integers(0, n - 1), max_size=3)),
        "currency_in_cell": draw(st.booleans()),
    }
    return rows, options


def _write(rows, o, folder: Path) -> Path:
    header = ["Auftrag", "Kunde", "Datum", "Umsatz", "Währung", "Bemerkung"]
    table = []
    for i, r in enumerate(rows):
        account = r["account"].zfill(10) if o["pad"] and r["account"].isdigit() else r["account"]
        day = r["day"].strftime("%d/%m/%Y" if o["slashed"] else "%d.%m.%Y")
        amount = _german(r["amount"])
        currency = r["currency"]
        if o["currency_in_cell"] and currency == "CHF":
            amount, currency = f"CHF {r['amount']:.3f}".replace(",", "'"), ""
        remark = "Total Deutschland GmbH" if o["total_named_remark"] and i == len(rows) - 1 else ""
        table.append([r["order"], account, day, amount, currency, remark])
    if o["total"]:
        total = sum(r["amount"] for r in rows)
        table.append(["Summe", "", "", _german(total), "", ""])
    if o["xlsx"]:
        path = folder / "export.xlsx"
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(header)
        for i, line in enumerate(table):
            cells = list(line)
            # Amounts as number cells, some as text (German notation) anywhere in the column.
            if i < len(rows) and i not in o["text_amount_rows"] and not line[3].startswith("CHF"):
                cells[3] = float(rows[i]["amount"])
            ws.append(cells)
        wb.save(path)
    else:
        path = folder / "export.csv"
        path.write_text("\n".join(";".join(x) for x in [header, *table]) + "\n", encoding="utf-8")
    return path


def _expected(rows, o):
    """Per-account EUR sums if the file must import, else None (it must be refused)."""
    if o["slashed"] and all(r["day"].day <= 12 for r in rows):
        if any(r["day"].day != r["day"].month for r in rows):
            return None  # every date fits day/month and month/day
    if not o["rate"] and any(r["currency"] == "CHF" for r in rows):
        return None  # no exchange rate for CHF
    sums: dict[str, Decimal] = {}
    for r in rows:
        value = r["amount"]
        if r["currency"] == "CHF":
            value = (value / RATE_CHF).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)
        sums[r["account"]] = sums.get(r["account"], Decimal(0)) + value
    return sums


@pytest.mark.slow
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(exports())
# Found by hypothesis: the number cell 1.38 made the text total "1,380" read as 1380, so an
# xlsx was refused where the same csv imported (a number cell now never votes, ingest/read.py).
@example(
    (
        [
            {"order": "A0", "account": "10001", "day": dt.date(2025, 1, 1)}
            | {"amount": Decimal("1.38"), "currency": "EUR"}
        ],
        {"xlsx": True, "slashed": False, "pad": False, "total": True}
        | {"total_named_remark": False, "rate": False, "text_amount_rows": set()}
        | {"currency_in_cell": False},
    )
)
def test_exact_or_exit_2(export):
    rows, o = export
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = _write(rows, o, folder)
        db = folder / "kam.duckdb"
        if o["rate"]:
            assert cli("rates", "set", "CHF", 2025, str(RATE_CHF), "--db", db)[0] == 0
        code, out, err = cli("import", path, "--db", db)
        expected = _expected(rows, o)
        if code == 2:
            assert expected is None, err
            # Every blocking line names the file, a row and a column.
            blocking = [line for line in err.splitlines() if line.startswith("  error: ")]
            assert blocking, err
            for line in blocking:
                assert path.name in line and re.search(r"rows?[: ]", line), line
                assert "column '" in line, line
            return
        assert code == 0, err
        assert expected is not None, out
        con = duckdb.connect(str(db))
        try:
            got = dict(
                con.execute("SELECT account_id, sum(net_revenue) FROM orders GROUP BY 1").fetchall()
            )
            n = con.execute("SELECT count(*) FROM orders").fetchall()[0][0]
        finally:
            con.close()
        assert n == len(rows)
        assert got == expected
