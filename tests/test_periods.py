"""kam_analytics.periods: the one rule for year, as-of date, last year's period and label."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_analytics.errors import ConfigError
from kam_analytics.periods import (
    Period,
    default_as_of,
    is_year_complete,
    period_bounds,
    period_label,
    resolve,
    resolve_period,
    same_day_last_year,
    shift_months,
)

D = dt.date
TODAY = D(2026, 11, 25)


def test_running_year_runs_to_today():
    p = resolve(2026, None, TODAY)
    assert p == Period(2026, D(2026, 1, 1), D(2026, 11, 25))
    assert not p.complete
    assert p.label("de") == "01.01.2026 – 25.11.2026"
    assert p.label("en") == "1 Jan 2026 – 25 Nov 2026"


def test_past_year_is_the_whole_year():
    p = resolve(2025, None, TODAY)
    assert (p.start, p.end, p.complete) == (D(2025, 1, 1), D(2025, 12, 31), True)
    assert p.label("de") == "2025"


def test_future_year_is_its_first_day():
    # nothing has happened in 2027 yet: judge its first day, never a whole year to come
    p = resolve(2027, None, TODAY)
    assert (p.start, p.end, p.complete) == (D(2027, 1, 1), D(2027, 1, 1), False)
    assert default_as_of(2027, TODAY) == D(2027, 1, 1)
    assert p.label("de") == "01.01.2027 – 01.01.2027"


def test_as_of_after_year_end_is_capped():
    assert resolve_period(2024, D(2025, 3, 1), TODAY) == (2024, D(2024, 12, 31))
    assert resolve(2024, D(2025, 3, 1), TODAY).complete


def test_as_of_before_first_of_january_is_refused():
    with pytest.raises(ConfigError) as info:
        resolve(2025, D(2024, 12, 31), TODAY)
    assert "2024-12-31" in info.value.message and "2025" in info.value.hint


def test_year_from_as_of_or_today():
    assert resolve_period(None, None, TODAY) == (2026, TODAY)
    assert resolve_period(None, D(2024, 3, 1), TODAY) == (2024, D(2024, 3, 1))
    assert period_bounds(2026, dt.datetime(2026, 5, 4, 13, 0), TODAY) == (
        D(2026, 1, 1),
        D(2026, 5, 4),
    )


def test_defaults_past_running_future():
    assert default_as_of(2025, D(2026, 2, 1)) == D(2025, 12, 31)
    assert default_as_of(2026, D(2026, 2, 1)) == D(2026, 2, 1)
    assert default_as_of(2027, D(2026, 2, 1)) == D(2027, 1, 1)


def test_leap_day_and_last_year():
    assert same_day_last_year(D(2024, 2, 29)) == D(2023, 2, 28)
    assert same_day_last_year(D(2025, 3, 1)) == D(2024, 3, 1)
    p = resolve(2024, D(2024, 2, 29), TODAY)
    assert p.previous_year() == (D(2023, 1, 1), D(2023, 2, 28))
    assert shift_months(D(2024, 3, 31), -1) == D(2024, 2, 29)
    assert shift_months(D(2025, 3, 31), -1) == D(2025, 2, 28)
    assert shift_months(D(2025, 9, 30), -12) == D(2024, 9, 30)


def test_complete_and_label():
    assert is_year_complete(2025, D(2025, 12, 31))
    assert not is_year_complete(2025, D(2025, 12, 30))
    assert period_label(D(2025, 1, 1), D(2025, 12, 31), "en") == "2025"
    assert period_label(D(2024, 2, 1), D(2025, 1, 31), "de") == "01.02.2024 – 31.01.2025"


@given(
    year=st.integers(2000, 2040),
    as_of=st.one_of(st.none(), st.dates(D(2000, 1, 1), D(2041, 12, 31))),
    today=st.dates(D(2000, 1, 1), D(2041, 12, 31)),
)
def test_period_invariants(year, as_of, today):
    """A resolved period lies inside its year, starts on 1 January, and last year's is a year back."""
    if as_of is not None and as_of < D(year, 1, 1):
        with pytest.raises(ConfigError):
            resolve(year, as_of, today)
        return
    p = resolve(year, as_of, today)
    assert p.start == D(year, 1, 1) <= p.end <= D(year, 12, 31)
    assert p.complete == (p.end == D(year, 12, 31))
    if as_of is None:
        assert p.end == default_as_of(year, today)
        if D(year, 1, 1) <= today <= D(year, 12, 31):
            assert p.end == today
    else:
        assert p.end == min(as_of, D(year, 12, 31))
    prev_start, prev_end = p.previous_year()
    assert prev_start == D(year - 1, 1, 1)
    assert prev_end.year == year - 1 and prev_end.month == p.end.month
    assert 0 <= (p.end - prev_end).days - 365 <= 1


def test_cut_off():
    from kam_analytics.periods import cut_off

    assert cut_off(None, None, TODAY) is None
    assert cut_off(None, D(2025, 5, 1), TODAY) == D(2025, 5, 1)
    assert cut_off(2026, None, TODAY) == TODAY
    assert cut_off(2025, None, TODAY) == D(2025, 12, 31)


def test_running_year_figures_end_today_everywhere(con):
    """A service dated later this year (a planned training) counts nowhere yet: the services
    report, the page summaries, profitability and the deck all stop at today."""
    from kam_analytics.access import Scope
    from kam_analytics.metrics.account_value import collect_account_data
    from kam_analytics.metrics.profitability import account_profitability
    from kam_analytics.metrics.services import report_services, summarise_service_events

    today = dt.date.today()
    if today.month == 12 and today.day == 31:
        pytest.skip("no later day in this year")
    year, later = today.year, D(today.year, 12, 31)
    con.execute("INSERT INTO accounts (account_id, name, tier) VALUES ('K1', 'Kunde', 'KEY')")
    con.execute(
        "INSERT INTO service_events (event_id, account_id, date, service_code, cost, list_value,"
        " billed_amount, billing_mode) VALUES"
        " ('E1', 'K1', ?, 'TRAINING', 100, 1000, 0, 'silent'),"
        " ('E2', 'K1', ?, 'TRAINING', 200, 5000, 0, 'silent')",
        [D(year, 1, 1), later],
    )
    everyone = Scope.everything()
    assert report_services(con, year=year, scope=everyone)["list_value"].tolist() == [1000.0]
    assert summarise_service_events(con, everyone, year=year)["total"]["list_value"] == 1000.0
    profit = account_profitability(con, year=year, scope=everyone)
    assert profit["service_cost"].tolist() == [100.0]
    assert collect_account_data(con, "K1", year, scope=everyone).totals["list_value"] == 1000.0
    # the whole year once it is asked for explicitly
    assert report_services(con, year=year, as_of=later, scope=everyone)["list_value"].tolist() == [
        6000.0
    ]
