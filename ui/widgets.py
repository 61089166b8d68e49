"""Small shared widgets: formatted money tables, filters, chart display with download config."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import streamlit as st

from kam_analytics.glossary import name_codes
from kam_analytics.i18n import fmt_decimal, fmt_eur, fmt_month, fmt_number, fmt_pct, fmt_value
from ui.session import get_lang


def _is_year_column(name) -> bool:
    return str(name) == "year" or str(name).endswith("_year")


def is_month_column(name) -> bool:
    """A month column by its name (month, *_month): the table shows and downloads it as one."""
    return str(name) == "month" or str(name).endswith("_month")


def _month_text(value, lang: str):
    """A month ("2026-01" or a date) as Jan. 2026; anything else (a month number) as a value."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
        return fmt_month(value, lang, abbreviated=True)
    if isinstance(value, dt.date):
        return fmt_month(value, lang, abbreviated=True)
    return fmt_value(value, lang)


def format_frame(
    df: pd.DataFrame,
    money: tuple[str, ...] = (),
    pct: tuple[str, ...] = (),
    ints: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Copy of df with money, percent and count columns as German/English formatted text.

    Every other column is made readable too, so no table shows a raw value: code columns
    (tier, billing_mode, policy, finding, signals, status, source_table, department) get the
    glossary's names, a month column (month, *_month) "Jan. 2026", and numbers, dates and
    empty cells `i18n.fmt_value`'s formats (a year column stays 2026). Streamlit itself would draw 1234.5, 2026-11-30 and "None".
    """
    lang = get_lang()
    out = name_codes(df, lang)
    for col in money:
        if col in out:
            out[col] = [fmt_eur(v, lang) for v in out[col]]
    for col in pct:
        if col in out:
            out[col] = [fmt_pct(v, lang) for v in out[col]]
    for col in ints:
        if col in out:
            out[col] = [fmt_number(v, lang) for v in out[col]]
    for col in out.columns:
        if col in money or col in pct or col in ints or pd.api.types.is_bool_dtype(out[col]):
            continue
        if _is_year_column(col):
            out[col] = ["–" if pd.isna(v) else str(int(v)) for v in out[col]]
        elif is_month_column(col):  # "2026-01" -> Jan. 2026
            out[col] = [_month_text(v, lang) for v in out[col]]
        else:
            out[col] = [fmt_value(v, lang) for v in out[col]]
    return out


# A table wider than this keeps its first column in view while it scrolls sideways.
PIN_FIRST_ABOVE = 6


def pinned_config(columns, pinned) -> dict:
    """st.dataframe's `column_config` that pins the shown `columns` named in `pinned`."""
    return {c: st.column_config.Column(pinned=True) for c in columns if c in pinned}


# Rows a long table shows on screen (the download beside it holds all): on the 10x company an
# account table has 50,000 rows, formatted cell by cell and sent to the browser on every run.
TABLE_ROWS = 500


def show_table(
    df: pd.DataFrame,
    labels: dict[str, str] | None = None,
    pinned: tuple[str, ...] | None = None,
    max_rows: int | None = None,
    shown_key: str = "rows_shown",
    **fmt,
) -> None:
    """A read-only table with formatted numbers and translated column headers.

    `pinned` (column names before `labels`) stay in view while the table scrolls sideways;
    by default a table of more than PIN_FIRST_ABOVE columns pins its first column.

    With `max_rows`, a longer table shows its first `max_rows` rows and says so with the text
    `shown_key` (its download button, beside it, holds every row): each cell is formatted here
    and sent to the browser.
    """
    if max_rows is not None and len(df) > max_rows:
        from ui.session import tr

        lang = get_lang()
        st.caption(tr(shown_key, n=fmt_number(max_rows, lang), total=fmt_number(len(df), lang)))
        df = df.head(max_rows)
    shown = format_frame(df, **fmt)
    if pinned is None:
        pinned = tuple(df.columns[:1]) if len(df.columns) > PIN_FIRST_ABOVE else ()
    pinned_shown = [(labels or {}).get(c, c) for c in pinned]
    if labels:
        shown = shown.rename(columns=labels)
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config=pinned_config(shown.columns, pinned_shown),
    )


SURVEY_SCORES = tuple(x / 2 for x in range(21))  # 0, 0.5, ..., 10: a survey's score scale


def score_input(label: str, container=st, key: str | None = None) -> float | None:
    """A survey score (0–10 in half points) picked from a list shown as 9,5 / 9.5.

    Not st.number_input: its display is a printf format, which has no decimal comma.
    """
    lang = get_lang()
    return container.selectbox(
        label,
        SURVEY_SCORES,
        index=None,
        format_func=lambda x: fmt_decimal(x, lang, max_decimals=1),
        placeholder="–",
        key=key,
    )


