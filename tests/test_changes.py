"""The change report (issue 17): exactly the changes made between two data states.

State 1 (today = the running year): K1 KEY (KAM1) and K2 A (KAM2), both ordering every month;
one giveaway (K2 training, billed policy, not billed: 1.800 €).
State 2: K2 becomes a key account, K1 gets an express shipment not charged (a new finding:
EXPRESS_FREIGHT for KEY is waived policy, silent -> invisible value, no leakage) and K2 a second
unbilled training (new giveaway 900 €). Nothing else changes.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kam_analytics import snapshots
from kam_analytics.access import Scope
from kam_analytics.errors import NotFoundError
from kam_analytics.metrics.changes import compare_states, report_changes

ALL = Scope.everything()
KAM1 = Scope(username="k1", role="kam", kam_id="KAM1")
TODAY = dt.date.today()


def _day(days_ago: int) -> dt.date:
    return TODAY - dt.timedelta(days=days_ago)


@pytest.fixture
def states(con):
    from kam_analytics.catalogue import seed_matrix

    seed_matrix(con, TODAY.year)
    con.execute("INSERT INTO kams (kam_id, name) VALUES ('KAM1', 'Eins'), ('KAM2', 'Zwei')")
    con.execute(
        "INSERT INTO accounts (account_id, name, tier, kam_id) VALUES"
        " ('K1', 'Eins GmbH', 'KEY', 'KAM1'), ('K2', 'Zwei AG', 'A', 'KAM2')"
    )
    for acc in ("K1", "K2"):
        for i in range(0, 360, 30):
            con.execute(
                "INSERT INTO orders (order_id, line_no, account_id, order_date, net_revenue)"
                " VALUES (?, '1', ?, ?, 1000)",
                [f"{acc}-{i}", acc, _day(i)],
            )
    con.execute(
        "INSERT INTO service_events (event_id, account_id, date, service_code, quantity, cost,"
        " list_value, billed_amount, billing_mode) VALUES"
        " ('E1', 'K2', ?, 'TRAINING', 1, 900, 1800, 0, 'silent')",
        [_day(5)],
    )
    before = snapshots.capture_figures(con)
    con.execute("UPDATE accounts SET tier = 'KEY' WHERE account_id = 'K2'")
    con.execute(
        "INSERT INTO service_events (event_id, account_id, date, service_code, quantity, cost,"
        " list_value, billed_amount, billing_mode) VALUES"
        " ('E2', 'K2', ?, 'INNOVATION_WS', 1, 450, 900, 0, 'waived')",
        [_day(3)],
    )
    con.execute(
        "INSERT INTO shipments (shipment_id, account_id, ship_date, ship_mode, freight_cost,"
        " freight_charged, billing_mode) VALUES ('S1', 'K1', ?, 'express', 120, 0, 'silent')",
        [_day(2)],
    )
    after = snapshots.capture_figures(con)
    snapshots.insert_snapshot(con, [7], before, after)
    return con, before, after


def test_lists_exactly_the_changes(states):
    con, before, after = states
    df = compare_states(con, before, after, ALL)
    got = sorted((r.section, r.account_id, r.detail or "") for r in df.itertuples())
    # K2 became KEY: its training is free for KEY now, so the 1.800 € giveaway is gone (the
    # policy check uses the current tier); the workshop is free for KEY; K1's silent express
    # shipment is invisible value under the waived policy (no leakage). Nothing else.
    assert got == [
        ("key_new", "K2", ""),
        ("leakage_kam", None, "KAM2"),
        ("leakage_tier", None, "A"),
        ("new_finding", "K1", "invisible:EXPRESS_FREIGHT"),
        ("tier", "K2", ""),
    ]
    lk = df[df["section"] == "leakage_kam"].set_index("detail")
    assert (lk.at["KAM2", "before"], lk.at["KAM2", "after"], lk.at["KAM2", "change"]) == (
        1800.0,
        0.0,
        -1800.0,
    )
    tier = df[df["section"] == "tier"].iloc[0]
    assert (tier["before"], tier["after"]) == ("A", "KEY")


def test_kam_sees_only_own_accounts_and_own_bonus(states):
    con, before, after = states
    df = compare_states(con, before, after, KAM1)
    assert set(df["account_id"].dropna()) <= {"K1"}
    assert set(df.loc[df["section"] == "bonus", "kam_id"]) <= {"KAM1"}
    assert not (df["kam_id"] == "KAM2").any()


def test_no_change_no_rows(states):
    con, _, after = states
    assert compare_states(con, after, after, ALL).empty


def test_report_changes_and_undo(states):
    con, before, after = states
    rep = report_changes(con, scope=ALL)
    assert rep.equals(compare_states(con, before, after, ALL))
    rep7 = report_changes(con, scope=ALL, since="7")
    assert rep7.equals(rep)
    with pytest.raises(NotFoundError):
        report_changes(con, scope=ALL, since="99")
    snapshots.delete_snapshots_of(con, 7)
    with pytest.raises(NotFoundError):
        report_changes(con, scope=ALL)


def test_snapshot_is_json(states):
    con, _, after = states
    assert json.loads(json.dumps(after))["year"] == TODAY.year


def test_change_report_of_real_imports(tmp_path):
    """Two CLI imports: the change report lists exactly what the second one changed; undoing
    it forgets its batch."""
    from tests.conftest import run_cli

    db_file = tmp_path / "k.duckdb"
    day = (TODAY - dt.timedelta(days=10)).isoformat()
    (tmp_path / "kams.csv").write_text("kam_id,name\nKAM1,Eins\nKAM2,Zwei\n", encoding="utf-8")
    (tmp_path / "accounts.csv").write_text(
        "account_id,name,tier,kam_id\nK1,Eins GmbH,KEY,KAM1\nK2,Zwei AG,A,KAM2\n", encoding="utf-8"
    )
    orders = "order_id,line_no,account_id,order_date,net_revenue\n" + "".join(
        f"O{a}{i},1,{a},{(TODAY - dt.timedelta(days=30 * i)).isoformat()},1000\n"
        for a in ("K1", "K2")
        for i in range(12)
    )
    (tmp_path / "orders.csv").write_text(orders, encoding="utf-8")
    first = run_cli(
        "import",
        str(tmp_path / "kams.csv"),
        str(tmp_path / "accounts.csv"),
        str(tmp_path / "orders.csv"),
        "--db",
        str(db_file),
    )
    assert first.returncode == 0, first.stdout + first.stderr
    (tmp_path / "events.csv").write_text(
        "event_id,account_id,date,service_code,quantity,cost,list_value,billed_amount,billing_mode\n"
        f"E1,K2,{day},TRAINING,1,900,1800,0,silent\n",
        encoding="utf-8",
    )
    second = run_cli("import", str(tmp_path / "events.csv"), "--db", str(db_file))
    assert second.returncode == 0, second.stdout + second.stderr
    out = run_cli("report", "changes", "--db", str(db_file), "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    # the training of an A account, unbilled under the billed policy: one new giveaway of
    # 1.800 € and the leakage of tier A and KAM2 from 0 to 1.800 € (bonus: no target, 0 €)
    assert [(r["section"], r["account_id"], r["detail"]) for r in rows] == [
        ("new_finding", "K2", "giveaway:TRAINING"),
        ("leakage_tier", None, "A"),
        ("leakage_kam", None, "KAM2"),
    ]
    assert rows[0]["after"] == 1800.0
    # since the first import: the same (the first batch started from an empty database,
    # so everything of it is new as well)
    since = run_cli("imports", "list", "--db", str(db_file), "--format", "json")
    assert since.returncode == 0, since.stderr
    ids = sorted(r["import_id"] for r in json.loads(since.stdout))
    undo = run_cli("imports", "undo", str(ids[-1]), "--db", str(db_file))
    assert undo.returncode == 0, undo.stdout + undo.stderr
    after_undo = run_cli("report", "changes", "--db", str(db_file), "--format", "json")
    assert after_undo.returncode == 0, after_undo.stderr
    assert not any(r["section"] == "new_finding" for r in json.loads(after_undo.stdout))


def test_change_page_shows_the_latest_batch(demo_copy, monkeypatch):
    """The page lists the latest batch's changes in words, and every recorded batch to pick."""
    from streamlit.testing.v1 import AppTest

    from kam_analytics import db
    from kam_analytics.ingest.pipeline import import_files
    from tests.conftest import ROOT

    con = db.connect(demo_copy)
    try:
        (acc,) = con.execute(
            "SELECT account_id FROM accounts WHERE tier = 'A' ORDER BY account_id LIMIT 1"
        ).fetchall()[0]
        csv = demo_copy.parent / "leistungen.csv"
        csv.write_text(
            "event_id,account_id,date,service_code,quantity,cost,list_value,billed_amount,"
            f"billing_mode\nNEU1,{acc},{TODAY.isoformat()},TRAINING,1,900,1800,0,silent\n",
            encoding="utf-8",
        )
        import_files(con, [csv], username="admin")
    finally:
        con.close()
    monkeypatch.setenv("KAM_DB", str(demo_copy))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["scope"] = Scope(username="leitung", role="management")
    at.session_state["lang"] = "de"
    at.run()
    at.switch_page("pages/changes.py").run()
    assert not at.exception
    assert at.title[0].value == "Was hat sich geändert"
    picker = at.selectbox(key="chg_since")
    assert picker.options[0] == "Letzter Import-Durchgang"
    assert any(o.startswith("Seit Import ") for o in picker.options)
    # an unbilled training of an A account (billed policy): a new giveaway, in words
    assert "Neue verschenkte Leistungen" in [h.value for h in at.subheader]
    shown = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "Trainingsmaßnahme beim Kunden" in shown and "1.800,00" in shown
