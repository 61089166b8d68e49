"""Hostile files are refused with a message naming them: fast, within memory, database unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile

import pytest

from kam_analytics import db
from kam_analytics.errors import ImportBlockedError
from kam_analytics.ingest import guard
from kam_analytics.ingest.messages import localise_problem
from kam_analytics.ingest.read import read_source
from kam_analytics.settings_store import DEFAULT_IMPORT_LIMITS, ImportLimits
from tests.conftest import DATA, ROOT, run_cli

# What each hostile file is refused for (tests/hostile_files.py).
EXPECTED = {
    "bomb.xlsx": "zip_too_large",
    "huge_dimension.xlsx": "too_many_columns",
    "huge_range_no_dimension.xlsx": "read_memory",  # passes every claim: the child's limit
    "long_cell.xlsx": "cell_too_long",
    "wide.csv": "too_many_columns",
    "wide.xlsx": "too_many_columns",
    "long_cell.csv": "unreadable_file",
    "garbage.xlsx": "unreadable_file",
    "garbage.xls": "unreadable_file",
    "garbage.ods": "unreadable_file",
    "garbage.csv": "unreadable_file",
    "truncated.xlsx": "unreadable_file",
    "password_protected.xlsx": "password_protected",
    "nul_bytes.csv": "unreadable_file",  # a NUL in the first 4 KB: "not a text table"
    "nul_bytes_late.csv": "nul_bytes",
    "repeated.ods": "too_many_columns",
}

_MEASURE = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from kam_analytics.errors import ImportBlockedError
from kam_analytics.ingest.read import read_source
out = {{}}
for name, path in json.loads(sys.argv[1]).items():
    t = time.perf_counter()
    try:
        read_source(path)
        reason = None
    except ImportBlockedError as exc:
        reason = exc.problems[0].reason
    kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
             resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    out[name] = [reason, time.perf_counter() - t, kb / 1024]
print(json.dumps(out))
"""


def test_corpus_is_complete(hostile_files):
    assert set(hostile_files) == set(EXPECTED)


def test_each_file_refused_for_its_reason_in_time_and_memory(hostile_files):
    """In a fresh process, so that its peak memory (own and reader children) is this test's."""
    paths = {name: str(p) for name, p in hostile_files.items()}
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE.format(root=str(ROOT)), json.dumps(paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    # The reader's Rust backtrace on its out-of-memory abort never reaches the terminal.
    assert "backtrace" not in out.stderr and "memory allocation" not in out.stderr
    results = json.loads(out.stdout)
    for name, (reason, seconds, peak_mb) in results.items():
        assert reason == EXPECTED[name], name
        assert seconds < 30, name
        assert peak_mb < 1024, (name, peak_mb)


def test_cli_refuses_all_with_exit_2_naming_each_file_db_unchanged(hostile_files, db_path):
    con = db.connect(db_path)
    before = db.count_rows(con)
    con.close()
    t = time.perf_counter()
    res = run_cli("import", *hostile_files.values(), "--db", db_path)
    assert time.perf_counter() - t < 30
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    lines = res.stderr.splitlines()
    for name in hostile_files:
        # "<file>:" and under it an error line that names the file again.
        at = lines.index(f"{name}:")
        assert lines[at + 1].startswith(f"  error: {name}"), (name, lines[at + 1])
    con = db.connect(db_path)
    assert db.count_rows(con) == before
    assert con.execute("SELECT count(*) FROM import_log").fetchall() == [(0,)]
    con.close()


def test_one_file_alone_gets_exit_2_and_its_message(hostile_files, db_path):
    res = run_cli("import", hostile_files["huge_dimension.xlsx"], "--db", db_path)
    assert res.returncode == 2
    assert (
        "huge_dimension.xlsx: The sheet Daten has 16,384 columns (at most 1,000 allowed)"
        in res.stderr
    )


def test_refusals_have_german_and_exact_english(hostile_files):
    for name, path in hostile_files.items():
        with pytest.raises(ImportBlockedError) as info:
            read_source(path)
        for problem in info.value.problems:
            assert localise_problem(problem, "en") == (problem.message, problem.hint), name
            assert localise_problem(problem, "de") != (problem.message, problem.hint), name


def test_dimension_claims_refused_before_reading():
    """The 1.6 KB file of STACK.md: refused from its claims alone, no child process needed."""
    from hostile_files import _xlsx

    def claims(tmp, dim):
        path = _xlsx(tmp, '<row r="1"><c r="A1"><v>1</v></c></row>', dim)
        guard.check_claims(path.read_bytes(), "x.xlsx")

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.xlsx"
        claims(p, "A1:Z100")  # 26 x 100: fine
        with pytest.raises(ImportBlockedError) as info:
            claims(p, "A1:CV300000")  # 100 columns x 300,000 rows = 30 M cells
        problem = info.value.problems[0]
        assert problem.reason == "sheet_too_large"
        assert problem.params["rows"] == "300,000" and problem.params["cols"] == "100"


def test_compression_ratio_and_entries_limits(tmp_path):
    path = tmp_path / "ratio.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/sharedStrings.xml", b"<sst>" + b" " * 20_000_000 + b"</sst>")
    data = path.read_bytes()
    # 20 MB is far under the 1 GB total, but a thousand times its packed size.
    with pytest.raises(ImportBlockedError) as info:
        guard.check_claims(data, "ratio.xlsx")
    assert info.value.problems[0].reason == "zip_bomb"
    assert info.value.problems[0].params["part"] == "xl/sharedStrings.xml"
    guard.check_claims(data, "ratio.xlsx", ImportLimits(max_compression_ratio=1e6))
    with pytest.raises(ImportBlockedError) as info:
        guard.check_claims(data, "ratio.xlsx", ImportLimits(max_zip_entries=0))
    assert info.value.problems[0].params["variant"] == "entries"
    with pytest.raises(ImportBlockedError) as info:
        guard.check_claims(data, "ratio.xlsx", ImportLimits(max_file_bytes=1000))
    assert info.value.problems[0].reason == "file_too_large"


