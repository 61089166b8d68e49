"""Import speed: the full import a user runs vs the fastest raw reader of the same file.

    .venv/bin/python benchmarks/bench_import.py [--rows N] [--formats xlsx,csv] [--existing DB]

A realistic SAP-like shipments export (`--rows`, default 100,000; 15 columns) is written once
per format into benchmarks/out/ (git-ignored): xlsx with xlsxwriter's constant_memory mode, csv
the way a German system writes it (';', decimal comma, dd.mm.yyyy, UTF-8). Then, interleaved
`--repeat` times (best of N), each in a fresh process:

- raw readers, which only read the file into memory: xlsx fastexcel -> Arrow (default types,
  and all cells as text as the import reads them), python-calamine (when installed); csv
  DuckDB read_csv -> Arrow and pyarrow.csv. Their read time excludes interpreter start-up and
  imports; the process wall time includes them.
- the product's import as a user runs it: `python -m kam_analytics import FILE --db DB
  --profile P`: guarded read, validation, automatic backup, change-report snapshots, load,
  report. Timed as process wall (start-up included), into a fresh database and, with
  `--existing DB` (default: the large demo in /work/bench-data or benchmarks/out, when there),
  into a copy of a database with existing data (the copy is not timed).
- peak memory of the import process with its children (the guarded reader): the sum of their
  proportional set sizes (PSS, shared pages counted once), sampled every 50 ms, and the
  largest single process's RSS (ru_maxrss).

Budget (issue 15), checked on the import into a fresh database: import wall <= 1.3 x the
fastest raw reader's process wall, peak memory < 2 GB. Exit 1 when one is missed. Results
also go to benchmarks/out/import_results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
RATIO_BUDGET = 1.3
MEMORY_BUDGET_MB = 2048
EXISTING_CANDIDATES = (Path("/work/bench-data/large.duckdb"), OUT / "large.duckdb")

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
# Shipping conditions 01/02 are codes the import never guesses: a partial profile says.
PROFILE = 'table = "shipments"\n[values.ship_mode]\n"01" = "standard"\n"02" = "express"\n'


def _rows(rows: int):
    """The export's rows (seed 42): the same values for every format."""
    rnd = random.Random(42)
    start = dt.datetime(2025, 1, 1)
    for i in range(rows):
        yield (
            f"{80000000 + i:010d}",
            10000 + rnd.randrange(800),
            start + dt.timedelta(days=rnd.randrange(330)),
            rnd.choice(("01", "01", "01", "02")),
            round(rnd.uniform(5, 400), 2),
            round(rnd.uniform(0, 60), 2),
            4500000 + i // 2,
            rnd.choice(("1000", "1100", "2000")),
            round(rnd.uniform(0.5, 900), 3),
            rnd.randrange(1, 60),
            "DE",
            rnd.choice(("Berlin", "Köln", "München", "Hamburg")),
            rnd.choice(("DHL", "DB Schenker", "UPS", "Kurier")),
            rnd.choice(("", "", "", "Termin", "Rückruf")),
            10 * (i % 5 + 1),
        )


def _write_once(path: Path, write) -> Path:
    """`path`, written by `write(part)` under a temporary name the first time it is asked for.

    An interrupted run leaves only the `.part` file, never a half-written export.
    """
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    write(part)
    part.rename(path)
    return path


def make_file(rows: int) -> Path:
    """Write (once) the shipments export as xlsx with `rows` rows (constant memory)."""
    return _write_once(OUT / f"shipments_{rows}.xlsx", lambda part: _write_xlsx(part, rows))


def _write_xlsx(part: Path, rows: int) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(part), {"constant_memory": True})
    ws = wb.add_worksheet("Lieferungen")
    datef = wb.add_format({"num_format": "dd.mm.yyyy"})
    ws.write_row(0, 0, HEADERS)
    text_columns = {0, 3, 7, 10, 11, 12, 13}
    for r, values in enumerate(_rows(rows), 1):
        for c, v in enumerate(values):
            if c == 2:
                ws.write_datetime(r, c, v, datef)
            elif c in text_columns:
                ws.write_string(r, c, v)
            else:
                ws.write_number(r, c, v)
    wb.close()


