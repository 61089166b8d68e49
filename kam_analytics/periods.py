"""Reporting periods: the one owner of "year, as-of date, same period last year, label".

Every metric, page, deck, PDF and CLI report resolves its period here, so a figure for
"2026 up to 25.11." means the same days everywhere. The rules:

- A period is 1 January of `year` up to and including the as-of date (year to date).
- No as-of date given: today for the running year, 31 December for a past year, and
  **1 January for a future year** (nothing has happened yet; the figures are those of the
  first day, never a whole year that has not begun).
- An as-of date after 31 December of `year` is **capped at 31 December** (the year is
  complete). An as-of date before 1 January of `year` is refused with a ConfigError: it
  names no day of that year.
- No year given: the as-of date's year, else this year.
- Metrics asked for a year without an as-of date count up to that date too (`cut_off`), so
  figures for the running year never include events dated after today.
- A year is *complete* (its figures final) when the as-of date is 31 December.
- The same period last year moves both ends back one calendar year; 29 February becomes
  28 February.
- Label: "2025" for a complete calendar year, else "01.01.2026 – 25.11.2026".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kam_analytics.errors import ConfigError, Reason
from kam_analytics.i18n import fmt_date


@dataclass(frozen=True)
class Period:
    """A reporting period: 1 January of `year` to `end` (the as-of date), both included."""

    year: int
    start: dt.date
    end: dt.date

    @property
    def as_of(self) -> dt.date:
        """The evaluation date (the period's last day)."""
        return self.end

    @property
    def year_end(self) -> dt.date:
        """31 December of the period's year."""
        return dt.date(self.year, 12, 31)

    @property
    def complete(self) -> bool:
        """True when the period covers the whole calendar year (figures are final)."""
        return self.end >= self.year_end

    def previous_year(self) -> tuple[dt.date, dt.date]:
        """The same days one year earlier (29 February becomes 28 February)."""
        return same_day_last_year(self.start), same_day_last_year(self.end)

    def label(self, lang: str) -> str:
        """'2025' for a complete year, else '01.01.2026 – 25.11.2026'."""
        return period_label(self.start, self.end, lang)


def _as_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def default_as_of(year: int, today: dt.date | None = None) -> dt.date:
    """Today for the running year, 31 December for past years, 1 January for future years."""
    today = _as_date(today) or dt.date.today()
    return max(dt.date(int(year), 1, 1), min(today, dt.date(int(year), 12, 31)))


def resolve(year: int | None, as_of: dt.date | None = None, today: dt.date | None = None) -> Period:
    """The period for `year` up to `as_of` under the rules of the module docstring."""
    as_of = _as_date(as_of)
    today = _as_date(today) or dt.date.today()
    if year is None:
        year = as_of.year if as_of else today.year
    year = int(year)
    start, year_end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if as_of is None:
        end = default_as_of(year, today)
    elif as_of < start:
        raise ConfigError(Reason.AS_OF_BEFORE_YEAR, as_of=as_of.isoformat(), year=year)
    else:
        end = min(as_of, year_end)
    return Period(year, start, end)


def resolve_period(
    year: int | None, as_of: dt.date | None = None, today: dt.date | None = None
) -> tuple[int, dt.date]:
    """(year, as-of date) of `resolve` for callers that need only these two."""
    p = resolve(year, as_of, today)
    return p.year, p.end


def period_bounds(
    year: int | None, as_of: dt.date | None = None, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """(first day, last day) of `resolve`: 1 January and the as-of date."""
    p = resolve(year, as_of, today)
    return p.start, p.end


def cut_off(
    year: int | None, as_of: dt.date | None = None, today: dt.date | None = None
) -> dt.date | None:
    """The last day a metric counts: `resolve`'s as-of date for a year, `as_of` (or no limit)
    across all years. Metrics filter with it so that a running year ends today everywhere."""
    if year is None:
        return _as_date(as_of)
    return resolve(year, as_of, today).end


def is_year_complete(year: int, as_of: dt.date) -> bool:
    """True when the as-of date is the last day of the year (figures are final)."""
    return as_of >= dt.date(int(year), 12, 31)


def same_day_last_year(day: dt.date) -> dt.date:
    """`day` one calendar year earlier; 29 February becomes 28 February."""
    return shift_months(day, -12)


def shift_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months` calendar months (31 March - 1 month = 28/29 February)."""
    month0 = day.year * 12 + day.month - 1 + months
    year, month = divmod(month0, 12)
    month += 1
    for d in range(day.day, 27, -1):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    return dt.date(year, month, min(day.day, 28))


def period_label(start: dt.date, end: dt.date, lang: str) -> str:
    """'2025' for a full calendar year, else '01.01.2026 – 25.11.2026'."""
    if start.month == 1 and start.day == 1 and end == dt.date(start.year, 12, 31):
        return str(start.year)
    return f"{fmt_date(start, lang)} – {fmt_date(end, lang)}"
