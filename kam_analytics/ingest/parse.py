"""Vectorised parsing of export cells: amounts, dates, IDs, numbers, booleans, missing values.

Every parser takes a pandas Series as read from the file (numbers, datetimes or text) and returns
the parsed values plus a boolean mask of the cells that were present but could not be parsed,
so that validation can report exactly those rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Cell texts that mean "no value" (compared case-insensitively after trimming).
DEFAULT_NULLS = ("", "null", "-", "--", "n/a", "#n/a", "nan", "none", "<null>")

_CURRENCY = r"€|US\$|\$|£|EUR|USD|CHF|GBP|SFr\.?|Fr\.|eur|chf|usd|gbp"
_SPACES = r"[\s\u00a0\u202f\u2009]"
# The first this many readable values of a column decide its decimal separator.
_DECIMAL_SAMPLE = 5000
_AMOUNT_CORE = r"(?:\d{1,3}(?:[.,']\d{3})+|\d+)(?:[.,]\d+)?|[.,]\d+|\d+(?:\.\d+)?[eE][+-]?\d+"


def is_numeric(series: pd.Series) -> bool:
    """True for int/float/bool columns (cells Excel stored as numbers)."""
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def is_datetime(series: pd.Series) -> bool:
    """True for datetime columns (cells Excel stored as dates)."""
    return pd.api.types.is_datetime64_any_dtype(series.dtype)


def per_distinct(text: pd.Series, fn) -> pd.Series:
    """`fn(text)` computed on each distinct value once and spread back to the rows: the same
    Series for any `fn` that reads each value on its own (exports repeat values a lot)."""
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    if len(uniques) * 2 > len(text):
        return fn(text)
    out = fn(pd.Series(uniques, dtype=text.dtype))
    return pd.Series(out.array.take(codes), index=text.index, name=out.name)


def _null_variants(nulls) -> list[str]:
    out = set()
    for n in nulls:
        n = str(n).strip()
        out |= {n, n.lower(), n.upper(), n.title(), n.capitalize()}
    return sorted(out)


def as_text(series: pd.Series, nulls=DEFAULT_NULLS) -> pd.Series:
    """Trimmed text of every cell; missing cells and null tokens become NA."""
    if is_numeric(series):
        text = _numbers_as_text(series)
    elif is_datetime(series):
        text = series.dt.strftime("%Y-%m-%d %H:%M:%S").astype("str")
    else:
        text = series.astype("str").str.strip()
    # Exact matches against the case variants of the null tokens: a hash lookup, much faster
    # than case-folding every cell of a 100k-row column.
    return text.mask(text.isin(_null_variants(nulls)) | text.isna())


def _numbers_as_text(series: pd.Series) -> pd.Series:
    import pyarrow as pa

    values = series.astype("float64")
    arr = values.to_numpy()
    finite = np.isfinite(arr)
    whole = finite & (np.abs(arr) < 1e15) & (arr == np.round(np.where(finite, arr, 0)))
    if whole.all():
        ints = pa.array(arr.astype("int64")).cast(pa.string())
        return pd.Series(pd.arrays.ArrowStringArray(ints), index=series.index).astype("str")
    out = pd.Series(pd.NA, index=series.index, dtype="str")
    if whole.any():
        out[whole] = values[whole].astype("int64").astype("str")
    rest = finite & ~whole
    if rest.any():
        out[rest] = values[rest].map(repr).astype("str")
    return out


def missing_mask(series: pd.Series, nulls=DEFAULT_NULLS) -> pd.Series:
    """True where a cell has no value (empty, NULL, '-', n/a, ...)."""
    if is_numeric(series) or is_datetime(series):
        return series.isna()
    return as_text(series, nulls).isna()


def parse_ids(series: pd.Series, nulls=DEFAULT_NULLS, *, distinct: bool = True) -> pd.Series:
    """IDs as text: leading zeros kept, Excel's float look (1001.0) becomes '1001'."""
    text = as_text(series, nulls)
    if is_numeric(series):
        return text

    def unfloat(t: pd.Series) -> pd.Series:
        return t.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)

    return per_distinct(text, unfloat) if distinct else unfloat(text)


