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
