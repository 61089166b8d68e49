"""Finding an account among many: the matches of a typed search, best first, bounded."""

from __future__ import annotations

import pandas as pd

# Accounts an account picker offers at most: on the 10x company a year has 50,000 accounts
# with services, and every option is sent to the browser on every run.
PICKER_ROWS = 50


def match_accounts(
    accounts: pd.DataFrame, text: str | None, limit: int | None = PICKER_ROWS
) -> pd.DataFrame:
    """The rows of `accounts` (account_id, account_name; best first) matching `text`.

    At most `limit` rows (None: all).

    Every word of `text` must occur, case-insensitively, in the account number or the name.
    An empty text matches every row. The order of `accounts` is kept (the page's own order,
    e.g. the largest value first), so the best matches are the ones offered.
    """
    words = (text or "").casefold().split()
    if words:
        haystack = (
            accounts["account_id"].astype(str)
            + " "
            + accounts["account_name"].fillna("").astype(str)
        ).str.casefold()
        mask = pd.Series(True, index=accounts.index)
        for word in words:
            mask &= haystack.str.contains(word, regex=False)
        accounts = accounts[mask]
    return accounts if limit is None else accounts.head(limit)