def amount_format(value) -> str:
    """st.number_input's `format=` for a euro amount: "%.0f" for whole euros, else "%.2f".

    Its display is a printf format: no thousands separator and no decimal comma exist there,
    so whole euros (71100) are shown without the English ".00"; cents keep "%.2f" (71100.50)
    rather than being hidden.
    """
    try:
        whole = value is None or float(value) == round(float(value))
    except (TypeError, ValueError):
        whole = True
    return "%.0f" if whole else "%.2f"


def plotly_config(filename: str, width: int = 1920, height: int = 1080) -> dict:
    """Config for st.plotly_chart: the camera button saves a slide-sized PNG named `filename`."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {
            "format": "png",
            "filename": filename,
            "width": width,
            "height": height,
            "scale": 2,
        },
    }


def filter_bar(
    prefix: str,
    opts: dict,
    *,
    kams: bool = True,
    services: bool = True,
    no_tier: bool = False,
) -> dict:
    """Year, tier, KAM and service pickers in one row; returns the chosen filters.

    `opts` is metrics.services.filter_options(); an empty choice means "all" (None). With
    `no_tier` the tier picker offers accounts without a tier as well.
    """
    from kam_analytics.glossary import tier_label
    from kam_analytics.i18n import select_service_names
    from kam_analytics.schema import TIERS
    from ui.session import get_con, tr

    lang = get_lang()
    widths = [1, 2] + ([2] if kams else []) + ([3] if services else [])
    cols = st.columns(widths if len(widths) > 2 else [1, 2, 3])
    year = cols[0].selectbox(
        tr("year"),
        [None, *opts["years"]],
        index=1 if opts["years"] else 0,
        format_func=lambda y: tr("all") if y is None else str(y),
        key=f"{prefix}_year",
    )
    tier_choices = [*TIERS, ""] if no_tier else list(TIERS)
    chosen = {"year": year, "tiers": None, "kam_ids": None, "services": None}
    chosen["tiers"] = (
        cols[1].multiselect(
            tr("tier"),
            tier_choices,
            format_func=lambda x: tier_label(x, lang),
            key=f"{prefix}_tiers",
            placeholder=tr("all"),
        )
        or None
    )
    if kams:
        kam_names = dict(opts["kams"])
        chosen["kam_ids"] = (
            cols[2].multiselect(
                tr("kam"),
                list(kam_names),
                format_func=lambda k: kam_names.get(k, k),
                key=f"{prefix}_kams",
                placeholder=tr("all"),
            )
            or None
        )
    if services:
        names = select_service_names(get_con(), lang)
        chosen["services"] = (
            cols[-1].multiselect(
                tr("service"),
                opts["services"],
                format_func=lambda c: names.get(c, c),
                key=f"{prefix}_services",
                placeholder=tr("all"),
            )
            or None
        )
    return chosen


def account_picker(accounts: pd.DataFrame, *, key: str, label: str, first: bool = False):
    """A search box and a select box of the matching accounts (at most PICKER_ROWS, best first).

    `accounts` has account_id and account_name in the page's order of importance. Returns the
    chosen account id, or None (`first`: the first match until one is chosen). The select box
    keeps `key`; the search box is `<key>_search`.
    """
    from kam_analytics.page_data.account_search import PICKER_ROWS, match_accounts
    from ui.session import tr

    lang = get_lang()
    search, pick = st.columns(2)
    text = search.text_input(
        tr("pick_search"), key=f"{key}_search", placeholder=tr("pick_search_placeholder")
    )
    matching = match_accounts(accounts, text, limit=None)
    offered = matching.head(PICKER_ROWS)
    chosen = st.session_state.get(key)
    if chosen is not None and chosen not in set(offered["account_id"]):
        # a pick stays while the search changes
        offered = pd.concat([accounts[accounts["account_id"] == chosen].head(1), offered])
    names = {
        r.account_id: _account_label(r.account_id, r.account_name) for r in offered.itertuples()
    }
    shown = tr(
        "pick_shown",
        n=fmt_number(min(PICKER_ROWS, len(matching)), lang),
        total=fmt_number(len(matching), lang),
    )
    return pick.selectbox(
        label,
        list(names),
        format_func=names.get,
        index=0 if first and names else None,
        placeholder=tr("svc_pick_account") if names else tr("pick_none"),
        key=key,
        help=shown if len(matching) > PICKER_ROWS else None,
    )


def _account_label(account_id: str, name) -> str:
    return f"{account_id} – {name}"


def account_title(accounts: pd.DataFrame, account_id: str) -> str:
    """ "<number> – <name>" of `account_id` in `accounts` (the number alone if it is not there)."""
    row = accounts[accounts["account_id"] == account_id].head(1)
    return _account_label(account_id, row["account_name"].iloc[0]) if len(row) else str(account_id)
