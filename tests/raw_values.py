"""The raw-value denylist (issue 14): what must never be on screen, in German or in English.

`find_raw(text, lang)` names every forbidden token in a text a user sees; `apptest_texts(at)`
collects what a Streamlit run shows (element texts, table headers and cells, widget options and
placeholders) and `table_problems` flags table columns Streamlit itself would format (a float
column is drawn with a decimal point, a date column as an ISO date). Both walks use it:
tests/test_raw_walk.py (AppTest) and tests/browser/raw_text.py (chromium, in the visits of
tests/browser/test_layout.py).

The codes come from where they are declared (schema, glossary concepts, the catalogue, the
audit actions the code writes), so a new code is on the denylist as soon as it exists.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

# Streamlit's own English on a German page (its widgets' built-in texts).
ENGLISH_ON_GERMAN = (
    "Upload",
    "Browse files",
    "Drag and drop",
    "per file",
    "Select all",
    "No results",
    "Choose an option",
    "Choose options",
    "Page not found",
    "Deploy",
    "Running...",
    "Press Enter",
    "Clear all",
    "Remove an option",
    "Show password",
    "Download as CSV",
    "Search",
    "Fullscreen",
)


# What Streamlit cannot do: st.number_input draws its value with a printf format (sprintf.js),
# which has no decimal comma and no thousands separator. These inputs need decimals, so they
# show 1.50 / 0.25 on the German page as well; the list is exact (a new one fails the walk).
POINT_DECIMAL_INPUTS = {
    "set_gap_factor",
    "set_revenue_drop",
    "set_sat_drop",
    "set_w_r",
    "set_w_m",
    "set_w_f",
    "set_gate",
    "set_cap",
    "rates_col_units_per_eur",
}


@lru_cache(maxsize=1)
def audit_actions() -> set[str]:
    """Every audit action code the code writes (literal first arguments after the target)."""
    actions: set[str] = set()
    pattern = re.compile(r"write_audit\(\s*\w+,\s*[^,]+,\s*f?\"([a-z_.{}' ]+)\"", re.S)
    for path in (ROOT / "kam_analytics").rglob("*.py"):
        for code in pattern.findall(path.read_text("utf-8")):
            if "{" in code:  # f"feedback.{'approve' if approve else 'reject'}"
                actions |= {"feedback.approve", "feedback.reject"}
            else:
                actions.add(code)
    actions |= {"inbox_import", "inbox_refused"}  # written through a conditional
    return actions


@lru_cache(maxsize=1)
def code_words() -> tuple[set[str], set[str]]:
    """(codes that are never English words, codes that are lowercase English words)."""
    from kam_analytics import schema
    from kam_analytics.catalogue import DEFAULT_SERVICES
    from kam_analytics.ingest.mapping import mappable_columns
    from kam_analytics.metrics.giveaways import FINDINGS
    from kam_analytics.metrics.retention import SIGNALS

    lower = (
        set(schema.POLICIES)
        | set(schema.BILLING_MODES)
        | set(FINDINGS)
        | set(SIGNALS)
        | {"retained", "lost", "at_risk", "new"}
        | set(schema.ACCOUNT_STATUSES)
        | set(schema.DEPARTMENTS)
        | set(schema.FEEDBACK_KINDS)
        | set(schema.REVIEW_STATUSES)
        | set(schema.SHIP_MODES)
        | set(schema.ALL_TABLES)
        | set(schema.ROLES)
        # the import's target fields (name, tier, city, currency, ...), as profiles spell them
        | {col for table in schema.IMPORTABLE_TABLES for col in mappable_columns(table)}
    )
    services = {row[0] for row in DEFAULT_SERVICES}
    codes = lower | audit_actions()
    strict = {c for c in codes if "_" in c or "." in c} | services | {"KEY"}
    return strict, {c for c in codes if c not in strict}


_ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
_ISO_MONTH = re.compile(r"(?<![\d-])(?:19|20)\d{2}-(?:0[1-9]|1[0-2])(?![\d-])")
# A decimal point with one or two decimals; a thousands group has three, and "31.12.2025"
# (a German date) is followed by another point.
_POINT_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d{1,2}(?![\d.])")
_SNAKE = re.compile(r"(?<![\w./\\-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w./\\-])")
_MISSING = re.compile(r"(?<!\w)(?:None|nan|NaN|NaT|null|undefined)(?!\w)")


def _word(codes) -> re.Pattern:
    alternation = "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True))
    return re.compile(rf"(?<![\w.])(?:{alternation})(?![\w]|\.\w)")


@lru_cache(maxsize=2)
def _patterns(lang: str) -> list[tuple[str, re.Pattern]]:
    strict, lower = code_words()
    out = [
        ("code", _word(strict)),
        ("missing", _MISSING),
        ("iso-date", _ISO_DATE),
        ("iso-month", _ISO_MONTH),
        ("snake_case", _SNAKE),
    ]
    if lang == "de":
        out += [
            # lowercase codes that are English words: never in a German sentence
            ("code", _word(lower)),
            ("point-decimal", _POINT_DECIMAL),
            ("english", re.compile("|".join(re.escape(w) for w in ENGLISH_ON_GERMAN))),
        ]
    return out


def find_raw(text: str, lang: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Every denylisted token in `text` as 'kind: token' (empty: the text is clean).

    `allowed` are texts from the data itself (a user's file or user name) that are masked first.
    """
    clean = str(text).replace("\\", "")
    for ok in sorted(allowed, key=len, reverse=True):
        clean = clean.replace(ok, " ")
    found = []
    for kind, pattern in _patterns(lang):
        found += [f"{kind}: {m.group(0)}" for m in pattern.finditer(clean)]
    return sorted(set(found))