def _german(v) -> str:
    if isinstance(v, float):
        return f"{v}".replace(".", ",")
    if isinstance(v, dt.datetime):
        return v.strftime("%d.%m.%Y")
    return str(v)


def make_csv(rows: int) -> Path:
    """Write (once) the same export as a German csv (';', decimal comma, dd.mm.yyyy)."""
    return _write_once(OUT / f"shipments_{rows}.csv", lambda part: _write_csv(part, rows))


def _write_csv(part: Path, rows: int) -> None:
    with open(part, "w", encoding="utf-8", newline="") as fh:
        fh.write(";".join(HEADERS) + "\r\n")
        batch = []
        for values in _rows(rows):
            batch.append(";".join(_german(v) for v in values))
            if len(batch) >= 50_000:
                fh.write("\r\n".join(batch) + "\r\n")
                batch = []
        if batch:
            fh.write("\r\n".join(batch) + "\r\n")


# --- raw readers ---------------------------------------------------------------------------

_READERS = {
    "xlsx": {
        "fastexcel": (
            "import fastexcel",
            "tbl = fastexcel.read_excel(PATH).load_sheet(0).to_arrow(); n = tbl.num_rows",
        ),
        "fastexcel (all text)": (
            "import fastexcel",
            "tbl = fastexcel.read_excel(PATH).load_sheet(0, dtypes='string').to_arrow(); "
            "n = tbl.num_rows",
        ),
        "python-calamine": (
            "from python_calamine import CalamineWorkbook",
            "n = len(CalamineWorkbook.from_path(PATH).get_sheet_by_index(0).to_python()) - 1",
        ),
    },
    "csv": {
        "duckdb read_csv": (
            "import duckdb",
            "tbl = duckdb.sql('SELECT * FROM read_csv(?)'.replace('?', repr(PATH)))"
            ".to_arrow_table(); n = tbl.num_rows",
        ),
        "pyarrow.csv": (
            "import pyarrow.csv as pc",
            "tbl = pc.read_csv(PATH, parse_options=pc.ParseOptions(delimiter=';')); "
            "n = tbl.num_rows",
        ),
    },
}

_READER_CHILD = """
import json, time
PATH = {path!r}
{setup}
t = time.perf_counter()
{read}
print(json.dumps({{"read_s": time.perf_counter() - t, "rows": n}}))
"""


def time_reader(fmt: str, name: str, path: Path) -> dict | None:
    """One raw reader in a fresh process: read seconds, process wall, rows; None when the
    reader is not installed."""
    setup, read = _READERS[fmt][name]
    code = _READER_CHILD.format(path=str(path), setup=setup, read=read)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        if "ModuleNotFoundError" in out.stderr:
            return None
        raise RuntimeError(f"{name} failed: {out.stderr[-2000:]}")
    info = json.loads(out.stdout.strip().splitlines()[-1])
    return {**info, "wall_s": wall}


def time_fastexcel(path: Path) -> float:
    """Seconds for fastexcel to read the sheet into Arrow, in a fresh process."""
    return time_reader("xlsx", "fastexcel", path)["read_s"]


def time_openpyxl(path: Path) -> float:
    """Seconds for pandas.read_excel with openpyxl."""
    import pandas as pd

    t = time.perf_counter()
    pd.read_excel(path, engine="openpyxl")
    return time.perf_counter() - t


