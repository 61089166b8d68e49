"""Validation phase 4: money. Amounts in other currencies converted to EUR (or refused when no
rate is known), debit/credit flags applied, values from unit price x quantity, and service
values from the catalogue when the export has none."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kam_analytics.errors import Reason
from kam_analytics.exchange_rates import BASE_CURRENCY, RateTable
from kam_analytics.ingest.columns import MONEY_DECIMALS, column_kind
from kam_analytics.ingest.state import State

# The date a row's exchange rate is taken for.
RATE_DATE = {
    "orders": "order_date",
    "shipments": "ship_date",
    "service_events": "date",
}
_ISO = {"€": "EUR", "EURO": "EUR", "EUR": "EUR", "SFR": "CHF", "FR.": "CHF", "$": "USD"}


def _normal_currency(text: pd.Series) -> pd.Series:
    t = text.str.strip().str.upper()
    return t.map(lambda v: _ISO.get(v, v) if isinstance(v, str) else v).astype("str")


def _money_columns(state: State) -> list[str]:
    return [
        c
        for c in state.result.columns
        if column_kind(state, c) == "money" and c in state.table.column_names
    ]


def row_currencies(state: State) -> pd.Series:
    """Each row's currency: the currency column, else the sign in its amounts, else the
    profile's [read] currency, else EUR. A row whose amounts name two currencies, or another
    than its currency column, is refused."""
    result, out = state.result, state.out
    default = str(state.mapping.read.get("currency") or BASE_CURRENCY).upper()
    if "currency" in result:
        column = _normal_currency(result["currency"])
    else:
        column = pd.Series(pd.NA, index=result.index, dtype="str")
    from_cells = pd.Series(pd.NA, index=result.index, dtype="str")
    for name, cur in state.cell_currency.items():
        clash = cur.notna() & from_cells.notna() & (cur != from_cells)
        clash |= cur.notna() & column.notna() & (cur != column)
        clash = clash.fillna(False).to_numpy(dtype=bool) & state.keep
        out.rows(
            clash,
            state.sources[name],
            Reason.CURRENCY_CONFLICT,
            state.where[name],
            params={"name": name},
        )
        from_cells = from_cells.fillna(cur)
    return column.fillna(from_cells).fillna(default).astype("str")


def convert_currencies(state: State) -> None:
    """Convert amounts of other currencies to EUR with the admin's rate table; refuse rows
    whose currency has no rate for their date."""
    result, out = state.result, state.out
    money = _money_columns(state)
    if not money:
        return
    currency = row_currencies(state)
    foreign = (currency != BASE_CURRENCY).to_numpy(dtype=bool) & state.keep
    if "currency" in state.table.column_names:
        result["currency"] = currency
    if not foreign.any():
        if "fx_rate" in state.table.column_names and "currency" in result:
            result["fx_rate"] = np.where(currency == BASE_CURRENCY, 1.0, np.nan)
        return
    rates: RateTable = state.rates or RateTable({})
    date_col = RATE_DATE.get(state.table.name)
    dates = result[date_col] if date_col in result else pd.Series(pd.NaT, index=result.index)
    factor = np.ones(state.n)
    missing = np.zeros(state.n, dtype=bool)
    lookup = {}
    for pos in np.flatnonzero(foreign):
        day = dates.iloc[pos]
        k = (currency.iloc[pos], None if pd.isna(day) else (day.year, day.month))
        if k not in lookup:
            lookup[k] = rates.rate(currency.iloc[pos], None if pd.isna(day) else day)
        rate = lookup[k]
        if rate is None:
            missing[pos] = True
        else:
            factor[pos] = rate
    where = state.where["currency"] if state.from_file("currency") else state.where[money[0]]
    for pos in np.flatnonzero(missing):
        day = dates.iloc[pos]
        cur = currency.iloc[pos]
        when = "no date" if pd.isna(day) else f"{day.year}-{day.month:02d}"
        out.add(
            Reason.UNKNOWN_RATE,
            row=int(state.raw.rows[pos]),
            column=where,
            value=cur,
            params={"currency": cur, "when": when, "year": when[:4]},
        )
    for name in money:
        result[name] = (result[name] / factor).round(MONEY_DECIMALS)
    if "fx_rate" in state.table.column_names:
        result["fx_rate"] = factor
    converted = int((foreign & ~missing).sum())
    if converted:
        used = sorted(
            {
                (c, r)
                for c, r in zip(
                    currency[foreign & ~missing], factor[foreign & ~missing], strict=True
                )
            }
        )
        text = ", ".join(f"{c} at {r:g} per EUR" for c, r in used[:6])
        out.add(
            Reason.CURRENCY_CONVERTED,
            column=where,
            severity="warning",
            params={"count": converted, "rates": text},
        )


def apply_debit_credit(state: State) -> None:
    """A debit/credit flag mapped to + or -: the amounts of '-' rows become negative."""
    result = state.result
    if "debit_credit" not in result:
        return
    minus = (result["debit_credit"] == "-").fillna(False).to_numpy(dtype=bool)
    for name in _money_columns(state):
        result[name] = result[name].where(~minus, -result[name])


def fill_from_unit_price(state: State) -> None:
    """Value = unit price x quantity where the export has a unit price and no value."""
    result = state.result
    target = {"orders": "net_revenue", "service_events": "list_value"}.get(state.table.name)
    if target is None or "unit_price" not in result or target in state.plan:
        return
    qty = result["quantity"] if "quantity" in result else pd.Series(1.0, index=result.index)
    result[target] = (result["unit_price"] * qty.fillna(1.0)).round(MONEY_DECIMALS)
    state.where[target] = state.where["unit_price"]
    state.out.add(
        Reason.VALUE_FROM_UNIT_PRICE,
        column=state.where["unit_price"],
        severity="warning",
        params={"target": target},
    )


def fill_service_values(state: State) -> None:
    """Service events without cost or list value take them from the catalogue x quantity; a
    service the catalogue does not know then cannot be valued and is refused."""
    if state.table.name != "service_events" or "service_code" not in state.result:
        return
    result, out = state.result, state.out
    need = [c for c in ("cost", "list_value") if c not in result]
    if not need:
        return
    catalogue = state.catalogue or {}
    qty = result["quantity"] if "quantity" in result else pd.Series(1.0, index=result.index)
    qty = qty.fillna(1.0)
    codes = result["service_code"]
    known = codes.isin(list(catalogue)).fillna(False).to_numpy(dtype=bool)
    unknown = codes.notna().to_numpy(dtype=bool) & ~known & state.keep
    out.rows(
        unknown,
        codes,
        Reason.UNKNOWN_SERVICE,
        state.where.get("service_code"),
    )
    for name in need:
        idx = 0 if name == "cost" else 1
        unit = codes.map(lambda c, i=idx: catalogue.get(c, (np.nan, np.nan))[i])
        result[name] = (unit.astype("float64") * qty).round(MONEY_DECIMALS)
        state.plan[name] = ("catalogue", name)
        state.where[name] = name
    out.add(
        Reason.VALUE_FROM_CATALOGUE,
        column=state.where.get("service_code"),
        severity="warning",
        params={"columns": " / ".join(need)},
    )
