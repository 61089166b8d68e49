"""Which file column feeds which canonical column: synonyms, suggestions, value maps, constants,
row filters and computed columns (formula.py). The synonyms are data: synonyms.toml."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kam_analytics import schema
from kam_analytics.errors import ConfigError, Reason
from kam_analytics.ingest.formula import (  # noqa: F401  (re-exported for callers)
    compile_expression,
    evaluate_expression,
    expression_headers,
)

_SYNONYM_FILE = Path(__file__).with_name("synonyms.toml")


def _load_synonyms() -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, str]]]:
    data = tomllib.loads(_SYNONYM_FILE.read_text(encoding="utf-8"))
    headers = {col: tuple(names) for col, names in data["headers"].items()}
    values = {col: dict(m) for col, m in data.get("values", {}).items()}
    return headers, values


# Header synonyms per canonical column and value synonyms per categorical column.
SYNONYMS, VALUE_SYNONYMS = _load_synonyms()

# Columns a file may provide that are not stored but feed stored ones: a unit price (value =
# price x quantity), a quantity for order lines, a debit/credit flag that signs the amount,
# the currency of tables without a currency column.
INPUT_COLUMNS: dict[str, dict[str, str]] = {
    "orders": {"unit_price": "money", "quantity": "number", "debit_credit": "category"},
    "shipments": {"currency": "text"},
    "service_events": {"unit_price": "money", "currency": "text"},
}
DEBIT_CREDIT_CHOICES = ("+", "-")


def input_columns(table: str) -> dict[str, str]:
    """Input-only columns of a table and their kind."""
    return INPUT_COLUMNS.get(table, {})


def mappable_columns(table: str) -> list[str]:
    """Canonical columns of a table plus its input-only columns."""
    return schema.IMPORTABLE_TABLES[table].column_names + list(input_columns(table))


def normalize_header(text) -> str:
    """Header as compared: lower case, umlauts spelled out, only letters and digits."""
    s = str(text).strip().casefold()
    s = s.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    s = unicodedata.normalize("NFKD", s)
    return re.sub(r"[^a-z0-9]", "", s)


def normalize_value(value) -> str:
    """Categorical value as compared: trimmed, lower case, single spaces, '02' == '2'."""
    s = re.sub(r"\s+", " ", str(value).strip().casefold())
    if re.fullmatch(r"\d+(\.0+)?", s):
        return str(int(float(s)))
    return s


def _synonym_index() -> dict[str, list[tuple[int, str]]]:
    index: dict[str, list[tuple[int, str]]] = {}
    for col, names in SYNONYMS.items():
        for rank, name in enumerate((col, *names)):
            index.setdefault(normalize_header(name), []).append((rank, col))
    return index


_INDEX = _synonym_index()


def known_header(header) -> bool:
    """True when the header is a canonical name or a known synonym of one."""
    return normalize_header(header) in _INDEX


def suggest_columns(headers, table: str) -> dict[str, str]:
    """Best file header for each canonical column of `table` (canonical names first)."""
    cols = mappable_columns(table)
    candidates = []
    for pos, header in enumerate(headers):
        for rank, col in _INDEX.get(normalize_header(header), ()):
            if col in cols:
                candidates.append((rank, pos, col, header))
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for _rank, _pos, col, header in sorted(candidates):
        if col not in chosen and header not in used:
            chosen[col] = header
            used.add(header)
    return {c: chosen[c] for c in cols if c in chosen}


_REFERENCE_KEYS = {"account_id", "kam_id", "year", "line_no"}

# Event-like exports often carry no id of their own; the id is then derived from the row's
# content, so that re-importing the same rows still creates no duplicate.
DERIVED_KEYS = {"service_events": "event_id", "feedback": "feedback_id", "orders": "order_id"}


def score_table(headers, table: str, provided=()) -> float:
    """How well the headers fit a table: required and key columns weigh most."""
    t = schema.IMPORTABLE_TABLES[table]
    found = set(suggest_columns(headers, table)) | set(provided)
    if "unit_price" in found and table == "orders":
        found |= {"net_revenue"}  # net revenue = unit price x quantity
    score = 0.0
    for col in t.columns:
        if col.name in found:
            score += 3 if col.name in t.key else (2 if col.required else 1)
            # A key of its own (order_id, shipment_id ...) says more about what a file is than
            # account_id, which every transaction export carries as a reference.
            if col.name in t.key and col.name not in _REFERENCE_KEYS:
                score += 3
    missing_required = [
        c for c in t.required_columns if c not in found and DERIVED_KEYS.get(table) != c
    ]
    return score - 2.5 * len(missing_required)


def detect_table(headers) -> tuple[str | None, dict[str, float]]:
    """The importable table the headers fit best (None if nothing fits), with all scores."""
    scores = {name: score_table(headers, name) for name in schema.IMPORTABLE_TABLES}

    def key_found(name):
        table = schema.IMPORTABLE_TABLES[name]
        found = suggest_columns(headers, name)
        return all(
            k in found or table.column(k).default or DERIVED_KEYS.get(name) == k for k in table.key
        )

    fitting = [n for n in scores if key_found(n) and scores[n] > 0]
    if not fitting:
        return None, scores
    return max(fitting, key=lambda n: scores[n]), scores


@dataclass
class Mapping:
    """A complete mapping of one file layout to one canonical table (a profile's content)."""

    table: str
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header in the file
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {file: canon}
    defaults: dict[str, object] = field(default_factory=dict)  # canonical -> constant
    computed: dict[str, str] = field(default_factory=dict)  # canonical -> expression
    read: dict[str, object] = field(default_factory=dict)  # sheet, null_values, decimal, ...
    name: str | None = None  # profile name (file stem) when loaded from or saved as a profile
    # Row filters: {"keep": {header: [values]}, "skip_empty": [headers]}.
    filters: dict[str, object] = field(default_factory=dict)

    def provided(self) -> set[str]:
        """Canonical columns this mapping fills."""
        return set(self.columns) | set(self.defaults) | set(self.computed)

    def headers_used(self) -> set[str]:
        """File headers the mapping reads (mapped and referenced by expressions)."""
        used = set(self.columns.values())
        for expr in self.computed.values():
            used |= set(expression_headers(expr))
        return used

    def check(self) -> None:
        """Raise ConfigError for unknown tables/columns or invalid expressions."""
        if self.table not in schema.IMPORTABLE_TABLES:
            raise ConfigError(
                Reason.MAPPING_UNKNOWN_TABLE,
                table=repr(self.table),
                tables=", ".join(schema.IMPORTABLE_TABLES),
            )
        names = set(mappable_columns(self.table))
        for section in (self.columns, self.defaults, self.computed, self.values):
            for col in section:
                if col not in names:
                    raise ConfigError(
                        Reason.MAPPING_UNKNOWN_COLUMN,
                        column=repr(col),
                        table=repr(self.table),
                        table_name=self.table,
                        columns=", ".join(sorted(names)),
                    )
        for expr in self.computed.values():
            compile_expression(expr)


def auto_mapping(headers, table: str) -> Mapping:
    """The mapping suggested from header names alone."""
    return Mapping(table=table, columns=suggest_columns(headers, table))


def merge_mapping(auto: Mapping, profile: Mapping) -> Mapping:
    """A (partial) profile over the automatic mapping: what the profile says wins, the rest of
    the automatic suggestions stay unless they use a header the profile maps elsewhere."""
    taken = set(profile.columns.values()) | {
        h for e in profile.computed.values() for h in expression_headers(e)
    }
    overridden = set(profile.columns) | set(profile.defaults) | set(profile.computed)
    columns = {c: h for c, h in auto.columns.items() if c not in overridden and h not in taken}
    columns.update(profile.columns)
    return Mapping(
        table=profile.table,
        columns=columns,
        values={**auto.values, **profile.values},
        defaults={**auto.defaults, **profile.defaults},
        computed={**auto.computed, **profile.computed},
        read={**auto.read, **profile.read},
        name=profile.name,
        filters={**auto.filters, **profile.filters},
    )


def column_choices(column: str) -> tuple[str, ...] | None:
    """Allowed values of a categorical canonical or input column."""
    if column == "debit_credit":
        return DEBIT_CREDIT_CHOICES
    for table in schema.IMPORTABLE_TABLES.values():
        if column in table.column_names:
            return table.column(column).choices
    return None


def map_categories(text: pd.Series, column: str, user_map: dict | None = None) -> pd.Series:
    """Canonical category values; values that map to nothing become NA (reported as unknown)."""
    choices = {}
    for choice in column_choices(column) or ():
        choices[normalize_value(choice)] = choice
    lookup = {**choices, **VALUE_SYNONYMS.get(column, {})}
    for k, v in (user_map or {}).items():
        lookup[normalize_value(k)] = v
    uniques = text.dropna().unique()
    mapped = {u: lookup.get(normalize_value(u)) for u in uniques}
    return text.map(mapped).astype("str")


def map_service_codes(text: pd.Series, user_map: dict | None = None) -> pd.Series:
    """Service codes from codes or German/English catalogue names; unknown values pass through."""
    from kam_analytics.catalogue import DEFAULT_SERVICES

    lookup = {}
    for code, name_de, name_en, *_rest in DEFAULT_SERVICES:
        for label in (code, name_de, name_en):
            lookup[normalize_value(label)] = code
    for k, v in (user_map or {}).items():
        lookup[normalize_value(k)] = v
    uniques = text.dropna().unique()
    mapped = {u: lookup.get(normalize_value(u), u) for u in uniques}
    return text.map(mapped).astype("str")


def suggest_values(
    series: pd.Series, column: str, user_map: dict | None = None, limit: int = 100
) -> pd.DataFrame:
    """Distinct file values of a categorical column with their suggested canonical value."""
    from kam_analytics.ingest.parse import as_text

    text = as_text(series)
    counts = text.value_counts(dropna=True).head(limit)
    values = pd.Series(counts.index, dtype="str")
    mapped = map_categories(values, column, user_map)
    return pd.DataFrame(
        {
            "value": values,
            "canonical": mapped.where(mapped.notna(), None),
            "rows": counts.to_numpy(),
        }
    )


def mapping_table(mapping: Mapping) -> pd.DataFrame:
    """One row per canonical column: source header, constant, formula (for the page editor)."""
    from kam_analytics.ingest.describe import header_confidence

    table = schema.IMPORTABLE_TABLES[mapping.table]
    rows = []
    names = [(c.name, c.required) for c in table.columns]
    names += [(c, False) for c in input_columns(mapping.table)]
    for name, required in names:
        const = mapping.defaults.get(name)
        source = mapping.columns.get(name)
        rows.append(
            {
                "column": name,
                "required": required,
                "source": source,
                "confidence": header_confidence(source, name, mapping) if source else None,
                "constant": None if const is None else str(const),
                "formula": mapping.computed.get(name),
            }
        )
    return pd.DataFrame(rows)


def mapping_from_table(df: pd.DataFrame, table: str, base: Mapping | None = None) -> Mapping:
    """A Mapping from the page's editor rows (inverse of mapping_table)."""
    kinds = {c.name: c.kind for c in schema.IMPORTABLE_TABLES[table].columns}
    kinds.update(input_columns(table))
    m = Mapping(
        table=table,
        values=dict(base.values) if base else {},
        read=dict(base.read) if base else {},
        name=base.name if base else None,
        filters=dict(base.filters) if base else {},
    )
    for rec in df.to_dict(orient="records"):
        col = rec["column"]
        src, const, formula = (rec.get(k) for k in ("source", "constant", "formula"))
        if isinstance(src, str) and src.strip():
            m.columns[col] = src
        elif isinstance(formula, str) and formula.strip():
            m.computed[col] = formula.strip()
        elif isinstance(const, str) and const.strip():
            value: object = const.strip()
            if kinds[col] in ("money", "number", "int"):
                try:
                    num = float(str(value).replace(",", "."))
                    value = int(num) if num.is_integer() else num
                except ValueError:
                    pass
            m.defaults[col] = value
    return m
