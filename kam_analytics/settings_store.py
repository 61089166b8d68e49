"""Editable settings: the one reader and writer of the `settings` table, and the one place for
every default — retention parameters, the bonus plan per year, KAM pay per year, appearance
(company name, chart colours, font) and the default language.

Every value has a default (DOMAIN.md for the numbers), so an empty database works. Only admins
change settings; every change is written to the audit log (old -> new). The chart theme
(exports/theme.py) reads its colours and font from here; this module imports nothing from
`exports`. The bonus plan and KAM pay of a closed
bonus year cannot be changed (closed_years.py).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import asdict, dataclass, fields

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.audit import write_audit
from kam_analytics.closed_years import require_open_year
from kam_analytics.errors import ConfigError, NotFoundError, Reason
from kam_analytics.i18n import LANGUAGES, normalise_lang
from kam_analytics.write_log import writing

# --- reading and writing the settings table ------------------------------------------------


def _decode(raw):
    """A stored value: JSON decoded; text that is not JSON is kept as it is."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return raw


def select_settings(con, prefix: str = "", keys: tuple[str, ...] | None = None) -> dict:
    """Stored settings whose key starts with `prefix` (and is one of `keys` when given).

    Returns {key: decoded JSON value}; missing and NULL values are left out.
    """
    rows = con.execute(
        "SELECT key, CAST(value AS VARCHAR) FROM settings WHERE starts_with(key, ?) "
        "AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(?, key))",
        [prefix, None if keys is None else list(keys), None if keys is None else list(keys)],
    ).fetchall()
    return {key: _decode(raw) for key, raw in rows if raw is not None}


def get_setting(con, key: str, default=None):
    """One stored setting (decoded), or `default` when it is not stored."""
    return select_settings(con, keys=(key,)).get(key, default)


def upsert_setting(con, key: str, value, username: str, updated_at: dt.datetime | None = None):
    """Write one setting (stored as JSON); the only writer of the settings table."""
    with writing(con, "settings"):
        con.execute(
            "INSERT OR REPLACE INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)",
            [key, json.dumps(value), updated_at or dt.datetime.now(), username],
        )


# --- retention parameters ------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionSettings:
    """The retention parameters as used by the metrics; the defaults are DOMAIN.md's."""

    activity_window_days: int = 90  # active on d = an order in [d - window, d]
    gap_factor: float = 1.5  # order gap > factor x median gap between orders
    revenue_drop: float = 0.25  # trailing 12 months down by this share or more
    satisfaction_drop: float = 2.0  # latest survey score down by this many points
    mandate_check_month: int = 6  # mandate completeness checked after the end of
    mandate_check_day: int = 30  # ... this month/day (default: after 30 June)

    def mandate_check_date(self, year: int) -> dt.date:
        """The date after which an incomplete mandate counts as a risk signal."""
        month = int(self.mandate_check_month)
        day = int(self.mandate_check_day)
        while day > 28:
            try:
                return dt.date(year, month, day)
            except ValueError:
                day -= 1
        return dt.date(year, month, day)


DEFAULT_RETENTION = RetentionSettings()
# key in the settings table -> default (from RetentionSettings, the one place for them)
RETENTION_DEFAULTS: dict[str, float] = {
    f"retention.{f.name}": getattr(DEFAULT_RETENTION, f.name) for f in fields(RetentionSettings)
}
RETENTION_LIMITS: dict[str, tuple[float, float]] = {
    "retention.activity_window_days": (1, 3650),
    "retention.gap_factor": (0.1, 100),
    "retention.revenue_drop": (0.01, 1.0),
    "retention.satisfaction_drop": (0.1, 10),
    "retention.mandate_check_month": (1, 12),
    "retention.mandate_check_day": (1, 31),
}
_INT_KEYS = {
    "retention.activity_window_days",
    "retention.mandate_check_month",
    "retention.mandate_check_day",
}


def _valid_number(value) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def get_retention_settings(con) -> RetentionSettings:
    """The retention parameters: stored values where valid, DOMAIN.md defaults otherwise."""
    stored = select_settings(con, "retention.")
    values = {}
    for key, default in RETENTION_DEFAULTS.items():
        value = stored.get(key, default)
        lo, hi = RETENTION_LIMITS[key]
        if not _valid_number(value) or not lo <= float(value) <= hi:
            value = default
        values[key.split(".", 1)[1]] = int(value) if key in _INT_KEYS else float(value)
    return RetentionSettings(**values)


