"""An import killed half-way (SIGKILL inside the transaction) leaves the database unchanged."""

import os
import signal
import subprocess
import sys
import time

import duckdb

from tests.conftest import ROOT


def _snapshot(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return (
            con.execute("SELECT * FROM shipments ORDER BY shipment_id").fetchall(),
            con.execute("SELECT import_id, status FROM import_log ORDER BY 1").fetchall(),
            con.execute("SELECT count(*) FROM import_changes").fetchall(),
        )
    finally:
        con.close()


def test_sigkill_half_way_leaves_database_unchanged(tmp_path, db_path):
    first = tmp_path / "first.csv"
    first.write_text(
        "shipment_id;account_id;ship_date;ship_mode;freight_cost\nS0;K1;01.01.2025;express;1,00\n",
        encoding="utf-8",
    )
    big = tmp_path / "big.csv"
    lines = [
        "shipment_id;account_id;ship_date;ship_mode;freight_cost",
        "S0;K1;01.01.2025;express;2,00",
    ]  # an update of the existing row
    lines += [f"S{i};K{i % 50};02.01.2025;standard;{i},50" for i in range(1, 20001)]
    big.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "kam_analytics", "import", "--db", str(db_path)]
    subprocess.run([*cmd, str(first)], check=True, cwd=ROOT, capture_output=True)
    before = _snapshot(db_path)
    env = {**os.environ, "KAM_TEST_PAUSE_AFTER_ROWS": "60"}
    proc = subprocess.Popen(
        [*cmd, str(big)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.time() + 60
    line = ""
    while time.time() < deadline:
        line = proc.stderr.readline()
        if "KAM_TEST_PAUSED" in line or not line:
            break
    assert "KAM_TEST_PAUSED" in line  # the rows are written, the transaction still open
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    after = _snapshot(db_path)
    assert after == before
    assert after[0][0][:2] == ("S0", "K1") and len(after[0]) == 1
