"""Bonus figures computed by hand, hypothesis invariants, statement exports and the CLI."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam_analytics.access import Scope
from kam_analytics.metrics.bonus import (
    compute_bonus_figures,
    compute_standings,
    filled_formula,
    get_standing,
    report_bonus,
    what_if_bonus,
)
from kam_analytics.settings_store import BonusPlan, save_bonus_plan
from tests.conftest import run_cli
from tests.test_retention import (
    add_account,
    add_mandate,
    add_orders,
    add_survey,
    build_scenario_2025,
)

D = dt.date
ALL = Scope.everything()
AS_OF = D(2025, 9, 30)
PLAN = BonusPlan()


@pytest.fixture
def scenario(con):
    build_scenario_2025(con)
    return con


def test_standing_during_the_year_by_hand(scenario):
    """As of 30.09.2025, default plan 0.6 / 0.3 / 0.1, gate 0.5, cap 1.2.

    K1: A1, A2, A3 active on 1 Jan; A2 lost -> R = 2/3 (above the gate).
        M during the year = mean of given ratings: A1 (80+90+70+100)/4 = 0.85, A3 60 -> 0.60,
        A2 unrated (left out) -> M = 0.725. F = surveys 8, 9 (A1), 7 (A3) -> 8/10 = 0.8.
        bonus = 10.000 x (0.6 x 2/3 + 0.3 x 0.725 + 0.1 x 0.8) = 10.000 x 0.6975 = 6.975,00
        at risk: A2, A3. best: R = 1 -> 0.8975 -> 8.975,00; worst: R = 1/3 < gate -> 0.2975.
    K2: A4, A5 active on 1 Jan (A6 is new, not counted); A4 changed KAM this year and counts
        for K2 (current KAM). A5 lost (CRM) -> R = 0.5 = gate (met). No ratings, no surveys:
        M and F left out, w_r scaled to 1.0 -> score 0.5; target 9.000 (2025 override).
        best: A5 (mandate_incomplete) kept -> R = 1 -> 9.000; worst = now = 4.500.
    K3: no key accounts -> 0.
    """
    df = report_bonus(scenario, year=2025, as_of=AS_OF, scope=ALL)
    assert list(df.columns) == [
        "kam_id",
        "name",
        "accounts",
        "R",
        "M",
        "F",
        "target_bonus",
        "bonus",
        "bonus_best",
        "bonus_worst",
    ]
    r = df.set_index("kam_id")
    assert r.loc["K1", "name"] == "Anna Müller"
    assert r.loc["K1", "accounts"] == 3
    assert r.loc["K1", "R"] == pytest.approx(2 / 3)
    assert r.loc["K1", "M"] == pytest.approx(0.725)
    assert r.loc["K1", "F"] == pytest.approx(0.8)
    assert r.loc["K1", ["target_bonus", "bonus", "bonus_best", "bonus_worst"]].tolist() == [
        10000.0,
        6975.0,
        8975.0,
        2975.0,
    ]
    assert r.loc["K2", "accounts"] == 2
    assert r.loc["K2", "R"] == 0.5
    assert r.loc["K2", ["M", "F"]].isna().all()
    assert r.loc["K2", ["target_bonus", "bonus", "bonus_best", "bonus_worst"]].tolist() == [
        9000.0,
        4500.0,
        9000.0,
        4500.0,
    ]
    assert r.loc["K3", "accounts"] == 0
    assert r.loc["K3", ["R", "M", "F"]].isna().all()
    assert r.loc["K3", ["bonus", "bonus_best", "bonus_worst"]].tolist() == [0.0, 0.0, 0.0]
    assert list(df["kam_id"]) == ["K1", "K2", "K3"]  # sorted by id, never by bonus


def test_report_equals_the_standings(scenario):
    """report_bonus (figures only, no per-KAM frames) and compute_standings (with the frames)
    give every KAM the same figures: K1 6.975 / 8.975 / 2.975 with 3 accounts, K2 4.500 /
    9.000 / 4.500 with 2 (by hand in test_standing_during_the_year_by_hand), K3 0 with none."""
    df = report_bonus(scenario, year=2025, as_of=AS_OF, scope=ALL).set_index("kam_id")
    standings = compute_standings(scenario, year=2025, as_of=AS_OF, scope=ALL)
    assert [s.kam_id for s in standings] == list(df.index)
    for s in standings:
        row = df.loc[s.kam_id]
        assert int(row["accounts"]) == len(s.counted)
        assert (row["bonus"], row["bonus_best"], row["bonus_worst"]) == (
            s.now.bonus,
            s.best.bonus,
            s.worst.bonus,
        )
        for c in ("R", "M", "F"):
            assert (getattr(s.now, c) is None and pd_isna(row[c])) or row[c] == getattr(s.now, c)
    assert df.loc["K1", ["accounts", "bonus", "bonus_best", "bonus_worst"]].tolist() == [
        3,
        6975.0,
        8975.0,
        2975.0,
    ]
    assert df.loc["K2", ["accounts", "bonus", "bonus_best", "bonus_worst"]].tolist() == [
        2,
        4500.0,
        9000.0,
        4500.0,
    ]
    k1 = next(s for s in standings if s.kam_id == "K1")
    assert sorted(k1.surveys["score"]) == [7.0, 8.0, 9.0]  # the surveys behind F, only K1's


def test_what_if(scenario):
    # Keep A2, lose A3: R stays 2/3 -> unchanged 6.975. Lose A1 too -> R = 1/3 -> gate missed.
    f = what_if_bonus(
        scenario, kam_id="K1", year=2025, as_of=AS_OF, scope=ALL, lost={"A3"}, kept={"A2"}
    )
    assert f.bonus == 6975.0
    f = what_if_bonus(
        scenario, kam_id="K1", year=2025, as_of=AS_OF, scope=ALL, lost={"A3", "A1"}, kept={"A2"}
    )
    assert (f.R, f.R_eff, f.bonus) == (pytest.approx(1 / 3), 0.0, 2975.0)
    s = get_standing(scenario, kam_id="K1", year=2025, as_of=AS_OF, scope=ALL)
    assert s.at_risk_ids == ["A2", "A3"]
    text = filled_formula(s.now, s.plan, "de")
    assert text.endswith("= 6.975,00\xa0€")
    assert "0,6000·0,6667 + 0,3000·0,7250 + 0,1000·0,8000" in text
    assert "min(1,2000; 0,6975)" in text


def test_kam_sees_only_own_row(scenario):
    df = report_bonus(scenario, year=2025, as_of=AS_OF, scope=Scope("ben", "kam", "K2"))
    assert df["kam_id"].tolist() == ["K2"]
    assert df["bonus"].tolist() == [4500.0]


def build_year_end_2024(con):
    """Year 2024 (complete), plan 1.0 / 0.5 / 0.2, gate 0.5, cap 1.2."""
    con.execute(
        "INSERT INTO kams VALUES ('G1', 'Gabi Lang', NULL, 50000, 10000, NULL, NULL), "
        "('G2', 'Gerd Süß', NULL, 50000, 12000, NULL, NULL), "
        "('G3', 'Gina Neu', NULL, 50000, 5000, NULL, NULL), "
        "('G4', 'Gustav Leer', NULL, 50000, 5000, NULL, NULL)"
    )
    for i in range(1, 6):
        add_account(con, f"C{i}", "KEY", "G1")
        orders = [(D(2023, 12, 15), 1000)] + ([(D(2024, 12, 1), 1000)] if i <= 2 else [])
        add_orders(con, f"C{i}", orders)
    add_mandate(con, "C1", 2024, ratings=(100, 100, 50, 50))
    add_mandate(con, "C2", 2024, ratings=(100, None, None, None))
    for acc in ("D1", "D2"):
        add_account(con, acc, "KEY", "G2")
        add_orders(con, acc, [(D(2023, 12, 20), 500), (D(2024, 12, 20), 500)])
        add_mandate(con, acc, 2024, ratings=(100, 100, 100, 100))
    add_survey(con, "D1", D(2024, 4, 1), 9)
    add_survey(con, "D2", D(2024, 10, 1), 10)
    add_survey(con, "D2", D(2023, 10, 1), 2)  # previous year: not counted
    add_account(con, "D3", "KEY", "G3")
    add_orders(con, "D3", [(D(2024, 12, 20), 500)])  # not active on 1 Jan 2024
    save_bonus_plan(con, ALL, 2024, BonusPlan(1.0, 0.5, 0.2, 0.5, 1.2))


def test_year_end_gate_missed_cap_reached_no_accounts(con):
    """G1: R = 2/5 = 0.4 < 0.5 -> R' = 0. M at year end, missing = 0 %: C1 0.75, C2 0.25,
    C3..C5 0 -> M = 1.0/5 = 0.2. No survey: F left out, weights 1.0/0.5 scaled by 1.7/1.5.
    score = 0.5 x 1.7/1.5 x 0.2 = 0.11333 -> 10.000 x 0.11333 = 1.133,33.
    G2: R = 1, M = 1, F = (9 + 10)/2/10 = 0.95 -> 1 + 0.5 + 0.19 = 1.69 > cap 1.2
    -> 12.000 x 1.2 = 14.400,00. Year complete: best = worst = now.
    G3: its only account started in December -> 0 accounts, bonus 0. G4: nothing at all."""
    build_year_end_2024(con)
    r = report_bonus(con, year=2024, as_of=None, scope=ALL).set_index("kam_id")
    assert r.loc["G1", ["accounts", "R", "M"]].tolist() == [5, 0.4, pytest.approx(0.2)]
    assert pd_isna(r.loc["G1", "F"])
    assert r.loc["G1", ["bonus", "bonus_best", "bonus_worst"]].tolist() == [1133.33] * 3
    assert r.loc["G2", ["accounts", "R", "M"]].tolist() == [2, 1.0, 1.0]
    assert r.loc["G2", "F"] == pytest.approx(0.95)
    assert r.loc["G2", ["bonus", "bonus_best", "bonus_worst"]].tolist() == [14400.0] * 3
    for kam in ("G3", "G4"):
        assert r.loc[kam, "accounts"] == 0
        assert r.loc[kam, "bonus"] == 0.0
    s = get_standing(con, kam_id="G2", year=2024, scope=ALL)
    assert s.now.cap_reached and s.now.capped_score == 1.2
    g1 = get_standing(con, kam_id="G1", year=2024, scope=ALL).now
    assert (g1.gate_met, g1.w_r, g1.w_m, g1.w_f) == (
        False,
        pytest.approx(1.7 / 1.5),
        pytest.approx(0.85 / 1.5),
        0.0,
    )


def pd_isna(v) -> bool:
    return v is None or v != v


def test_formula_examples():
    assert compute_bonus_figures(PLAN, 10000, 0.5, 1.0, 1.0).bonus == 7000.0  # gate met at 0.5
    assert compute_bonus_figures(PLAN, 10000, 0.4999, 1.0, 1.0).bonus == 4000.0  # just below
    f = compute_bonus_figures(PLAN, 10000, 1.0, 0.5, None)  # no survey: 0.6, 0.3 -> /0.9
    assert (f.w_r, f.w_m) == (pytest.approx(0.6 / 0.9), pytest.approx(0.3 / 0.9))
    assert f.bonus == 8333.33
    assert compute_bonus_figures(PLAN, None, 1.0, 1.0, 1.0).bonus == 0.0
    assert compute_bonus_figures(PLAN, 10000, None, None, None).bonus == 0.0


shares = st.one_of(st.none(), st.floats(0, 1))


@settings(max_examples=300, deadline=None)
@given(
    w=st.tuples(st.floats(0, 3), st.floats(0, 3), st.floats(0, 3)),
    gate=st.floats(0, 1),
    cap=st.floats(0, 3),
    target=st.floats(0, 200000),
    r=st.floats(0, 1),
    m=shares,
    f=shares,
)
def test_formula_invariants(w, gate, cap, target, r, m, f):
    plan = BonusPlan(w[0], w[1], w[2], gate, cap)
    fig = compute_bonus_figures(plan, target, r, m, f)
    assert 0 <= fig.bonus <= round(cap * target, 2) + 0.01
    for v in (fig.R, fig.M, fig.F):
        assert v is None or 0 <= v <= 1
    # Monotone in R: losing an account never raises the bonus.
    lower = compute_bonus_figures(plan, target, r * 0.5, m, f)
    assert lower.bonus <= fig.bonus + 1e-9


@settings(max_examples=25, deadline=None)
@given(
    actives=st.lists(
        st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=0, max_size=6
    ),
    ratings=st.lists(st.one_of(st.none(), st.integers(0, 100)), min_size=6, max_size=6),
    gate=st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0]),
)
def test_worst_now_best_on_databases(tmp_path_factory, actives, ratings, gate):
    """Random accounts (active at start? active now? order gap risk?) on a real file."""
    from kam_analytics import db

    con = db.connect(tmp_path_factory.mktemp("h") / "h.duckdb")
    try:
        con.execute("INSERT INTO kams VALUES ('K', 'K', NULL, 1, 10000, NULL, NULL)")
        save_bonus_plan(con, ALL, 2025, BonusPlan(0.6, 0.3, 0.1, gate, 1.2))
        for i, (start, now, risky) in enumerate(actives):
            acc = f"X{i}"
            add_account(con, acc, "KEY", "K")
            orders = [(D(2024, 12, 20), 100)] if start else []
            if risky:  # three earlier orders 10 days apart -> long gap signal if inactive
                orders += [(D(2024, 6, 1), 100), (D(2024, 6, 11), 100), (D(2024, 6, 21), 100)]
            if now:
                orders.append((D(2025, 9, 1), 100))
            add_orders(con, acc, orders)
            add_mandate(con, acc, 2025, ratings=(ratings[i], None, None, None))
        s = compute_standings(con, year=2025, as_of=AS_OF, scope=ALL)[0]
        assert s.worst.bonus <= s.now.bonus <= s.best.bonus
        for fig in (s.now, s.best, s.worst):
            assert 0 <= fig.bonus <= 1.2 * 10000
            for v in (fig.R, fig.M, fig.F):
                assert v is None or 0 <= v <= 1
        assert len(s.counted) == sum(1 for a in actives if a[0])
    finally:
        con.close()


def test_statement_exports(scenario):
    from openpyxl import load_workbook

    from kam_analytics.exports.bonus_statement import statement_pdf, statement_xlsx

    s = get_standing(scenario, kam_id="K1", year=2025, as_of=AS_OF, scope=ALL)
    pdf = statement_pdf(s, lang="de", praise=["Immer erreichbar, super Service!"])
    assert pdf[:5] == b"%PDF-" and len(pdf) > 2000
    xlsx = statement_xlsx(s, lang="de")
    wb = load_workbook(io.BytesIO(xlsx))
    assert wb.sheetnames == ["Bonus", "Kunden", "Umfragen"]
    cells = {r[0]: r[1] for r in wb["Bonus"].iter_rows(values_only=True) if r and r[0]}
    assert cells["Bonus jetzt"] == 6975.0
    assert cells["Zielbonus"] == 10000.0
    accounts = list(wb["Kunden"].iter_rows(values_only=True))
    assert [r[0] for r in accounts[1:]] == ["A1", "A2", "A3"]
    surveys = list(wb["Umfragen"].iter_rows(values_only=True))
    assert sorted(r[3] for r in surveys[1:]) == [7, 8, 9]


def test_cli_report_bonus(scenario, db_path):
    scenario.close()
    out = run_cli(
        "report",
        "bonus",
        "--db",
        str(db_path),
        "--year",
        "2025",
        "--as-of",
        "2025-09-30",
        "--format",
        "json",
        check=True,
    )
    rows = {r["kam_id"]: r for r in json.loads(out.stdout)}
    assert rows["K1"]["bonus"] == 6975.0 and rows["K1"]["bonus_worst"] == 2975.0
    assert rows["K3"] == {
        "kam_id": "K3",
        "name": "Carla Graf",
        "accounts": 0,
        "R": None,
        "M": None,
        "F": None,
        "target_bonus": 6000.0,
        "bonus": 0.0,
        "bonus_best": 0.0,
        "bonus_worst": 0.0,
    }
    csv = run_cli(
        "report",
        "bonus",
        "--db",
        str(db_path),
        "--year",
        "2025",
        "--as-of",
        "2025-09-30",
        check=True,
    ).stdout.splitlines()
    assert csv[0] == "kam_id,name,accounts,R,M,F,target_bonus,bonus,bonus_best,bonus_worst"
    assert csv[2] == "K2,Ben Becker,2,0.5,,,9000.0,4500.0,9000.0,4500.0"