def save_retention_settings(con, scope: Scope, new: RetentionSettings | dict) -> RetentionSettings:
    """Validate and store retention parameters (admin only); log every changed value."""
    scope.require_role("admin")
    if isinstance(new, RetentionSettings):
        new = asdict(new)
    old = get_retention_settings(con)
    old_d = asdict(old)
    for name, value in new.items():
        key = f"retention.{name}"
        if key not in RETENTION_DEFAULTS:
            raise ConfigError(Reason.RETENTION_SETTING_UNKNOWN, name=str(name))
        lo, hi = RETENTION_LIMITS[key]
        if not _valid_number(value) or not lo <= float(value) <= hi:
            raise ConfigError(
                Reason.RETENTION_SETTING_RANGE, name=name, value=str(value), lo=lo, hi=hi
            )
        value = int(value) if key in _INT_KEYS else float(value)
        if value != old_d[name]:
            upsert_setting(con, key, value, scope.username)
            write_audit(con, scope.username, "settings.retention", key, old_d[name], value)
    return get_retention_settings(con)


# --- bonus plan per year -------------------------------------------------------------------


@dataclass(frozen=True)
class BonusPlan:
    """One year's bonus plan: weights, retention gate and cap."""

    w_retention: float = 0.6
    w_mandate: float = 0.3
    w_feedback: float = 0.1
    retention_gate: float = 0.5
    cap: float = 1.2


DEFAULT_PLAN = BonusPlan()
PLAN_FIELDS = tuple(f.name for f in fields(BonusPlan))
_PLAN_LIMITS = {
    "w_retention": (0.0, 10.0),
    "w_mandate": (0.0, 10.0),
    "w_feedback": (0.0, 10.0),
    "retention_gate": (0.0, 1.0),
    "cap": (0.0, 10.0),
}


def select_bonus_plan(con, year: int) -> dict | None:
    """The stored plan row of `year`, or None."""
    df = con.execute(
        f"SELECT {', '.join(PLAN_FIELDS)} FROM bonus_plans WHERE year = ?", [int(year)]
    ).df()
    if df.empty:
        return None
    return df.iloc[0].to_dict()


def get_bonus_plan(con, year: int) -> BonusPlan:
    """The plan of `year`; any value not stored (or invalid) takes the DOMAIN.md default."""
    row = select_bonus_plan(con, year) or {}
    values = {}
    for name in PLAN_FIELDS:
        value = row.get(name)
        lo, hi = _PLAN_LIMITS[name]
        if not _valid_number(value) or not lo <= float(value) <= hi:
            value = getattr(DEFAULT_PLAN, name)
        values[name] = float(value)
    return BonusPlan(**values)


def save_bonus_plan(con, scope: Scope, year: int, plan: BonusPlan | dict) -> BonusPlan:
    """Validate and store the plan of `year` (admin only); log old -> new."""
    scope.require_role("admin")
    values = asdict(plan) if isinstance(plan, BonusPlan) else dict(plan)
    for name in PLAN_FIELDS:
        value = values.get(name)
        lo, hi = _PLAN_LIMITS[name]
        if not _valid_number(value) or not lo <= float(value) <= hi:
            raise ConfigError(
                Reason.BONUS_PLAN_RANGE, year=year, name=name, value=str(value), lo=lo, hi=hi
            )
    if values["w_retention"] + values["w_mandate"] + values["w_feedback"] <= 0:
        raise ConfigError(Reason.BONUS_WEIGHTS_ZERO, year=year)
    require_open_year(con, year, "bonus_plan")
    old = select_bonus_plan(con, year)
    new = BonusPlan(**{n: float(values[n]) for n in PLAN_FIELDS})
    with writing(con, "bonus_plans"):
        con.execute(
            f"INSERT OR REPLACE INTO bonus_plans (year, {', '.join(PLAN_FIELDS)}) "
            f"VALUES (?, {', '.join('?' for _ in PLAN_FIELDS)})",
            [int(year), *[getattr(new, n) for n in PLAN_FIELDS]],
        )
    write_audit(con, scope.username, "settings.bonus_plan", str(year), old, asdict(new))
    return new


# --- KAM pay per year ----------------------------------------------------------------------


