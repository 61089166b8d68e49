"""DuckDB's memory, threads and spill folder for every connection the product opens (issue 15)."""

from __future__ import annotations

import pytest

from kam_analytics import db


def _settings(con) -> dict[str, str]:
    rows = con.execute(
        "SELECT name, value FROM duckdb_settings() "
        "WHERE name IN ('memory_limit', 'threads', 'temp_directory')"
    ).fetchall()
    return dict(rows)


def test_default_limits_are_one_gigabyte_two_threads_and_a_folder_beside_the_file(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(db.MEMORY_ENV, raising=False)
    monkeypatch.delenv(db.THREADS_ENV, raising=False)
    path = tmp_path / "data" / "kam.duckdb"
    con = db.connect(path)
    try:
        got = _settings(con)
    finally:
        con.close()
    # DuckDB shows 1GB (10^9 bytes) in MiB
    assert got == {
        "memory_limit": "953.6 MiB",
        "threads": "2",
        "temp_directory": str(tmp_path / "data" / "tmp" / "kam"),
    }


def test_the_environment_sets_the_limits_also_for_read_only_connections(tmp_path, monkeypatch):
    path = tmp_path / "kam.duckdb"
    db.connect(path).close()
    monkeypatch.setenv(db.MEMORY_ENV, "512MB")
    monkeypatch.setenv(db.THREADS_ENV, "1")
    con = db.connect(path, read_only=True)
    try:
        got = _settings(con)
    finally:
        con.close()
    assert got["memory_limit"] == "488.2 MiB"
    assert got["threads"] == "1"


@pytest.mark.parametrize("text", ["lots", "1 GBs", "-1GB", ""])
def test_a_memory_value_that_is_no_amount_falls_back_to_the_default(monkeypatch, text):
    monkeypatch.setenv(db.MEMORY_ENV, text)
    assert db.memory_limit() == "1GB"


@pytest.mark.parametrize(("text", "expected"), [("2GB", "2GB"), (" 768 MB ", "768MB")])
def test_a_memory_amount_is_passed_on(monkeypatch, text, expected):
    monkeypatch.setenv(db.MEMORY_ENV, text)
    assert db.memory_limit() == expected


@pytest.mark.parametrize(("text", "expected"), [("4", 4), ("0", 1), ("x", 2)])
def test_threads_are_a_whole_number_of_at_least_one(monkeypatch, text, expected):
    monkeypatch.setenv(db.THREADS_ENV, text)
    assert db.thread_limit() == expected


def test_a_query_larger_than_the_limit_spills_instead_of_failing(tmp_path, monkeypatch):
    monkeypatch.setenv(db.MEMORY_ENV, "64MB")
    monkeypatch.setenv(db.THREADS_ENV, "1")
    con = db.connect(tmp_path / "kam.duckdb")
    try:
        # a sort of 3 million rows of 40 bytes (~120 MB) does not fit in 64 MB
        n = con.execute(
            "SELECT count(*) FROM (SELECT i, md5(i::VARCHAR) AS h FROM range(3000000) t(i) "
            "ORDER BY h)"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert n == 3_000_000