# --- what an AppTest run shows -------------------------------------------------------------

_TEXT_FIELDS = ("label", "body", "placeholder", "help", "caption", "text", "title", "delta")


def _frame_of(node) -> pd.DataFrame:
    frame = node.value
    return frame.data if hasattr(frame, "data") else frame  # a Styler


def _column_config(node) -> dict:
    """The column_config the page passed (the proto's JSON), by column name."""
    raw = getattr(node.proto, "columns", "")
    try:
        config = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def shown_columns(node) -> list[tuple[str, list]]:
    """(header, shown cell values) of every visible column of a table element.

    Hidden columns are left out; a selectbox column shows its options' labels, as the
    browser does.
    """
    frame = _frame_of(node)
    config = _column_config(node)
    out = []
    for column in frame.columns:
        conf = config.get(str(column)) or {}
        if conf.get("hidden"):
            continue
        header = conf.get("label") or str(column)
        values = list(frame[column])
        options = (conf.get("type_config") or {}).get("options")
        if options and isinstance(options[0], dict):
            labels = {o.get("value"): o.get("label") for o in options}
            values = [labels.get(v, v) for v in values]
        out.append((header, values))
    return out


def table_problems(node, lang: str) -> list[str]:
    """Columns of a table element that Streamlit would draw raw (numbers, dates) or hide."""
    frame = _frame_of(node)
    problems = []
    configured = _column_config(node)
    # An editor's number column must stay a number to be edited: Streamlit draws its empty
    # cells as a grey "None" and no option changes that (reported, not fixable here).
    editable = getattr(node, "editing_mode", "read_only") != "read_only"
    for column in frame.columns:
        series = frame[column]
        config = configured.get(str(column)) or {}
        if config.get("hidden"):
            continue
        kind = (config.get("type_config") or {}).get("type") or ""
        if pd.api.types.is_bool_dtype(series):
            continue
        if pd.api.types.is_datetime64_any_dtype(series) or any(
            hasattr(v, "isoformat") for v in series.dropna().head(20)
        ):
            if kind not in ("date", "datetime", "time") or "format" not in config.get(
                "type_config", {}
            ):
                problems.append(f"date column drawn as ISO: {column}")
            continue
        if pd.api.types.is_numeric_dtype(series):
            values = series.dropna()
            fractional = bool(len(values)) and bool((values != values.round()).any())
            years = bool(len(values)) and bool(values.between(1900, 2100).all())
            big = bool(len(values)) and bool((values.abs() >= 1000).any()) and not years
            fmt = (config.get("type_config") or {}).get("format")
            if lang == "de" and (fractional or big) and not fmt:
                problems.append(f"number column drawn by Streamlit (1234.5): {column}")
            if series.isna().any() and not editable:
                problems.append(f"empty cells drawn as None: {column}")
    return problems


def apptest_texts(at, id_headers: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(element kind, text) for everything the run shows: texts, options, headers, cells.

    Cells under a header in `id_headers` are tagged "id cell" (identifiers users type, such as
    the catalogue's service code in its "Code" column).
    """
    out: list[tuple[str, str]] = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        kind = getattr(node, "type", type(node).__name__)
        if kind == "html":
            # Style sheets and scripts (the page CSS, the sign-in cookie) are never shown.
            body = re.sub(
                r"<(style|script)\b.*?</\1>", "", getattr(proto, "body", ""), flags=re.S | re.I
            )
            if body.strip():
                out.append(("html.body", body))
            continue
        if kind in ("dataframe", "table", "arrow_data_frame", "arrow_table") or type(
            node
        ).__name__ in ("Dataframe", "Table"):
            for header, values in shown_columns(node):
                out.append((f"{kind} header", header))
                texts = {str(v) for v in values if isinstance(v, str)}
                tag = "id cell" if header in id_headers else "cell"
                out += [(f"{kind} {tag}", v) for v in sorted(texts)]
            continue
        if kind == "plotly_chart":
            continue  # charts: tests/test_raw_walk.py checks their texts separately
        for name in _TEXT_FIELDS:
            value = getattr(proto, name, None) if hasattr(proto, name) else None
            if isinstance(value, str) and value:
                out.append((f"{kind}.{name}", value))
        if kind == "metric":
            out.append(("metric.value", str(node.value)))
        if kind in ("markdown", "caption", "title", "header", "subheader", "text", "code"):
            out.append((kind, str(node.value)))
        if kind in ("error", "warning", "info", "success", "toast", "exception"):
            out.append((kind, str(node.value)))
        options = getattr(proto, "options", None)
        if options is not None and not isinstance(options, str):
            try:
                out += [(f"{kind}.option", str(o)) for o in options]
            except TypeError:
                pass
        if kind in ("text_input", "text_area") and node.value:
            out.append((f"{kind}.value", str(node.value)))
        if kind == "number_input" and re.search(r"%[-+ 0#]*\d*\.[1-9]\d*f", proto.format or ""):
            out.append(("number_input.decimals", proto.label))
    return out
