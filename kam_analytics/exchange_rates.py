"""The exchange rates the admin maintains (table exchange_rates): reading, writing, looking up.

A rate is given as units of the currency per 1 EUR (the ECB's convention: 1 EUR = 0.9412 CHF),
for a whole year (month 0) or one month; a month's rate wins over the year's. Imports convert
every amount in another currency to EUR with the rate valid on the row's date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics.audit import write_audit
from kam_analytics.errors import ConfigError, Reason
from kam_analytics.write_log import writing

BASE_CURRENCY = "EUR"


def select_rates(con) -> pd.DataFrame:
    """Every rate, by currency, year and month."""
    return con.execute(
        "SELECT currency, year, month, CAST(units_per_eur AS DOUBLE) AS units_per_eur, "
        "updated_at, updated_by FROM exchange_rates ORDER BY currency, year, month"
    ).df()


def upsert_rate(con, currency: str, year: int, month: int, units_per_eur, username="system"):
    """Set the rate of a currency for a year (month 0) or a month."""
    code = str(currency).strip().upper()
    if len(code) != 3 or not code.isalpha() or code == BASE_CURRENCY:
        raise ConfigError(Reason.RATE_BAD_CURRENCY, currency=str(currency))
    rate = float(str(units_per_eur).replace(",", "."))
    if not rate > 0 or not 0 <= int(month) <= 12:
        raise ConfigError(
            Reason.RATE_BAD_VALUE, currency=code, rate=str(units_per_eur), year=year, month=month
        )
    with writing(con, "exchange_rates"):
        con.execute(
            "INSERT OR REPLACE INTO exchange_rates (currency, year, month, units_per_eur, "
            "updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)",
            [code, int(year), int(month), rate, dt.datetime.now(), username],
        )
    write_audit(con, username, "exchange_rate", f"{code}:{year}:{month}", None, {"rate": rate})


def delete_rate(con, currency: str, year: int, month: int = 0, username="system") -> None:
    """Remove one rate."""
    with writing(con, "exchange_rates"):
        con.execute(
            "DELETE FROM exchange_rates WHERE currency = ? AND year = ? AND month = ?",
            [str(currency).upper(), int(year), int(month)],
        )
    write_audit(con, username, "exchange_rate_delete", f"{currency}:{year}:{month}", None, None)


@dataclass
class RateTable:
    """Rates at hand for an import: {(currency, year, month): units per EUR}."""

    rates: dict[tuple[str, int, int], float]

    @classmethod
    def from_db(cls, con) -> RateTable:
        """All rates of the database."""
        df = select_rates(con)
        return cls(
            {
                (r.currency, int(r.year), int(r.month)): float(r.units_per_eur)
                for r in df.itertuples()
            }
        )

    def rate(self, currency: str, day) -> float | None:
        """Units per EUR valid on `day` (the month's rate, else the year's), None if unknown."""
        if currency == BASE_CURRENCY:
            return 1.0
        if day is None or pd.isna(day):
            return None
        y, m = int(day.year), int(day.month)
        return self.rates.get((currency, y, m), self.rates.get((currency, y, 0)))
