"""Small shared widgets: formatted money tables, filters, chart display with download config."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kam_analytics.i18n import fmt_eur, fmt_number, fmt_pct
from ui.session import get_lang


def format_frame(
    df: pd.DataFrame,
    money: tuple[str, ...] = (),
    pct: tuple[str, ...] = (),
    ints: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Copy of df with money, percent and count columns as German/English formatted text."""
    lang = get_lang()
    out = df.copy()
    for col in money:
        if col in out:
            out[col] = [fmt_eur(v, lang) for v in out[col]]
    for col in pct:
        if col in out:
            out[col] = [fmt_pct(v, lang) for v in out[col]]
    for col in ints:
        if col in out:
            out[col] = [fmt_number(v, lang) for v in out[col]]
    return out


def show_table(df: pd.DataFrame, labels: dict[str, str] | None = None, **fmt) -> None:
    """A read-only table with formatted numbers and translated column headers."""
    shown = format_frame(df, **fmt)
    if labels:
        shown = shown.rename(columns=labels)
    st.dataframe(shown, hide_index=True, width="stretch")


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