def select_kam_pay(con, year: int, kam_id: str | None = None) -> pd.DataFrame:
    """Base salary and target bonus per KAM for `year`: the override, else the kams table."""
    return con.execute(
        """
        SELECT k.kam_id, k.name,
               CAST(COALESCE(p.base_salary, k.base_salary) AS DOUBLE) AS base_salary,
               CAST(COALESCE(p.target_bonus, k.target_bonus) AS DOUBLE) AS target_bonus,
               CAST(k.base_salary AS DOUBLE) AS default_base_salary,
               CAST(k.target_bonus AS DOUBLE) AS default_target_bonus,
               p.kam_id IS NOT NULL AS overridden
        FROM kams k
        LEFT JOIN kam_pay p ON p.kam_id = k.kam_id AND p.year = ?
        WHERE ? IS NULL OR k.kam_id = ?
        ORDER BY k.kam_id
        """,
        [int(year), kam_id, kam_id],
    ).df()


def get_kam_pay(con, year: int, scope: Scope) -> pd.DataFrame:
    """Pay per KAM for `year` as the scope may see it (a KAM sees only their own)."""
    if scope.sees_all:
        return select_kam_pay(con, year)
    return select_kam_pay(con, year, scope.kam_id or "\x00none")


def _money_or_none(value, what: str):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if not _valid_number(value) or float(value) < 0:
        raise ConfigError(Reason.AMOUNT_INVALID, what=what, value=str(value))
    return round(float(value), 2)


def save_kam_pay(
    con, scope: Scope, kam_id: str, year: int, base_salary=None, target_bonus=None
) -> None:
    """Override a KAM's base salary and/or target bonus for one year (admin only); logged."""
    scope.require_role("admin")
    exists = con.execute("SELECT count(*) FROM kams WHERE kam_id = ?", [kam_id]).fetchall()[0][0]
    if not exists:
        raise NotFoundError(Reason.KAM_NOT_FOUND, kam_id=str(kam_id))
    require_open_year(con, year, "kam_pay")
    base = _money_or_none(base_salary, "base salary")
    target = _money_or_none(target_bonus, "target bonus")
    old = con.execute(
        "SELECT CAST(base_salary AS DOUBLE), CAST(target_bonus AS DOUBLE) FROM kam_pay "
        "WHERE kam_id = ? AND year = ?",
        [kam_id, int(year)],
    ).fetchall()
    old_v = {"base_salary": old[0][0], "target_bonus": old[0][1]} if old else None
    with writing(con, "kam_pay"):
        con.execute(
            "INSERT OR REPLACE INTO kam_pay (kam_id, year, base_salary, target_bonus) VALUES (?, ?, ?, ?)",
            [kam_id, int(year), base, target],
        )
    write_audit(
        con,
        scope.username,
        "settings.kam_pay",
        f"{kam_id}/{year}",
        old_v,
        {"base_salary": base, "target_bonus": target},
    )


def delete_kam_pay(con, scope: Scope, kam_id: str, year: int) -> None:
    """Remove a KAM's pay override for one year (back to the kams table); logged."""
    scope.require_role("admin")
    require_open_year(con, year, "kam_pay")
    old = con.execute(
        "SELECT CAST(base_salary AS DOUBLE), CAST(target_bonus AS DOUBLE) FROM kam_pay "
        "WHERE kam_id = ? AND year = ?",
        [kam_id, int(year)],
    ).fetchall()
    if not old:
        return
    with writing(con, "kam_pay"):
        con.execute("DELETE FROM kam_pay WHERE kam_id = ? AND year = ?", [kam_id, int(year)])
    write_audit(
        con,
        scope.username,
        "settings.kam_pay",
        f"{kam_id}/{year}",
        {"base_salary": old[0][0], "target_bonus": old[0][1]},
        None,
    )


# --- appearance and language -----------------------------------------------------------------

# Settings keys read by get_appearance (and through it by exports/theme.load_theme).
APPEARANCE_KEYS = ("company_name", "theme_colors", "theme_font", "default_language")
# Sober default palette: a dark company blue first, then muted companions.
DEFAULT_COLORS = (
    "#1F3A5F",  # company blue
    "#3E7CB1",  # light blue
    "#8AA29E",  # sage
    "#D08C2E",  # amber (accents, warnings)
    "#6C757D",  # grey
    "#4C8C4A",  # green
    "#A23B3B",  # red
    "#B8C4D6",  # pale blue
)
DEFAULT_FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
MAX_COLORS = 10
MAX_TEXT = 100
_BAD_FONT_CHARS = set("<>{};") | {chr(c) for c in range(32)}


