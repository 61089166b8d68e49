"""The account picker's matches: every typed word in number or name, page order kept, bounded."""

from __future__ import annotations

import pandas as pd

from kam_analytics.page_data.account_search import PICKER_ROWS, match_accounts

ACCOUNTS = pd.DataFrame(
    {
        "account_id": ["K3", "K1", "K22", "K2"],
        "account_name": ["Müller GmbH", "Schmidt AG", "Müller & Söhne KG", None],
    }
)


def test_every_word_must_match_number_or_name_case_insensitively():
    assert list(match_accounts(ACCOUNTS, "müller")["account_id"]) == ["K3", "K22"]
    assert list(match_accounts(ACCOUNTS, "MÜLLER kg")["account_id"]) == ["K22"]
    assert list(match_accounts(ACCOUNTS, "k2")["account_id"]) == ["K22", "K2"]
    assert list(match_accounts(ACCOUNTS, "ag k1")["account_id"]) == ["K1"]
    assert match_accounts(ACCOUNTS, "meier").empty


def test_empty_search_keeps_the_page_order_and_the_bound():
    assert list(match_accounts(ACCOUNTS, "  ")["account_id"]) == ["K3", "K1", "K22", "K2"]
    many = pd.DataFrame({"account_id": [f"K{i}" for i in range(200)], "account_name": ["X"] * 200})
    assert list(match_accounts(many, None)["account_id"]) == [f"K{i}" for i in range(PICKER_ROWS)]
    assert len(match_accounts(many, "x", limit=None)) == 200
    assert list(match_accounts(many, "K19")["account_id"]) == [
        "K19",
        *[f"K{i}" for i in range(190, 200)],
    ]
