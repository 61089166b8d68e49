"""Validation phases 1 and 2: which column of the file feeds each canonical column, and parsing
every value of it (vectorised; only the failing cells are reported)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kam_analytics.errors import ConfigError, Reason
from kam_analytics.ingest import parse
from kam_analytics.ingest.formula import compile_expression, evaluate_expression
from kam_analytics.ingest.mapping import (
    DERIVED_KEYS,
    SYNONYMS,
    column_choices,
    input_columns,
    map_categories,
    map_service_codes,
    normalize_header,
)
from kam_analytics.ingest.state import State

# Money keeps the source's precision up to 4 decimals (177.225 stays 177.225); the database
# stores DECIMAL(18,4), so per-account sums reconcile to the cent with the column sum.
MONEY_DECIMALS = 4

KIND_REASON = {
    "date": Reason.UNPARSEABLE_DATE,
    "money": Reason.UNPARSEABLE_AMOUNT,
    "number": Reason.UNPARSEABLE_NUMBER,
    "int": Reason.UNPARSEABLE_NUMBER,  # variant "int"
    "bool": Reason.UNPARSEABLE_FLAG,
}


def resolve_header(headers: list[str], wanted: str) -> str | None:
    """The file header matching `wanted` exactly, else ignoring case, spaces and punctuation."""
    if wanted in headers:
        return wanted
    norm = normalize_header(wanted)
    for h in headers:
        if normalize_header(h) == norm:
            return h
    return None


def read_options(mapping) -> dict:
    """Null tokens, decimal separator, date format and the row options of the [read] section."""
    extra = mapping.read.get("null_values") or []
    if isinstance(extra, str):
        extra = [extra]
    return {
        "nulls": tuple(parse.DEFAULT_NULLS) + tuple(str(x) for x in extra),
        "decimal": mapping.read.get("decimal"),
        "date_format": mapping.read.get("date_format"),
        "date_order": mapping.read.get("date_order"),
    }


def column_kind(state: State, name: str) -> str:
    """Logical kind of a canonical or input-only column."""
    if name in state.table.column_names:
        return state.table.column(name).kind
    return input_columns(state.table.name)[name]


def _add_formula(state: State, col: str, expr: str) -> None:
    headers = state.raw.headers
    try:
        _tree, names = compile_expression(expr)
    except ConfigError as exc:
        state.out.add(
            Reason.INVALID_FORMULA,
            column=col,
            value=expr,
            params={"variant": exc.code, "formula": repr(expr)},
        )
        return
    missing = [h for h in names.values() if resolve_header(headers, h) is None]
    if missing:
        state.out.add(
            Reason.MISSING_COLUMN,
            column=missing[0],
            params={
                "variant": "computed",
                "header": missing[0],
                "column": col,
                "formula": repr(expr),
            },
        )
        return
    state.plan[col] = ("computed", expr)


def plan_columns(state: State) -> None:
    """Phase 1: where each canonical column comes from (file column, constant, formula)."""
    headers, mapping, out, table = state.raw.headers, state.mapping, state.out, state.table
    for col, header in mapping.columns.items():
        found = resolve_header(headers, header)
        if found is None:
            out.add(
                Reason.MISSING_COLUMN,
                column=header,
                params={
                    "variant": "mapped",
                    "header": header,
                    "column": col,
                    "headers": ", ".join(headers[:30]),
                },
            )
        else:
            state.plan[col] = ("column", found)
    for col, value in mapping.defaults.items():
        state.plan.setdefault(col, ("constant", value))
    for col, expr in mapping.computed.items():
        if col not in state.plan:
            _add_formula(state, col, expr)
    if table.name == "feedback" and "kind" not in state.plan and "score" in state.plan:
        # Survey-tool exports (NPS, CSAT) have a score and no kind: they are surveys.
        state.plan["kind"] = ("constant", "survey")
        out.add(
            Reason.DEFAULT_KIND,
            column="kind",
            severity="warning",
        )
    _name_from_key(state)
    # Value from unit price x quantity, or from the service catalogue (phase money).
    filled_later = (
        {"net_revenue"} if "unit_price" in state.plan and table.name == "orders" else set()
    )
    for col in table.columns:
        if (
            col.required
            and col.name not in state.plan
            and col.name not in filled_later
            and DERIVED_KEYS.get(table.name) != col.name
            and not any(
                p.reason == Reason.MISSING_COLUMN
                and p.params.get("variant") == "mapped"
                and p.params.get("column") == col.name
                for p in out.items
            )
        ):
            examples = ", ".join(SYNONYMS.get(col.name, ())[:3])
            out.add(
                Reason.MISSING_COLUMN,
                column=col.name,
                params={"variant": "required", "column": col.name, "examples": examples},
            )
    if table.name == "accounts" and "tier" not in state.plan:
        out.add(
            Reason.MISSING_TIER,
            column="tier",
            severity="warning",
        )


# Master-data tables whose rows are named: a list that has only names (a CRM's "account",
# "sales_agent") uses the name as the id, and a list that has only ids uses the id as name.
_NAMED = {"accounts": ("account_id", "name"), "kams": ("kam_id", "name")}


def _name_from_key(state: State) -> None:
    pair = _NAMED.get(state.table.name)
    if pair is None:
        return
    key, name = pair
    plan = state.plan
    if plan.get(key, ("",))[0] == "column" and name not in plan:
        plan[name], source, target = plan[key], key, name
    elif plan.get(name, ("",))[0] == "column" and key not in plan:
        plan[key], source, target = plan[name], name, key
    else:
        return
    header = plan[source][1]
    state.out.add(
        Reason.SAME_COLUMN,
        column=header,
        severity="warning",
        params={"header": header, "source": source, "target": target},
    )


def _source_of(state: State, name: str, kind: str) -> pd.Series:
    frame, index, n = state.raw.frame, pd.RangeIndex(state.n), state.n
    how, what = state.plan[name]
    if how == "column":
        state.where[name] = what
        return frame[what]
    state.where[name] = name
    if how == "constant":
        if isinstance(what, bool | int | float) and kind not in ("text", "id", "category"):
            return pd.Series(np.full(n, float(what)), index=index)
        if isinstance(what, str | int | float):
            return pd.Series(np.full(n, str(what), dtype=object), index=index).astype("str")
        return pd.Series([what] * n, index=index, dtype=object)
    inputs = {}
    _tree, names = compile_expression(what)
    for header in set(names.values()):
        found = resolve_header(state.raw.headers, header)
        vals, bad = parse.parse_amounts(
            frame[found],
            state.opts["decimal"],
            state.opts["nulls"],
            state.raw.decimal_hint,
            state.raw.numbers_of(found),
        )
        state.out.rows(
            bad,
            frame[found],
            Reason.UNPARSEABLE_NUMBER,
            found,
            params={"variant": "computed", "name": name},
        )
        inputs[header] = vals
    return evaluate_expression(what, inputs, index)


def _date_order(state: State, name: str, source: pd.Series) -> str | None:
    """The slashed-date order of a column; an all-ambiguous column without a stated format
    is refused (01/02/2025 may be 1 February or 2 January)."""
    if state.opts.get("date_order") in ("dmy", "mdy"):
        return state.opts["date_order"]
    order = parse.slashed_date_order(source, state.opts["nulls"])
    if order == "ambiguous" and not state.opts.get("date_format"):
        text = parse.as_text(source, state.opts["nulls"])
        sample = text.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}.*").fillna(False).to_numpy(bool)
        pos = int(np.flatnonzero(sample)[0])
        state.out.add(
            Reason.AMBIGUOUS_DATE,
            row=int(state.raw.rows[pos]),
            column=state.where[name],
            value=text.iloc[pos],
            params={"header": state.where[name], "example": text.iloc[pos]},
        )
    return order if order in ("dmy", "mdy") else None


def parse_value_column(state: State, name: str, kind: str, source: pd.Series):
    """Parsed values and the mask of present-but-unparseable cells, by column kind."""
    opts, nulls, hint = state.opts, state.opts["nulls"], state.raw.decimal_hint
    numbers = state.raw.numbers_of(state.where.get(name)) if state.from_file(name) else None
    if kind == "id":
        return parse.parse_ids(source, nulls), None
    if kind in ("text", "category"):
        return parse.parse_text(source, nulls), None
    if kind == "date":
        order = _date_order(state, name, source) if state.from_file(name) else None
        return parse.parse_dates(source, opts.get("date_format"), nulls, order=order)
    if kind == "money":
        values, bad = parse.parse_amounts(source, opts.get("decimal"), nulls, hint, numbers)
        state.cell_currency[name] = parse.amount_currencies(source, nulls)
        return values.round(MONEY_DECIMALS), bad
    if kind == "number":
        return parse.parse_numbers(source, opts.get("decimal"), nulls, hint)
    if kind == "int":
        return parse.parse_ints(source, opts.get("decimal"), nulls, hint)
    if kind == "bool":
        return parse.parse_bools(source, nulls)
    raise ValueError(kind)


def parse_columns(state: State) -> None:
    """Phase 2: parse every planned column; report unparseable cells and unknown categories."""
    out, mapping = state.out, state.mapping
    state.result = pd.DataFrame(index=pd.RangeIndex(state.n))
    names = [c.name for c in state.table.columns if c.name in state.plan]
    names += [c for c in input_columns(state.table.name) if c in state.plan]
    for name in names:
        kind = column_kind(state, name)
        source = _source_of(state, name, kind)
        state.sources[name] = source
        values, bad = parse_value_column(state, name, kind, source)
        if bad is not None and bad.any():
            variant = {"int": "int"}.get(kind)
            out.rows(
                bad,
                source,
                KIND_REASON[kind],
                state.where[name],
                params={"variant": variant} if variant else None,
            )
        if kind == "category":
            text = values
            mapped = map_categories(text, name, mapping.values.get(name))
            unknown = text.notna() & mapped.isna()
            if unknown.any():
                choices = ", ".join(column_choices(name) or ())
                out.rows(
                    unknown,
                    text,
                    Reason.UNKNOWN_VALUE,
                    state.where[name],
                    params={"name": name, "choices": choices},
                )
            values = mapped
        elif name == "service_code":
            # Exports name services in words ("Schulung beim Kunden"); codes are what the
            # catalogue and the matrix know.
            values = map_service_codes(values, mapping.values.get(name))
        state.result[name] = values
