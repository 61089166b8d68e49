"""kam_analytics.cache: results reused per data version and arguments, never stale."""

from __future__ import annotations

import pandas as pd

from kam_analytics import cache
from kam_analytics.access import Scope
from kam_analytics.audit import write_audit

CALLS: list[tuple] = []


def count_accounts(con, scope: Scope, tiers=None) -> pd.DataFrame:
    """A tiny metrics-like function that records every real call."""
    CALLS.append((scope.kam_param, tiers))
    n = con.execute("SELECT count(*) FROM accounts").fetchall()[0][0]
    return pd.DataFrame({"n": [n], "tiers": [str(tiers)]})


def test_reused_until_data_changes(con):
    cache.clear()
    CALLS.clear()
    fn = cache.memoised(count_accounts)
    everyone = Scope.everything()
    first = fn(con, everyone, tiers=["KEY"])
    again = fn(con, everyone, tiers=["KEY"])
    assert len(CALLS) == 1
    assert first["n"].iloc[0] == 0 and again.equals(first)

    # another argument (list vs other list, other scope) is another entry
    fn(con, everyone, tiers=["A"])
    fn(con, Scope(username="k", role="kam", kam_id="KAM01"), tiers=["KEY"])
    assert len(CALLS) == 3

    # an audited edit changes db.data_version: the next call computes again
    con.execute("INSERT INTO accounts (account_id, name, tier) VALUES ('K1', 'Eins', 'KEY')")
    write_audit(con, "test", "account.add", "K1")
    fresh = fn(con, everyone, tiers=["KEY"])
    assert len(CALLS) == 4
    assert fresh["n"].iloc[0] == 1


def test_results_are_copies_and_unhashable_args_pass_through(con):
    cache.clear()
    CALLS.clear()
    fn = cache.memoised(count_accounts)
    out = fn(con, Scope.everything())
    out.loc[0, "n"] = 999
    assert fn(con, Scope.everything())["n"].iloc[0] == 0
    assert len(CALLS) == 1
    # a DataFrame argument cannot be a key: computed every time, never stored
    before = cache.size()
    fn(con, Scope.everything(), tiers=pd.DataFrame({"x": [1]}))
    fn(con, Scope.everything(), tiers=pd.DataFrame({"x": [1]}))
    assert len(CALLS) == 3 and cache.size() == before
    assert cache.memoised(count_accounts) is fn


def test_a_sign_in_does_not_change_the_data_version(con):
    """Every sign-in is audited; it changes no figure, so the page caches must stay."""
    from kam_analytics import db
    from kam_analytics.audit import write_audit

    before = db.data_version(con)
    write_audit(con, "anna", "signin", "anna", None, {"method": "password"})
    write_audit(con, "anna", "signout", "anna", None, None)
    assert db.data_version(con) == before
    write_audit(con, "admin", "settings.retention", "x", 1, 2)
    assert db.data_version(con) != before


def options_like(con) -> dict:
    """A filter_options-like result: lists of values and of tuples of values, and a frame."""
    return {
        "codes": ["A", "B"],
        "accounts": [("K1", "Eins"), ("K2", "Zwei")],
        "nested": [["x"], {"y": 1}],
        "frame": pd.DataFrame({"n": [1]}),
    }


def test_lists_of_values_are_handed_out_as_new_lists(con):
    """A caller that changes a list of the result cannot change the cached one."""
    cache.clear()
    fn = cache.memoised(options_like)
    first = fn(con)
    first["codes"].append("C")
    first["accounts"].append(("K3", "Drei"))
    first["nested"][0].append("z")
    first["nested"][1]["y"] = 2
    first["frame"].loc[0, "n"] = 9
    again = fn(con)
    assert again["codes"] == ["A", "B"]
    assert again["accounts"] == [("K1", "Eins"), ("K2", "Zwei")]
    assert again["nested"] == [["x"], {"y": 1}]
    assert again["frame"]["n"].iloc[0] == 1
    assert again["codes"] is not first["codes"]
