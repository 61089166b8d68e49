"""The account and mandate pages pick their account through the search picker (ui.widgets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kam_analytics.access import Scope
from kam_analytics.metrics.account import select_account_options
from kam_analytics.page_data.account_search import PICKER_ROWS
from kam_analytics.page_data.mandate import load_mandate

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"account": ("pages/account.py", "acc_id"), "mandate": ("pages/mandate.py", "md_account")}
ADMIN = Scope("admin", "admin", None)


def _app(monkeypatch, path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KAM_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["scope"] = ADMIN
    at.run()
    return at


def _expected_order(con, page: str, year: int) -> list[str]:
    if page == "account":
        return list(select_account_options(con, ADMIN)["account_id"])
    return list(load_mandate(con, ADMIN, year=year).overview["account_id"])


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_opens_the_first_account_and_a_search_reaches_the_last(monkeypatch, demo_copy, page):
    import datetime as dt

    from ui.session import _shared_connection, db_path

    path, key = PAGES[page]
    at = _app(monkeypatch, demo_copy)
    at.switch_page(path).run()
    assert not at.exception
    con = _shared_connection(db_path()).cursor()
    order = _expected_order(con, page, dt.date.today().year)
    box = at.selectbox(key=key)
    # the first accounts in the page's order, at most PICKER_ROWS, and the first is open
    assert [o.split(" – ")[0] for o in box.options] == order[:PICKER_ROWS]
    assert box.value == order[0]
    last = order[-1]
    at.text_input(key=f"{key}_search").input(last)
    at.run()
    assert not at.exception
    box = at.selectbox(key=key)
    # the open account stays offered beside the one match
    assert [o.split(" – ")[0] for o in box.options] == [order[0], last]
    box.set_value(last)
    at.run()
    assert not at.exception
    assert at.selectbox(key=key).value == last
    if page == "account":
        assert f"({last})" in at.header[0].value
    else:
        # the answer fields hold the picked account's mandate
        from kam_analytics.metrics import mandates as md

        mandate = md.get_mandate(con, last, dt.date.today().year, ADMIN)
        assert [a.value for a in at.text_area][: len(md.QUESTIONS)] == [
            mandate[q] or "" for q in md.QUESTIONS
        ]
    if page == "account":
        assert len(order) > PICKER_ROWS  # the bound is exercised (the mandate lists key accounts)


def test_account_data_is_remembered_until_an_edit_changes_it(demo_copy):
    """load_account is memoised per data version: a repeat computes nothing, an edit shows."""
    import datetime as dt

    from kam_analytics import cache, db
    from kam_analytics.metrics import mandates as md
    from kam_analytics.metrics.feedback import add_feedback
    from kam_analytics.page_data.account import load_account

    con = db.connect(demo_copy)
    cache.clear()
    try:
        account = str(select_account_options(con, ADMIN)["account_id"].iloc[0])
        year = dt.date.today().year
        first = load_account(con, ADMIN, account_id=account, year=year).summary
        size = cache.size()
        again = load_account(con, ADMIN, account_id=account, year=year).summary
        assert cache.size() == size  # nothing new was computed
        assert again["feedback"].equals(first["feedback"])
        add_feedback(
            con, ADMIN, account_id=account, date=dt.date(year, 1, 2), kind="praise", comment="Gut"
        )
        after = load_account(con, ADMIN, account_id=account, year=year).summary
        assert len(after["feedback"]) == len(first["feedback"]) + 1
        md.save_mandate_answers(con, ADMIN, account, year, {q: f"A {q}" for q in md.QUESTIONS})
        after = load_account(con, ADMIN, account_id=account, year=year).summary
        assert [after["mandate"][q] for q in md.QUESTIONS] == [f"A {q}" for q in md.QUESTIONS]
        assert after["mandate_answered"] == len(md.QUESTIONS)
    finally:
        con.close()


def test_account_data_follows_the_day_it_is_asked_on(demo_copy):
    """The memo is keyed by the as-of date: a server running past midnight shows today's figures."""
    import datetime as dt

    from kam_analytics import cache, db
    from kam_analytics.page_data.account import load_account
    from kam_analytics.periods import resolve_period

    con = db.connect(demo_copy)
    cache.clear()
    try:
        account = str(select_account_options(con, ADMIN)["account_id"].iloc[0])
        year = dt.date.today().year
        monday, tuesday = dt.date(year, 3, 2), dt.date(year, 3, 3)
        first = load_account(con, ADMIN, account_id=account, year=year, today=monday).summary
        later = load_account(con, ADMIN, account_id=account, year=year, today=tuesday).summary
        assert first["as_of"] == resolve_period(year, None, monday)[1]
        assert later["as_of"] == resolve_period(year, None, tuesday)[1]
        assert later["as_of"] != first["as_of"]
    finally:
        con.close()