# --- the product's import ------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_pss_mb(pid: int) -> float:
    """PSS of a process and all its descendants, in MB (shared pages counted once)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _pss_kb(p)
        todo += _children(p)
    return total / 1024


def run_measured(cmd: list[str], env=None, cwd=None) -> dict:
    """Run a command; its wall time, exit code, output, peak tree PSS and largest RSS."""
    peak = [0.0]
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True
    )
    done = threading.Event()

    def sample():
        while not done.wait(0.05):
            peak[0] = max(peak[0], tree_pss_mb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # Read the pipes in threads so that a chatty child never blocks; reap with wait4 for
    # the child's own rusage (ru_maxrss covers its reaped children too).
    chunks = {"out": [], "err": []}
    readers = [
        threading.Thread(target=lambda s=s, k=k: chunks[k].append(s.read()), daemon=True)
        for s, k in ((proc.stdout, "out"), (proc.stderr, "err"))
    ]
    for r in readers:
        r.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    for r in readers:
        r.join()
    return {
        "wall_s": wall,
        "code": proc.returncode,
        "stdout": "".join(chunks["out"]),
        "stderr": "".join(chunks["err"]),
        "peak_pss_mb": peak[0],
        "max_rss_mb": usage.ru_maxrss / 1024,
    }


def _import_cmd(path: Path, db_path: Path, profile: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "kam_analytics",
        "import",
        str(path),
        "--db",
        str(db_path),
        "--profile",
        str(profile),
        "--user",
        "bench",
    ]


def run_cli_import(path: Path, existing: Path | None = None) -> dict:
    """The CLI import into a fresh database (or a copy of `existing`), in a temp folder."""
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        profile = Path(tmp) / "bench.toml"
        profile.write_text(PROFILE)
        db_path = Path(tmp) / "bench.duckdb"
        if existing is not None:
            shutil.copyfile(existing, db_path)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KAM_WORKER": "0"}
        info = run_measured(_import_cmd(path, db_path, profile), env=env, cwd=tmp)
    if info["code"] != 0:
        raise RuntimeError(f"import failed ({info['code']}): {info['stderr'][-3000:]}")
    return info


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
    """Library import (import_files into a fresh file) in a child process: import_s is the
    import alone (no start-up, no backup), as benchmarks/bench_pages.py reports it."""
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "bench.toml"
        profile.write_text(PROFILE)
        code = _CHILD.format(
            root=str(ROOT), db=str(Path(tmp) / "bench.duckdb"), path=str(path), profile=str(profile)
        )
        info = run_measured([sys.executable, "-c", code])
    if info["code"] != 0:
        raise RuntimeError(f"import failed: {info['stderr'][-3000:]}")
    out = json.loads(info["stdout"].strip().splitlines()[-1])
    return {**out, "wall_s": info["wall_s"], "peak_mb": info["peak_pss_mb"]}


# --- the table -----------------------------------------------------------------------------


def _existing_db(arg: str | None) -> Path | None:
    if arg == "none":
        return None
    if arg:
        return Path(arg)
    return next((p for p in EXISTING_CANDIDATES if p.exists()), None)


def measure_format(fmt: str, rows: int, repeat: int, existing: Path | None) -> dict:
    """Every raw reader and the CLI import of one format, best of `repeat` (interleaved)."""
    t = time.perf_counter()
    path = make_file(rows) if fmt == "xlsx" else make_csv(rows)
    print(
        f"\n== {fmt}: {path.name} ({path.stat().st_size / 1e6:.1f} MB, {rows:,} rows x "
        f"{len(HEADERS)} columns; ready in {time.perf_counter() - t:.1f} s)",
        flush=True,
    )
    readers: dict[str, list[dict]] = {name: [] for name in _READERS[fmt]}
    fresh, into = [], []
    for _ in range(repeat):  # interleaved, so that load from other processes hits all alike
        for name in readers:
            info = time_reader(fmt, name, path)
            if info is not None:
                readers[name].append(info)
        fresh.append(run_cli_import(path))
        if existing is not None:
            into.append(run_cli_import(path, existing))
    best = {name: min(runs, key=lambda r: r["wall_s"]) for name, runs in readers.items() if runs}
    missing = [name for name, runs in readers.items() if not runs]
    # The raw readers that take every cell as text are not the user-facing reference.
    ranked = {n: r for n, r in best.items() if "text" not in n}
    fastest = min(ranked, key=lambda n: ranked[n]["wall_s"])
    imp = min(fresh, key=lambda r: r["wall_s"])
    imp_existing = min(into, key=lambda r: r["wall_s"]) if into else None
    ref = best[fastest]
    ratio = imp["wall_s"] / ref["wall_s"]
    peak = max(r["peak_pss_mb"] for r in fresh)
    result = {
        "format": fmt,
        "file": str(path),
        "rows": rows,
        "readers": {n: {k: r[k] for k in ("read_s", "wall_s", "rows")} for n, r in best.items()},
        "readers_missing": missing,
        "fastest_reader": fastest,
        "import_fresh": {k: imp[k] for k in ("wall_s", "peak_pss_mb", "max_rss_mb")},
        "import_existing": (
            {k: imp_existing[k] for k in ("wall_s", "peak_pss_mb", "max_rss_mb")}
            if imp_existing
            else None
        ),
        "existing_db": str(existing) if existing else None,
        "ratio": ratio,
        "ratio_strict": imp["wall_s"] / ref["read_s"],
        "ratio_ok": ratio <= RATIO_BUDGET,
        "memory_ok": peak < MEMORY_BUDGET_MB,
        "import_report": imp["stdout"].strip().splitlines()[-3:],
    }
    _print_format(result, repeat)
    return result


def _print_format(r: dict, repeat: int) -> None:
    print(f"{'':<2}{'step (best of ' + str(repeat) + ')':<46}{'read s':>9}{'wall s':>9}")
    for name, info in r["readers"].items():
        mark = "  <- fastest" if name == r["fastest_reader"] else ""
        print(f"  {'raw reader: ' + name:<46}{info['read_s']:>9.2f}{info['wall_s']:>9.2f}{mark}")
    for name in r["readers_missing"]:
        print(f"  {'raw reader: ' + name:<46}{'not installed':>18}")
    fresh = r["import_fresh"]
    print(f"  {'CLI import into a fresh database':<46}{'':>9}{fresh['wall_s']:>9.2f}")
    if r["import_existing"]:
        ex = r["import_existing"]
        print(f"  {'CLI import into a copy with existing data':<46}{'':>9}{ex['wall_s']:>9.2f}")
        print(f"    (existing data: {r['existing_db']})")
    print(f"  import says: {' | '.join(r['import_report'])}")
    ok = "PASS" if r["ratio_ok"] else "FAIL"
    print(
        f"  ratio import / fastest reader (process wall): {r['ratio']:.2f} x "
        f"(budget <= {RATIO_BUDGET}) {ok}; against its read time alone: {r['ratio_strict']:.2f} x"
    )
    if r["import_existing"]:
        ex = r["import_existing"]["wall_s"] / r["readers"][r["fastest_reader"]]["wall_s"]
        print(f"  ratio with existing data (not the budget): {ex:.2f} x")
    ok = "PASS" if r["memory_ok"] else "FAIL"
    print(
        f"  peak memory, import process + children (PSS): {fresh['peak_pss_mb']:.0f} MB "
        f"(budget < {MEMORY_BUDGET_MB}) {ok}; largest single process RSS "
        f"{fresh['max_rss_mb']:.0f} MB"
    )


def main(argv=None) -> int:
    """Generate, measure, print the table and the budgets; exit 1 when one is missed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--formats", default="xlsx,csv", help="comma-separated: xlsx, csv")
    ap.add_argument("--repeat", type=int, default=3, help="best of N, interleaved")
    ap.add_argument(
        "--existing",
        help="database with existing data to import into (a copy); 'none' to skip; default "
        "the large demo in /work/bench-data or benchmarks/out when present",
    )
    ap.add_argument("--openpyxl", action="store_true", help="also time pandas+openpyxl (slow)")
    ap.add_argument("--skip-openpyxl", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    existing = _existing_db(args.existing)
    results = [
        measure_format(fmt.strip(), args.rows, args.repeat, existing)
        for fmt in args.formats.split(",")
        if fmt.strip()
    ]
    if args.openpyxl and any(r["format"] == "xlsx" for r in results):
        op = time_openpyxl(make_file(args.rows))
        print(f"\npandas.read_excel(engine=openpyxl) of the xlsx: {op:.1f} s")
    failed = [
        f"{r['format']} {what}"
        for r in results
        for what, ok in (("ratio", r["ratio_ok"]), ("memory", r["memory_ok"]))
        if not ok
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "import_results.json").write_text(
        json.dumps(
            {
                "measured_at": dt.datetime.now().isoformat(timespec="seconds"),
                "cpus": os.cpu_count(),
                "budgets": {"ratio": RATIO_BUDGET, "memory_mb": MEMORY_BUDGET_MB},
                "results": results,
            },
            indent=2,
        )
    )
    print("\n" + ("all budgets met" if not failed else "budget missed: " + ", ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
