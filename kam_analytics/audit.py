"""The audit log: who changed what, when (old -> new). Every write path calls write_audit.

`list_audit` is the one reader, and `AUDIT_READERS` its one role rule (the audit page, the
settings page's change list, benchmarks and tests all read through it).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.write_log import writing

# The log holds every KAM's pay, ratings and survey approvals: the admins who keep the data and
# management (the second pair of eyes on bonus figures) read it; KAMs do not.
AUDIT_READERS = ("admin", "management")
AUDIT_COLUMNS = [
    "audit_id",
    "at",
    "username",
    "action",
    "target",
    "change",
    "old_value",
    "new_value",
]


def _to_json(value) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def write_audit(con, username: str, action: str, target: str = "", old=None, new=None) -> None:
    """Append one audit entry; old/new are any JSON-serialisable values (never passwords)."""
    with writing(con, "audit_log"):
        con.execute(
            'INSERT INTO audit_log (audit_id, "at", username, action, target, old_value, new_value) '
            "VALUES (nextval('audit_id_seq'), ?, ?, ?, ?, ?, ?)",
            [dt.datetime.now(), username, action, target, _to_json(old), _to_json(new)],
        )


def select_audit(
    con, action: str | None, username: str | None, prefix: str | None, limit: int
) -> pd.DataFrame:
    """Newest audit entries, optionally of one action, one action prefix and/or one user."""
    return con.execute(
        'SELECT audit_id, "at", username, action, target, old_value, new_value FROM audit_log '
        "WHERE (? IS NULL OR action = ?) AND (? IS NULL OR username = ?) "
        "AND (? IS NULL OR starts_with(action, ?)) "
        "ORDER BY audit_id DESC LIMIT ?",
        [action, action, username, username, prefix, prefix, limit],
    ).df()


def list_audit(
    con,
    scope: Scope,
    limit: int = 500,
    action: str | None = None,
    *,
    username: str | None = None,
    action_prefix: str | None = None,
    lang: str | None = None,
) -> pd.DataFrame:
    """Newest audit entries first with a readable 'change' column (AUDIT_READERS only).

    With `lang` the change and the target are in words of that language (screens); without,
    the codes stay (the command line's and the tests' form).
    """
    # Refuse here, not only in the page: the command line and every page read through this.
    scope.require_role(*AUDIT_READERS)
    df = select_audit(con, action or None, username or None, action_prefix or None, int(limit))
    df["change"] = [
        describe_change(o, n, lang, action=a)
        for o, n, a in zip(df["old_value"], df["new_value"], df["action"], strict=True)
    ]
    if lang is not None:
        df["target"] = [
            target_label(con, a, x, lang) for a, x in zip(df["action"], df["target"], strict=True)
        ]
    return df[AUDIT_COLUMNS]


def audit_choices(con, scope: Scope) -> tuple[list[str], list[str]]:
    """The distinct actions and user names in the audit log, for filters (AUDIT_READERS only)."""
    scope.require_role(*AUDIT_READERS)
    actions = [
        r[0] for r in con.execute("SELECT DISTINCT action FROM audit_log ORDER BY 1").fetchall()
    ]
    names = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT username FROM audit_log WHERE username IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    return actions, names


def _load(value):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _short(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


# --- the log in words (screens): locales/audit.toml, the glossary and i18n formats ----------

_MONEY_FIELDS = {"base_salary", "target_bonus", "cost", "list_value", "surcharge_fixed", "bonus"}
# Actions whose old/new values are single codes of a glossary concept.
_SCALAR_CONCEPT = {"department_change": "department", "matrix_update": "policy"}
# Actions whose target is a service code of the catalogue.
_SERVICE_TARGETS = {"department_change", "catalogue_update", "catalogue_add"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def action_label(action: str | None, lang: str) -> str:
    """The name of an audit action in `lang` (locales audit/auth/bonus.toml); else the code."""
    from kam_analytics.i18n import load_labels, t

    key = f"audit_action_{action}"
    return t(key, lang) if key in load_labels()[lang] else str(action)


def field_label(field: str, lang: str) -> str:
    """The name of a field of an audit entry's old/new value ('base_salary' -> Grundgehalt)."""
    from kam_analytics.i18n import load_labels, t

    labels = load_labels()[lang]
    if f"audit_field_{field}" in labels:
        return t(f"audit_field_{field}", lang)
    if field.endswith("_rating") and f"q_{field[:-7]}" in labels:  # a mandate rating
        return t("audit_field_rating", lang, what=t(f"q_{field[:-7]}", lang))
    if f"q_{field}" in labels:  # a mandate answer
        return t(f"q_{field}", lang)
    return field