def get_default_language(con) -> str:
    """The interface language for new sessions: settings key `default_language`, else German."""
    value = get_setting(con, "default_language")
    return normalise_lang(value.strip().strip('"') if isinstance(value, str) else None)


def get_appearance(con) -> dict:
    """Company name, chart colours, font and default language; defaults where none is stored."""
    stored = select_settings(con, keys=("company_name", "theme_colors", "theme_font"))
    colors = stored.get("theme_colors")
    if isinstance(colors, str):
        colors = colors.split(",")
    colors = [
        c.strip().upper()
        for c in (colors if isinstance(colors, list) else [])
        if isinstance(c, str) and HEX_COLOR.match(c.strip())
    ]
    font = stored.get("theme_font")
    company = stored.get("company_name")
    return {
        "company_name": company.strip() if isinstance(company, str) else "",
        "theme_colors": colors or list(DEFAULT_COLORS),
        "theme_font": font.strip() if isinstance(font, str) and font.strip() else DEFAULT_FONT,
        "default_language": get_default_language(con),
    }


def _clean_appearance(name: str, value):
    """One appearance value validated and normalised, or ConfigError."""
    if name == "theme_colors":
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_COLORS:
            raise ConfigError(Reason.PALETTE_SIZE, max=MAX_COLORS)
        out = []
        for color in value:
            if not isinstance(color, str) or not HEX_COLOR.match(color.strip()):
                raise ConfigError(Reason.COLOR_INVALID, color=str(color))
            out.append(color.strip().upper())
        return out
    if name == "theme_font":
        font = value.strip() if isinstance(value, str) else ""
        if not font or len(font) > MAX_TEXT or _BAD_FONT_CHARS & set(font):
            raise ConfigError(Reason.FONT_INVALID, font=str(value), max=MAX_TEXT)
        return font
    if name == "company_name":
        if value is None:
            value = ""
        if not isinstance(value, str) or len(value.strip()) > MAX_TEXT:
            raise ConfigError(Reason.COMPANY_NAME_TOO_LONG, max=MAX_TEXT)
        return value.strip()
    if name == "default_language":
        if value not in LANGUAGES:
            raise ConfigError(
                Reason.LANGUAGE_UNSUPPORTED, lang=str(value), languages=", ".join(LANGUAGES)
            )
        return value
    raise ConfigError(
        Reason.APPEARANCE_SETTING_UNKNOWN, name=str(name), names=", ".join(APPEARANCE_KEYS)
    )


def save_appearance(con, scope: Scope, new: dict) -> dict:
    """Validate and store company name, colours, font, default language (admin only); logged."""
    scope.require_role("admin")
    # Validate everything before writing anything: a bad colour must not leave a half save.
    cleaned = {name: _clean_appearance(name, value) for name, value in new.items()}
    old = get_appearance(con)
    for name, value in cleaned.items():
        if value != old[name]:
            upsert_setting(con, name, value, scope.username)
            write_audit(con, scope.username, "settings.appearance", name, old[name], value)
    return get_appearance(con)


# --- limits for reading uploaded files -------------------------------------------------------


@dataclass(frozen=True)
class ImportLimits:
    """What an uploaded file may claim or need before it is refused (kam_analytics.ingest.guard).

    Real CRM/ERP exports stay far below these: 200,000 rows x 15 columns is a 14 MB xlsx with
    about 150 MB of sheet XML and needs about 500 MB to read.
    """

    max_file_bytes: int = 200_000_000  # the upload itself
    max_unpacked_bytes: int = 1_000_000_000  # all parts of an xlsx/ods zip, uncompressed
    max_compression_ratio: float = 100.0  # uncompressed / compressed, for parts over 10 MB
    max_zip_entries: int = 10_000
    max_cells: int = 20_000_000  # rows x columns a sheet declares (<dimension ref=...>)
    max_columns: int = 1_000
    max_cell_chars: int = 32_767  # Excel's own limit for one cell
    # Address space the reading child may map beyond its start (100,000 rows x 15 columns
    # need about 250 MB), and its wall time.
    max_memory_bytes: int = 1_000_000_000
    max_seconds: float = 60.0
    # On top of those, a share that grows with what the reader has to parse (the unpacked
    # parts of a workbook, else the file; both bounded by the limits above): calamine holds
    # every cell, so 1,000,000 rows x 15 columns (650 MB of sheet XML) need about 1.6 GB.
    memory_per_parsed_byte: float = 2.5
    seconds_per_parsed_mb: float = 0.1


DEFAULT_IMPORT_LIMITS = ImportLimits()