def parse_text(series: pd.Series, nulls=DEFAULT_NULLS) -> pd.Series:
    """Free text, trimmed; null tokens become NA."""
    return as_text(series, nulls)


def infer_decimal(text: pd.Series, hint: str | None = None) -> str:
    """The column's decimal separator from its unambiguous values, else `hint`, else ','."""
    sample = text.dropna()
    if len(sample) > _DECIMAL_SAMPLE:
        sample = sample.iloc[:_DECIMAL_SAMPLE]
    core = sample.str.replace(r"[^0-9.,]", "", regex=True)
    has_dot = core.str.contains(".", regex=False)
    has_comma = core.str.contains(",", regex=False)
    both = has_dot & has_comma
    comma_last = core.str.rfind(",") > core.str.rfind(".")
    votes_comma = int((both & comma_last).sum())
    votes_dot = int((both & ~comma_last).sum())
    # One separator not followed by exactly three digits can only be the decimal separator.
    single_dot = has_dot & ~has_comma & core.str.fullmatch(r"\d*\.(\d{1,2}|\d{4,})")
    single_comma = has_comma & ~has_dot & core.str.fullmatch(r"\d*,(\d{1,2}|\d{4,})")
    votes_dot += int(single_dot.sum())
    votes_comma += int(single_comma.sum())
    # Two or more of the same separator can only be thousands separators.
    votes_comma += int((core.str.count(r"\.") > 1).sum())
    votes_dot += int((core.str.count(",") > 1).sum())
    if votes_comma > votes_dot:
        return ","
    if votes_dot > votes_comma:
        return "."
    return hint if hint in (",", ".") else ","


_CURRENCY_CODES = (
    ("CHF", r"CHF|Fr\.|SFr\.?"),
    ("USD", r"USD|US\$|\$"),
    ("GBP", r"GBP|£"),
    ("EUR", r"EUR|€"),
)


def amount_currencies(
    series: pd.Series, nulls=DEFAULT_NULLS, *, distinct: bool = True
) -> pd.Series:
    """The currency an amount cell names ("CHF 1'234.50" -> CHF), NA where it names none."""
    if is_numeric(series) or is_datetime(series):
        return pd.Series(pd.NA, index=series.index, dtype="str")
    text = as_text(series, nulls)
    return per_distinct(text, _currencies_of) if distinct else _currencies_of(text)


def _currencies_of(text: pd.Series) -> pd.Series:
    out = pd.Series(pd.NA, index=text.index, dtype="str")
    for code, pattern in _CURRENCY_CODES:
        hit = text.str.contains(pattern, regex=True, case=False).fillna(False).astype(bool)
        out = out.mask(hit & out.isna(), code)
    return out


