"""Download buttons for pages: tables as XLSX + CSV, charts as PNG + SVG, decks as PPTX.

Files are built only when the user clicks (Streamlit's deferred download data), so a page with
many charts renders as fast as without downloads. Chart images come from kaleido + chromium on
the server; where chromium is missing the page says so in one plain sentence and the chart's
own camera button (which needs nothing on the server) still saves a slide-sized PNG.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from kam_analytics.errors import KamError
from kam_analytics.exports import charts
from kam_analytics.exports.chart_text import plain_figure
from kam_analytics.exports.tables import frame_to_csv_de, frame_to_xlsx
from kam_analytics.exports.theme import Theme, apply_theme, fit_title, load_theme
from kam_analytics.glossary import name_codes
from ui.errors import show_error
from ui.layout import SCREEN_CHART_WIDTH
from ui.session import get_con, get_lang, get_scope, tr
from ui.text import plain
from ui.widgets import is_month_column, plotly_config

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def safe_name(name: str) -> str:
    """A file name stem without characters browsers or Windows refuse."""
    stem = re.sub(r"[^\w\-. ]+", "_", str(name), flags=re.UNICODE).strip(" ._")
    return stem.replace(" ", "_")[:80] or "export"


def session_theme() -> Theme:
    """The company theme from settings, read once per session."""
    if "_export_theme" not in st.session_state:
        try:
            st.session_state["_export_theme"] = load_theme(get_con())
        except Exception:  # noqa: BLE001 - a broken setting falls back to the default look
            st.session_state["_export_theme"] = Theme()
    return st.session_state["_export_theme"]


@st.cache_resource(show_spinner=False)
def chromium_ready() -> bool:
    """True when chromium is installed (checked once per app process)."""
    return charts.chromium_available()


def table_files(
    df: pd.DataFrame | Callable[[], pd.DataFrame],
    name: str,
    *,
    money_cols=(),
    pct_cols=(),
    int_cols=(),
    title: str | None = None,
    labels: dict[str, str] | None = None,
    lang: str = "de",
) -> tuple[Callable[[], bytes], Callable[[], bytes]]:
    """The builders of the XLSX and the CSV bytes `download_table` hands out (built on click).

    As on screen (ui.widgets.format_frame), code columns get the glossary's names and month
    columns (month, *_month) are months; numbers and dates stay numbers and dates. `df` may be
    a function that returns the table (see `download_table`).
    """
    rename = labels or {}
    money = [rename.get(c, c) for c in money_cols]
    pct = [rename.get(c, c) for c in pct_cols]
    ints = [rename.get(c, c) for c in int_cols]

    def frame() -> tuple[pd.DataFrame, list[str]]:
        table = df() if callable(df) else df
        months = [rename.get(c, c) for c in table.columns if is_month_column(c)]
        named = name_codes(table, lang)
        return (named.rename(columns=labels) if labels else named), months

    def xlsx() -> bytes:
        shown, months = frame()
        return frame_to_xlsx(
            shown,
            sheet_name=title or name,
            money_cols=money,
            pct_cols=pct,
            title=title,
            int_cols=ints,
            month_cols=months,
            lang=lang,
        )

    def csv() -> bytes:
        shown, months = frame()
        return frame_to_csv_de(shown, money_cols=money, month_cols=months, lang=lang)

    return xlsx, csv


def download_table(
    df: pd.DataFrame | Callable[[], pd.DataFrame],
    name: str,
    *,
    money_cols=(),
    pct_cols=(),
    int_cols=(),
    title: str | None = None,
    labels: dict[str, str] | None = None,
    key: str | None = None,
) -> None:
    """XLSX and CSV download buttons for `df` (column headers translated through `labels`).

    `df` may be a function that returns the table: it runs only when a button is clicked
    (on the server's download thread: it must open its own cursor), so a page can offer
    every row without holding or formatting them on each run.
    """
    xlsx, csv = table_files(
        df,
        name,
        money_cols=money_cols,
        pct_cols=pct_cols,
        int_cols=int_cols,
        title=title,
        labels=labels,
        lang=get_lang(),
    )
    stem = safe_name(name)
    key = key or f"dl_{stem}"
    # buttons side by side, each as wide as its label (fixed columns cut labels off)
    left = right = st.container(horizontal=True)
    with left:
        st.download_button(
            tr("dl_xlsx"),
            data=xlsx,
            file_name=f"{stem}.xlsx",
            mime=XLSX_MIME,
            key=f"{key}_xlsx",
            on_click="ignore",
            icon=":material/table_view:",
        )
    with right:
        st.download_button(
            tr("dl_csv"),
            data=csv,
            file_name=f"{stem}.csv",
            mime="text/csv",
            key=f"{key}_csv",
            on_click="ignore",
            icon=":material/download:",
        )


@lru_cache(maxsize=32)
def _image_bytes(fig_json: str, fmt: str, width: int, height: int) -> bytes:
    fig = pio.from_json(fig_json)
    if fmt == "svg":
        return charts.figure_to_svg(fig, width=width, height=height)
    return charts.figure_to_png(fig, width=width, height=height, scale=2)


def _lazy_image(fig_json: str, fmt: str, width: int, height: int):
    def build() -> bytes:
        return _image_bytes(fig_json, fmt, width, height)

    return build


def show_chart(
    fig: go.Figure,
    name: str,
    *,
    title: str | None = None,
    period: str | None = None,
    source: str | None = None,
    kind: str = "slide",
    key: str | None = None,
) -> None:
    """Show `fig` in the company theme with slide-sized camera button, PNG and SVG downloads.

    With `title`/`period` the theme writes title, period and data source into the image.
    `kind` is "slide" (1920×1080) or "a4" (A4 landscape, the entitlement matrix).
    """
    lang = get_lang()
    plain_figure(fig)  # names from data in categories, legends and hovers stay text
    if title is not None or period is not None:
        apply_theme(
            fig, title=title, period=period, source=source, lang=lang, theme=session_theme()
        )
    if fig.layout.height is None:
        # Taller than Streamlit's default so slide-sized fonts leave room for the plot; the
        # image downloads set their own size and ignore this.
        fig.update_layout(height=560)
    width, height = charts.image_size(kind)
    stem = safe_name(name)
    key = key or f"chart_{stem}"
    fig_json = fig.to_json()  # the downloads keep the slide-sized title
    # on screen the title must fit the chart at 1280 px (plotly never wraps a title)
    fit_title(fig, SCREEN_CHART_WIDTH)
    # theme=None: show the company theme itself, so the camera button's PNG matches the page
    st.plotly_chart(
        fig, config=plotly_config(stem, width, height), width="stretch", key=key, theme=None
    )
    if not chromium_ready():
        st.info(tr("dl_chromium_missing"), icon=":material/info:")
        return
    # buttons side by side, each as wide as its label (fixed columns cut labels off)
    left = right = st.container(horizontal=True)
    with left:
        st.download_button(
            tr("dl_png"),
            data=_lazy_image(fig_json, "png", width, height),
            file_name=f"{stem}.png",
            mime="image/png",
            key=f"{key}_png",
            on_click="ignore",
            icon=":material/image:",
        )
    with right:
        st.download_button(
            tr("dl_svg"),
            data=_lazy_image(fig_json, "svg", width, height),
            file_name=f"{stem}.svg",
            mime="image/svg+xml",
            key=f"{key}_svg",
            on_click="ignore",
            icon=":material/draw:",
        )


def deck_download(
    account_id: str, year: int, *, as_of: dt.date | None = None, key: str | None = None
) -> None:
    """A button that builds and downloads the account's value deck (PPTX) on click."""
    from kam_analytics.exports.deck import build_account_deck, deck_filename

    # Decks hold native PowerPoint charts: they need no chromium.
    lang, scope, base = get_lang(), get_scope(), get_con()

    def build() -> bytes:
        cur = base.cursor()  # the deck is built on another thread: its own cursor
        try:
            return build_account_deck(
                cur, account_id, int(year), scope=scope, lang=lang, as_of=as_of
            )
        finally:
            cur.close()

    def build_internal() -> bytes:
        cur = base.cursor()
        try:
            return build_account_deck(
                cur, account_id, int(year), scope=scope, lang=lang, as_of=as_of, internal=True
            )
        finally:
            cur.close()

    key = key or f"deck_{account_id}_{year}"
    st.download_button(
        tr("dl_deck_button"),
        data=build,
        file_name=deck_filename(account_id, year, lang),
        mime=PPTX_MIME,
        key=key,
        on_click="ignore",
        icon=":material/slideshow:",
        type="primary",
    )
    with st.popover(tr("dl_deck_preview"), icon=":material/view_carousel:"):
        st.caption(tr("dl_deck_preview_note"))
        titles = _deck_titles(base, account_id, int(year), lang, scope, as_of)
        st.markdown("\n".join(f"{i}. {plain(x)}" for i, x in enumerate(titles, 1)))
        st.download_button(
            tr("dl_deck_internal_button"),
            data=build_internal,
            file_name=deck_filename(account_id, year, lang, internal=True),
            mime=PPTX_MIME,
            key=f"{key}_internal",
            on_click="ignore",
            icon=":material/lock:",
        )
        st.caption(tr("dl_deck_internal_note"))


@st.cache_data(ttl=600, show_spinner=False)
def _deck_titles(_base, account_id: str, year: int, lang: str, scope, as_of) -> list[str]:
    """The customer deck's slide titles, per user scope (the cache key holds the scope)."""
    from kam_analytics.exports.deck import deck_slide_titles

    cur = _base.cursor()
    try:
        return deck_slide_titles(cur, account_id, year, scope=scope, lang=lang, as_of=as_of)
    finally:
        cur.close()


def report_download(
    kind: str, *, year: int | None = None, as_of: dt.date | None = None, key: str | None = None
) -> None:
    """The page's report as XLSX: the very workbook `report KIND --format xlsx` writes."""
    from kam_analytics.exports.report_book import report_xlsx

    scope, lang, base = get_scope(), get_lang(), get_con()
    stem_all = "alle_jahre"

    def build() -> bytes:
        # Runs on the server's download thread: a cursor of its own (a cursor is not shared).
        cur = base.cursor()
        try:
            return report_xlsx(cur, kind, year=year, as_of=as_of, scope=scope, lang=lang)
        finally:
            cur.close()

    st.download_button(
        tr("dl_report_xlsx"),
        data=build,
        file_name=f"{safe_name(f'bericht_{kind}_{year or stem_all}')}.xlsx",
        mime=XLSX_MIME,
        key=key or f"report_{kind}",
        on_click="ignore",
        icon=":material/summarize:",
    )


def review_pack_download(
    year: int, *, as_of: dt.date | None = None, key: str | None = None
) -> None:
    """A button that builds and downloads the management review pack (PPTX) on click."""
    from kam_analytics.exports.review_pack import build_review_pack, review_filename

    scope = get_scope()
    if not scope.sees_all:
        return
    lang, base = get_lang(), get_con()

    def build() -> bytes:
        cur = base.cursor()
        try:
            return build_review_pack(cur, int(year), scope=scope, lang=lang, as_of=as_of)
        finally:
            cur.close()

    st.download_button(
        tr("dl_review_ready"),
        data=build,
        file_name=review_filename(year, lang),
        mime=PPTX_MIME,
        key=key or f"review_{year}",
        on_click="ignore",
        icon=":material/slideshow:",
    )


def show_export_error(exc: KamError) -> None:
    """A failed export as a plain message with its hint."""
    show_error(exc, prefix=tr("dl_export_failed"))