def value_text(value, lang: str, field: str | None = None, concept: str | None = None) -> str:
    """One old or new value in words and German/English formats (codes through the glossary)."""
    from kam_analytics import glossary
    from kam_analytics.i18n import fmt_date, fmt_datetime, fmt_decimal, fmt_eur, load_labels, t

    labels = load_labels()[lang]
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return t(f"audit_value_{str(value).lower()}", lang)
    if isinstance(value, int | float):
        if field in _MONEY_FIELDS:
            return fmt_eur(value, lang)
        return fmt_decimal(value, lang, max_decimals=6)
    if isinstance(value, list):
        return ", ".join(value_text(v, lang, field, concept) for v in value)
    if isinstance(value, dict):
        return "; ".join(
            f"{field_label(k, lang)}: {value_text(v, lang, k)}" for k, v in value.items()
        )
    text = str(value)
    if concept:
        return glossary.term(concept, text, lang)
    if field == "role":
        return glossary.role_label(text, lang)
    if field == "kind" and f"fb_kind_{text}" in labels:
        return t(f"fb_kind_{text}", lang)
    if field in ("status", "review") and f"fb_status_{text}" in labels:
        return t(f"fb_status_{text}", lang)
    if f"audit_value_{text}" in labels and field in ("reason", "method", "password"):
        return t(f"audit_value_{text}", lang)
    if _ISO_STAMP.fullmatch(text[:16]) and len(text) > 10:
        return fmt_datetime(dt.datetime.fromisoformat(text), lang)
    if _ISO_DATE.fullmatch(text):
        return fmt_date(text, lang)
    return text


def describe_value(raw, lang: str) -> str:
    """One side (old or new) of an audit entry in words: 'Grundgehalt: 71.100,00 €; …'."""
    return value_text(_load(raw), lang)


def target_label(con, action: str, target, lang: str) -> str:
    """What an entry is about, in words: a service's name, a setting's name; else as stored."""
    from kam_analytics.glossary import service_label

    if target is None or (isinstance(target, float) and pd.isna(target)) or target == "":
        return "–"
    text = str(target)
    if action in _SERVICE_TARGETS:
        return service_label(con, text, lang)
    if str(action).startswith("settings.") and not text.isdigit() and "/" not in text:
        return field_label(text.rsplit(".", 1)[-1], lang)  # "retention.gap_factor"
    return _key_in_words(con, str(action), text, lang)


def _key_in_words(con, action: str, text: str, lang: str) -> str:
    """The keys the writers store ("feedback:9", "USD:2026:0", "K10012/2026") in words."""
    from kam_analytics.glossary import service_label, table_label, tier_label
    from kam_analytics.i18n import fmt_month, t

    parts = text.split(":")
    if action in ("import", "import_undo") and len(parts) == 2 and parts[1].isdigit():
        return t("audit_target_import", lang, table=table_label(parts[0], lang), id=parts[1])
    if action.startswith("exchange_rate") and len(parts) == 3 and parts[2].isdigit():
        code, year, month = parts[0], parts[1], int(parts[2])
        if month == 0:
            return t("audit_target_rate_year", lang, currency=code, year=year)
        return f"{code}, {fmt_month(dt.date(int(year), month, 1), lang)}"
    pieces = text.split("/")
    if action == "matrix_update" and len(pieces) == 3:
        year, code, tier = pieces
        return f"{year}, {service_label(con, code, lang)}, {tier_label(tier, lang)}"
    if len(pieces) == 2 and pieces[1].isdigit():  # an account's or a KAM's year
        return f"{pieces[0]}, {pieces[1]}"
    return text


def _describe_fields(old, new, name_of, text_of) -> str:
    """'name: old → new; …' over the keys of two JSON objects ('name: new' for a creation).

    A key missing on one side reads as that side's `text_of(key, None)` ("–").
    """
    old_d = old if isinstance(old, dict) else {}
    new_d = new if isinstance(new, dict) else {}
    parts = []
    for key in sorted(set(old_d) | set(new_d)):
        after = text_of(key, new_d.get(key))
        if key in new_d and not old_d:
            parts.append(f"{name_of(key)}: {after}")
        else:
            parts.append(f"{name_of(key)}: {text_of(key, old_d.get(key))} → {after}")
    return "; ".join(parts)


def _describe_in_words(old, new, lang: str, action: str | None) -> str:
    concept = _SCALAR_CONCEPT.get(action or "")
    if isinstance(old, dict) or isinstance(new, dict):
        return _describe_fields(
            old,
            new,
            lambda key: field_label(key, lang),
            lambda key, value: value_text(value, lang, key),
        )
    if old is None and new is None:
        return ""
    return f"{value_text(old, lang, concept=concept)} → {value_text(new, lang, concept=concept)}"


def describe_change(
    old_value, new_value, lang: str | None = None, action: str | None = None
) -> str:
    """One line 'key: old → new; …' from the JSON old/new values of an audit entry.

    With `lang`: field names, codes and numbers in that language's words and formats.
    """
    old, new = _load(old_value), _load(new_value)
    if lang is not None:
        return _describe_in_words(old, new, lang, action)
    if isinstance(old, dict) or isinstance(new, dict):
        return _describe_fields(old, new, str, lambda _key, value: _short(value))
    if old is None and new is None:
        return ""
    return f"{_short(old)} → {_short(new)}"