def parse_amounts(
    series: pd.Series,
    decimal: str | None = None,
    nulls=DEFAULT_NULLS,
    hint: str | None = None,
    numbers: np.ndarray | None = None,
    *,
    distinct: bool = True,
) -> tuple[pd.Series, pd.Series]:
    """Amounts in any German/English notation -> float64, plus the mask of unparseable cells.

    Handles thousands separators ('1.234,56', '1,234.56', "1'234.56"), a leading or SAP-style
    trailing minus ('1.234,56-'), parentheses for negatives ('(1.234,56)') and currency signs.
    A single separator followed by exactly three digits ('1.234') is read with the column's
    decimal separator: `decimal` if given, else what the column's other values show, else `hint`.
    `numbers` marks cells a workbook stored as numbers: their text always has a decimal point.
    `distinct` parses each distinct (text, number cell) pair once; False parses every row (the
    reference the tests compare it with: both give the same values and the same mask).
    """
    if is_numeric(series):
        values = series.astype("float64")
        return values, pd.Series(False, index=series.index)
    if is_datetime(series):
        return pd.Series(np.nan, index=series.index), series.notna()
    text = as_text(series, nulls)
    present = text.notna()
    # Fast path: plain numbers as a workbook writes its number cells ("1234.5", "-12"), and no
    # value that a thousands separator could have written ("1.234").
    plain = text.str.fullmatch(r"-?\d+(?:\.\d+)?").fillna(False).astype(bool)
    if bool(plain[present].all()) and decimal != ",":
        grouped = text.str.fullmatch(r"-?\d{1,3}\.\d{3}").fillna(False).astype(bool)
        if numbers is not None:
            grouped &= ~pd.Series(np.asarray(numbers, dtype=bool), index=text.index)
        if not grouped.any():
            values = pd.to_numeric(text.where(present), errors="coerce").astype("float64")
            return values, pd.Series(False, index=series.index)
    cells = np.zeros(len(text), dtype=bool) if numbers is None else np.asarray(numbers, dtype=bool)
    if not distinct:
        return _parse_amount_texts(text, cells, decimal, hint, lambda t, ok: t[ok])
    # Every value reads on its own but for the column's decimal separator, which the first
    # 5,000 readable values decide in row order: exports repeat values a lot (a freight column
    # of 1,000,000 rows has 40,000 distinct amounts), so each distinct pair is parsed once.
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    if cells.any():
        codes, pairs = pd.factorize(codes.astype("int64") * 2 + cells)
        uniq_text = pd.Series(uniques.take(pairs // 2), dtype=text.dtype)
        uniq_cells = (pairs % 2 == 1).astype(bool)
    else:
        uniq_text = pd.Series(uniques, dtype=text.dtype)
        uniq_cells = np.zeros(len(uniques), dtype=bool)

    def first_rows(t: pd.Series, ok: pd.Series) -> pd.Series:
        rows = np.flatnonzero(ok.to_numpy(dtype=bool)[codes])[:_DECIMAL_SAMPLE]
        return t.iloc[codes[rows]]

    values, bad = _parse_amount_texts(uniq_text, uniq_cells, decimal, hint, first_rows)
    return (
        pd.Series(values.to_numpy()[codes], index=series.index, dtype="float64"),
        pd.Series(bad.to_numpy(dtype=bool)[codes], index=series.index),
    )


def _parse_amount_texts(
    text: pd.Series, cells: np.ndarray, decimal, hint, sample
) -> tuple[pd.Series, pd.Series]:
    """The values and the unparseable mask of trimmed texts (NA: no value); `cells` marks
    number cells, `sample(t, ok)` gives the normalised texts that decide the decimal
    separator (in row order)."""
    present = text.notna()
    t = text.str.replace("\u2212", "-", regex=False)
    t = t.str.replace(_CURRENCY, "", regex=True).str.replace(_SPACES, "", regex=True)
    paren = t.str.startswith("(") & t.str.endswith(")")
    t = t.str.strip("()")
    lead = t.str.startswith("-")
    trail = t.str.endswith("-")
    t = t.str.lstrip("+").str.strip("-")
    t = t.str.replace("'", "", regex=False)
    shape_ok = t.str.fullmatch(_AMOUNT_CORE).fillna(False).astype(bool)
    negative = (paren | lead | trail).fillna(False).astype(bool)
    twice = (lead & trail).fillna(False).astype(bool) | (paren & (lead | trail)).fillna(False)
    numbers = pd.Series(cells, index=t.index)
    dec = decimal if decimal in (",", ".") else infer_decimal(sample(t, shape_ok & ~numbers), hint)
    has_dot = t.str.contains(".", regex=False).fillna(False)
    has_comma = t.str.contains(",", regex=False).fillna(False)

    # Regular expressions instead of str.rfind: pandas runs rfind in Python for every cell
    # (9 of 30 s of a 1,000,000-row import), a regex runs in Arrow.
    def matches(pattern: str) -> pd.Series:
        return t.str.contains(pattern, regex=True).fillna(False).astype(bool)

    comma_last = matches(r",[^.]*$")  # a comma after the last point
    dots = t.str.count(r"\.").fillna(0)
    commas = t.str.count(",").fillna(0)
    three_after = matches(r"[.,][^.,]{3}$")  # exactly three characters after the last separator
    # Per value: which separator is the decimal one?
    comma_decimal = pd.Series(dec == ",", index=t.index)
    comma_decimal = comma_decimal.mask(has_dot & has_comma, comma_last)
    only_comma = has_comma & ~has_dot
    only_dot = has_dot & ~has_comma
    comma_decimal = comma_decimal.mask(only_comma & (commas > 1), False)
    comma_decimal = comma_decimal.mask(only_dot & (dots > 1), True)
    comma_decimal = comma_decimal.mask(only_comma & (commas == 1) & ~three_after, True)
    comma_decimal = comma_decimal.mask(only_dot & (dots == 1) & ~three_after, False)
    # "0.500", ",500" or "1234.500" cannot be thousands groups (a group follows 1-3 digits
    # that do not start with 0): the single separator is the decimal one.
    zero_lead = t.str.match(r"0[.,]").fillna(False).astype(bool)
    not_grouping = matches(r"^[^.,]{4,}[.,]") | matches(r"^[.,]") | zero_lead
    single = (only_comma & (commas == 1)) | (only_dot & (dots == 1))
    comma_decimal = comma_decimal.mask(single & three_after & not_grouping, only_comma)
    # Swiss notation (CHF, apostrophe thousands): a single point is the decimal separator.
    swiss = text.str.contains(r"'|CHF|SFr|Fr\.", regex=True).fillna(False).astype(bool)
    comma_decimal = comma_decimal.mask(swiss & only_dot & (dots == 1), False)
    scientific = t.str.contains(r"[eE]", regex=True).fillna(False)
    comma_decimal = comma_decimal.mask(scientific | numbers, False)
    as_comma = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    as_point = t.str.replace(",", "", regex=False)
    normal = as_comma.where(comma_decimal, as_point)
    values = pd.to_numeric(normal.where(shape_ok), errors="coerce").astype("float64")
    values = values.where(~negative, -values)
    bad = present & (values.isna() | ~shape_ok | twice)
    values = values.where(~bad)
    return values, bad.astype(bool)


def parse_numbers(series, decimal=None, nulls=DEFAULT_NULLS, hint=None):
    """Plain numbers (ratings, quantities, scores): same notation rules as amounts."""
    return parse_amounts(series, decimal=decimal, nulls=nulls, hint=hint)


def parse_ints(series, decimal=None, nulls=DEFAULT_NULLS, hint=None):
    """Whole numbers (years); a fractional value is unparseable."""
    values, bad = parse_amounts(series, decimal=decimal, nulls=nulls, hint=hint)
    frac = values.notna() & (values != np.round(values))
    bad = bad | frac
    return values.where(~bad).round().astype("Int64"), bad


EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Serial numbers for 1954-10-..2119: wide enough for business dates, excludes small numbers.
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000
_DATE_FORMATS = (
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d-%m-%Y",
    "%d-%m-%y",
    "%Y/%m/%d",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%Y%m%d",
)
_SLASH_FORMATS = (("%d/%m/%Y", "%m/%d/%Y"), ("%d/%m/%y", "%m/%d/%y"))


def _serials(values: pd.Series) -> pd.Series:
    ok = values.notna() & (values >= _SERIAL_MIN) & (values <= _SERIAL_MAX)
    days = values.where(ok)
    out = EXCEL_EPOCH + pd.to_timedelta(days.round(6), unit="D")
    return out.dt.floor("D")


def slashed_date_order(series: pd.Series, nulls=DEFAULT_NULLS) -> str | None:
    """How a column writes slashed dates, decided from all its values: 'dmy', 'mdy',
    'ambiguous' (every value fits both orders and some differ, 01/02/2025) or None (no
    slashed dates, or every one reads the same either way)."""
    if is_datetime(series) or is_numeric(series):
        return None
    text = as_text(series, nulls).dropna()
    text = text[text.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}( .*)?").fillna(False).astype(bool)]
    if text.empty:
        return None
    parts = text.str.extract(r"^(\d{1,2})/(\d{1,2})/").astype("int64")
    first, second = parts[0], parts[1]
    day_first_only = int(((first > 12) & (second <= 12)).sum())
    month_first_only = int(((second > 12) & (first <= 12)).sum())
    if day_first_only and not month_first_only:
        return "dmy"
    if month_first_only and not day_first_only:
        return "mdy"
    if day_first_only and month_first_only:
        return "dmy" if day_first_only >= month_first_only else "mdy"
    return "ambiguous" if bool((first != second).any()) else None


def parse_dates(
    series: pd.Series,
    date_format: str | None = None,
    nulls=DEFAULT_NULLS,
    order: str | None = None,
    *,
    distinct: bool = True,
) -> tuple[pd.Series, pd.Series]:
    """Dates -> datetime64 at midnight, plus the mask of unparseable cells.

    Accepts Excel date cells, Excel serial numbers, '31.12.2025', ISO '2025-12-31' (with or
    without time) and slashed dates in one order for the whole column: `order` ('dmy'/'mdy'),
    else the order slashed_date_order decides (day first when no value tells). A value that
    does not fit the column's order is unparseable. `date_format` (strftime codes) is tried
    first when given. `distinct` parses each distinct text once (False: every row, the same).
    """
    if is_datetime(series):
        out = pd.to_datetime(series).astype("datetime64[us]").dt.floor("D")
        return out, pd.Series(False, index=series.index)
    if is_numeric(series):
        values = series.astype("float64")
        out = _serials(values)
        return out, values.notna() & out.isna()
    text = as_text(series, nulls)
    if order not in ("dmy", "mdy"):
        order = slashed_date_order(text)
    if not distinct:
        out = _dates_of(text, date_format, order)
    else:
        out = per_distinct(text, lambda t: _dates_of(t, date_format, order))
    return out, (text.notna() & out.isna()).astype(bool)


def _dates_of(text: pd.Series, date_format: str | None, order: str | None) -> pd.Series:
    """Dates of trimmed texts (NA: no value) in the column's slashed-date `order`."""
    present = text.notna()
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")

    def fill(fmt, **kw):
        nonlocal out
        todo = out.isna() & present
        if not todo.any():
            return
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce", **kw)
        out.loc[todo] = parsed.astype("datetime64[us]")

    if date_format:
        fill(date_format)
    fill("ISO8601")
    for fmt in _DATE_FORMATS:
        fill(fmt)
    pick = 1 if order == "mdy" else 0
    for formats in _SLASH_FORMATS:
        fill(formats[pick])
        fill(formats[pick] + " %H:%M:%S")
        fill(formats[pick] + " %H:%M")
    todo = out.isna() & present
    if todo.any():
        # Excel serial numbers that arrived as text (CSV exports, mixed columns).
        nums = pd.to_numeric(text[todo].str.replace(",", ".", regex=False), errors="coerce")
        out.loc[todo] = _serials(nums.astype("float64")).astype("datetime64[us]")
    return out.dt.floor("D")


_TRUE = {"1", "true", "wahr", "ja", "j", "yes", "y", "x", "ok"}
_FALSE = {"0", "false", "falsch", "nein", "n", "no"}


def parse_bools(series: pd.Series, nulls=DEFAULT_NULLS) -> tuple[pd.Series, pd.Series]:
    """Flags: ja/nein, yes/no, true/false, 1/0, x -> boolean, plus the mask of unknown values."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean"), pd.Series(False, index=series.index)
    if is_numeric(series):
        values = series.astype("float64")
        return (values != 0).astype("boolean").mask(values.isna()), pd.Series(
            False, index=series.index
        )
    text = as_text(series, nulls).str.casefold()
    out = pd.Series(pd.NA, index=text.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False)] = True
    out[text.isin(_FALSE).fillna(False)] = False
    return out, (text.notna() & out.isna()).astype(bool)
