"""German and English labels and number, money and date formats.

Labels live in kam_analytics/locales/*.toml, one file per area, each with a [de] and an [en]
table holding the same keys. `t(key, lang)` looks a label up; formats come from babel.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import tomllib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date as _babel_date
from babel.numbers import format_currency, format_decimal, format_percent

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
_LOCALES = {"de": "de_DE", "en": "en_GB"}
LOCALE_DIR = Path(__file__).resolve().parent / "locales"


@lru_cache(maxsize=1)
def load_labels() -> dict[str, dict[str, str]]:
    """All labels of all locale files: {lang: {key: text}}."""
    labels: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for path in sorted(LOCALE_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for lang in LANGUAGES:
            labels[lang].update(data.get(lang, {}))
    return labels


def t(key: str, lang: str = DEFAULT_LANGUAGE, **kwargs) -> str:
    """The label for `key` in `lang`, formatted with kwargs; the key itself if missing."""
    text = load_labels().get(lang, {}).get(key)
    if text is None:
        text = load_labels()[DEFAULT_LANGUAGE].get(key, key)
    return text.format(**kwargs) if kwargs else text


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _unsigned_zero(value, decimals: int) -> float:
    """`value` as a float, 0.0 when it rounds to zero at `decimals` (never "-0,00 €")."""
    number = float(value)
    return 0.0 if round(number, decimals) == 0 else number


def fmt_eur(value, lang: str = DEFAULT_LANGUAGE, decimals: int = 2) -> str:
    """Money as shown to users: 1.234,56 € in German, €1,234.56 in English."""
    if _is_missing(value):
        return "–"
    value = _unsigned_zero(value, decimals)
    # Non-breaking space before the unit, as babel's default German pattern has it.
    fmt = None if decimals == 2 else ("#,##0\u00a0¤" if lang == "de" else "¤#,##0")
    return format_currency(
        float(value), "EUR", format=fmt, locale=_LOCALES[lang], currency_digits=decimals == 2
    )


def fmt_number(value, lang: str = DEFAULT_LANGUAGE, decimals: int = 0) -> str:
    """A plain number with thousands separators: 1.234 / 1,234."""
    if _is_missing(value):
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(_unsigned_zero(value, decimals), format=pattern, locale=_LOCALES[lang])


def fmt_decimal(value, lang: str = DEFAULT_LANGUAGE, max_decimals: int = 2) -> str:
    """A number with as many decimals as it has, up to `max_decimals`: 9,5 / 1.234 / 0,0834."""
    if _is_missing(value):
        return "–"
    pattern = "#,##0" + ("." + "#" * max_decimals if max_decimals else "")
    number = _unsigned_zero(value, max_decimals)
    return format_decimal(number, format=pattern, locale=_LOCALES[lang])


def fmt_pct(value, lang: str = DEFAULT_LANGUAGE, decimals: int = 1) -> str:
    """A share (0.256) as a percentage: 25,6 % / 25.6%."""
    if _is_missing(value):
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "\u00a0%"
    if lang == "en":
        pattern = pattern.replace("\u00a0%", "%")
    number = _unsigned_zero(value, decimals + 2)  # a share: 2 more decimals than the percent
    return format_percent(number, format=pattern, locale=_LOCALES[lang])


def fmt_date(value, lang: str = DEFAULT_LANGUAGE) -> str:
    """A date as 31.12.2025 in German, 31 Dec 2025 in English."""
    if _is_missing(value):
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    if hasattr(value, "date") and not isinstance(value, dt.date):
        value = value.date()
    fmt = "dd.MM.yyyy" if lang == "de" else "d MMM yyyy"
    return _babel_date(value, format=fmt, locale=_LOCALES[lang])


def fmt_month(value, lang: str = DEFAULT_LANGUAGE, abbreviated: bool = False) -> str:
    """A month as "November 2026" (abbreviated: "Nov. 2026"; English "Nov 2026")."""
    if _is_missing(value):
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:7] + "-01")
    if hasattr(value, "date") and not isinstance(value, dt.date):
        value = value.date()
    return _babel_date(
        value, format="MMM yyyy" if abbreviated else "MMMM yyyy", locale=_LOCALES[lang]
    )


def fmt_bool(value, lang: str = DEFAULT_LANGUAGE) -> str:
    """A yes/no value as "ja"/"nein" ("yes"/"no"); an empty one as "–"."""
    if _is_missing(value):
        return "–"
    return t("yes" if bool(value) else "no", lang)


# st.date_input's display format per language (its choices: YYYY/MM/DD, DD/MM/YYYY, MM/DD/YYYY
# with "/", "-" or "." between): German 31.12.2025, English (en_GB) 31/12/2025, never ISO.
DATE_INPUT_FORMATS = {"de": "DD.MM.YYYY", "en": "DD/MM/YYYY"}


def date_input_format(lang: str = DEFAULT_LANGUAGE) -> str:
    """The `format=` of st.date_input for `lang`."""
    return DATE_INPUT_FORMATS.get(lang, DATE_INPUT_FORMATS[DEFAULT_LANGUAGE])


def fmt_value(value, lang: str = DEFAULT_LANGUAGE) -> str | bool:
    """Any table cell as the user reads it: dates, numbers and empty cells in `lang`'s format.

    Text stays as it is, booleans stay booleans (a table shows them as ticks); a whole number
    gets thousands separators, a fraction up to two decimals (9,5), a date 31.12.2025, a
    timestamp 31.12.2025 14:05, and an empty cell "–" (Streamlit would draw "None").
    """
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return fmt_date(value, lang)
        return fmt_datetime(value, lang)
    if isinstance(value, dt.date):
        return fmt_date(value, lang)
    # numbers.Real: also Decimal (DuckDB's DECIMAL read with fetchall) and numpy scalars
    if isinstance(value, numbers.Real | Decimal) or hasattr(value, "dtype"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if number.is_integer():
            return fmt_number(number, lang)
        return fmt_decimal(number, lang)
    try:
        if pd.isna(value):
            return "–"
    except (TypeError, ValueError):
        pass
    return value


def normalise_lang(lang: str | None) -> str:
    """A supported language code: 'de' or 'en' (anything else falls back to German)."""
    code = (lang or "").strip().lower()[:2]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def select_service_names(con, lang: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """Service code -> service name in `lang` from the catalogue (name_de / name_en)."""
    rows = con.execute(
        "SELECT service_code, name_de, name_en FROM service_catalogue ORDER BY sort_order"
    ).fetchall()
    index = 2 if lang == "en" else 1
    return {r[0]: (r[index] or r[1] or r[0]) for r in rows}


def fmt_datetime(value, lang: str = DEFAULT_LANGUAGE) -> str:
    """A timestamp as 31.12.2025 14:05 in German, 31 Dec 2025 14:05 in English."""
    if _is_missing(value) or (hasattr(value, "isoformat") and str(value) == "NaT"):
        return "–"
    stamp = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return f"{fmt_date(stamp.date(), lang)} {stamp:%H:%M}"
