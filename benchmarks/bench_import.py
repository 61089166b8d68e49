"""Import speed: a 100,000-row x 15-column shipments xlsx, read + validated + loaded.

    .venv/bin/python benchmarks/bench_import.py [--skip-openpyxl] [--rows N]

Generates the file once (cached in benchmarks/out/), then measures fastexcel reading it alone,
pandas.read_excel(engine="openpyxl") alone, and the full import into a fresh DuckDB file. The
fastexcel read and the import each run in a fresh process (equally cold; the import's peak
memory is read from RUSAGE_CHILDREN); the times exclude interpreter start-up and imports. Targets (issue 3):
import <= 1.5 x fastexcel read, >= 10 x faster than openpyxl, peak memory < 1 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"

HEADERS = [
    "Lieferschein-Nr.",
    "Debitor",
    "Warenausgang",
    "Versandbedingung",
    "Frachtkosten",
    "Fracht berechnet",
    "Auftrag",
    "Werk",
    "Gewicht",
    "Menge",
    "Land",
    "Ort",
    "Spediteur",
    "Bemerkung",
    "Position",
]


def make_file(rows: int) -> Path:
    """Write (once) a realistic SAP-like shipments export with `rows` rows."""
    import xlsxwriter

    path = OUT / f"shipments_{rows}.xlsx"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(42)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Lieferungen")
    datef = wb.add_format({"num_format": "dd.mm.yyyy"})
    ws.write_row(0, 0, HEADERS)
    start = dt.datetime(2025, 1, 1)
    for i in range(rows):
        r = i + 1
        ws.write_string(r, 0, f"{80000000 + i:010d}")
        ws.write_number(r, 1, 10000 + rnd.randrange(800))
        ws.write_datetime(r, 2, start + dt.timedelta(days=rnd.randrange(330)), datef)
        ws.write_string(r, 3, rnd.choice(("01", "01", "01", "02")))
        ws.write_number(r, 4, round(rnd.uniform(5, 400), 2))
        ws.write_number(r, 5, round(rnd.uniform(0, 60), 2))
        ws.write_number(r, 6, 4500000 + i // 2)
        ws.write_string(r, 7, rnd.choice(("1000", "1100", "2000")))
        ws.write_number(r, 8, round(rnd.uniform(0.5, 900), 3))
        ws.write_number(r, 9, rnd.randrange(1, 60))
        ws.write_string(r, 10, "DE")
        ws.write_string(r, 11, rnd.choice(("Berlin", "Köln", "München", "Hamburg")))
        ws.write_string(r, 12, rnd.choice(("DHL", "DB Schenker", "UPS", "Kurier")))
        ws.write_string(r, 13, rnd.choice(("", "", "", "Termin", "Rückruf")))
        ws.write_number(r, 14, 10 * (i % 5 + 1))
    wb.close()
    return path


_FASTEXCEL_CHILD = """
import json, time
import fastexcel
t = time.perf_counter()
fastexcel.read_excel({path!r}).load_sheet(0).to_arrow()
print(json.dumps({{"read_s": time.perf_counter() - t}}))
"""


def time_fastexcel(path: Path) -> float:
    """Seconds for fastexcel to read the sheet into Arrow (the reference reader), measured in
    a fresh process like the import, so that both start equally cold."""
    out = subprocess.run(
        [sys.executable, "-c", _FASTEXCEL_CHILD.format(path=str(path))],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["read_s"]


def time_openpyxl(path: Path) -> float:
    """Seconds for pandas.read_excel with openpyxl."""
    import pandas as pd

    t = time.perf_counter()
    pd.read_excel(path, engine="openpyxl")
    return time.perf_counter() - t


_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
from kam_analytics import db
from kam_analytics.ingest.pipeline import import_files
t1 = time.perf_counter()
con = db.connect({db!r})
t2 = time.perf_counter()
res = import_files(con, [{path!r}], username="bench", profile={profile!r})
t3 = time.perf_counter()
n = con.execute("SELECT count(*) FROM shipments").fetchall()[0][0]
con.close()
print(json.dumps({{"import_s": t3 - t2, "open_db_s": t2 - t1, "imports_s": t1 - t0,
                  "rows": n, "inserted": res[0].inserted,
                  "warnings": sum(1 for p in res[0].problems if p.severity != "error")}}))
"""


def run_import(path: Path) -> dict:
    """Full import (read + validate + load into a fresh DuckDB file) in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        # Shipping conditions 01/02 are codes the import never guesses: a partial profile says.
        profile = Path(tmp) / "bench.toml"
        profile.write_text(
            'table = "shipments"\n[values.ship_mode]\n"01" = "standard"\n"02" = "express"\n'
        )
        code = _CHILD.format(
            root=str(ROOT), db=str(Path(tmp) / "bench.duckdb"), path=str(path), profile=str(profile)
        )
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        wall = time.perf_counter() - t
    info = json.loads(out.stdout.strip().splitlines()[-1])
    info["wall_s"] = wall
    info["peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return info


def main(argv=None) -> int:
    """Generate, measure, print the table and the ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--skip-openpyxl", action="store_true", help="skip the slow openpyxl read")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for fastexcel and import")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    path = make_file(args.rows)
    print(
        f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {args.rows:,} rows x "
        f"{len(HEADERS)} columns; ready in {time.perf_counter() - t:.1f} s)"
    )
    fe_runs, runs = [], []
    for _ in range(args.repeat):  # interleaved, so that load from other processes hits both
        fe_runs.append(time_fastexcel(path))
        runs.append(run_import(path))
    fe = min(fe_runs)
    best = min(runs, key=lambda r: r["import_s"])
    op = None if args.skip_openpyxl else time_openpyxl(path)
    print()
    print(f"{'step':<44}{'seconds':>10}")
    best_of = f"(best of {args.repeat})"
    print(f"{'fastexcel read -> Arrow ' + best_of:<44}{fe:>10.2f}")
    if op is not None:
        print(f"{'pandas.read_excel(engine=openpyxl)':<44}{op:>10.2f}")
    print(f"{'full import: read+validate+load ' + best_of:<44}{best['import_s']:>10.2f}")
    print(f"{'  process wall incl. start-up and imports':<44}{best['wall_s']:>10.2f}")
    print(f"{'  opening/creating the DuckDB file':<44}{best['open_db_s']:>10.2f}")
    print()
    print(
        f"rows loaded: {best['rows']:,} (inserted {best['inserted']:,}, "
        f"{best['warnings']} warnings)"
    )
    ratio = best["import_s"] / fe
    print(f"import / fastexcel read: {ratio:.2f} x   (target <= 1.5)")
    if op is not None:
        print(f"openpyxl / import:       {op / best['import_s']:.1f} x   (target >= 10)")
    print(f"peak memory of the import process: {best['peak_mb']:.0f} MB   (target < 1024)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