def test_reader_overrunning_its_time_is_stopped():
    t = time.perf_counter()
    with pytest.raises(ImportBlockedError) as info:
        guard.run_guarded(time.sleep, (30,), {}, "slow.xlsx", ImportLimits(max_seconds=1))
    assert time.perf_counter() - t < 5
    assert info.value.problems[0].reason == "read_timeout"
    assert info.value.problems[0].file == "slow.xlsx"


def test_normal_files_read_exactly_as_without_the_guard():
    for name in ("shipments_sap_title_total.xlsx", "orders_de_semikolon_cp1252.csv"):
        guarded = read_source(DATA / name)
        direct = read_source.__wrapped__(DATA / name)
        assert guarded.file_name == direct.file_name == name
        assert guarded.frame.equals(direct.frame)
        assert list(guarded.rows) == list(direct.rows)
        assert [p.reason for p in guarded.notices] == [p.reason for p in direct.notices]


def test_limits_are_one_settings_dataclass():
    assert DEFAULT_IMPORT_LIMITS.max_columns == 1000
    assert DEFAULT_IMPORT_LIMITS.max_cell_chars == 32_767
    assert guard.column_number("XFD") == 16384 and guard.column_number("A") == 1


@pytest.mark.slow
def test_in_a_threaded_server_a_ready_reader_interpreter_does_the_reading(hostile_files):
    """The Streamlit server has many threads: no fork there, a pre-started worker instead."""
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert not guard._single_threaded()
        guard.warm_up()
        normal = read_source(DATA / "shipments_sap_title_total.xlsx")
        assert normal.frame.equals(
            read_source.__wrapped__(DATA / "shipments_sap_title_total.xlsx").frame
        )
        for name in ("huge_range_no_dimension.xlsx", "long_cell.xlsx", "garbage.xls"):
            with pytest.raises(ImportBlockedError) as info:
                read_source(hostile_files[name])
            assert info.value.problems[0].reason == EXPECTED[name], name
        t = time.perf_counter()
        with pytest.raises(ImportBlockedError) as info:
            guard.run_guarded(time.sleep, (30,), {}, "slow.xlsx", ImportLimits(max_seconds=2))
        assert info.value.problems[0].reason == "read_timeout"
        assert time.perf_counter() - t < 8
    finally:
        stop.set()
        other.join()
