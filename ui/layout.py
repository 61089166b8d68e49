"""Page layout shared by every page: readable on a 1280×720 projector as on a 1920×1080 screen.

One style sheet, added once per run by app.py, so no page has to size its KPI cards:
- KPI cards (st.metric) never cut their value, label or delta: labels and deltas wrap onto a
  second line, a card is never narrower than its value, and a row of cards that does not fit
  wraps onto a further row (st.columns rows already wrap; a column simply may not shrink below
  its card).
- Below 1600 px the page keeps less empty margin and KPI values are a little smaller, so five
  cards still fit in one row at 1280 px.
- Streamlit's own widget texts speak the user's language: Streamlit has no parameter for the
  file uploader's drop zone ("Upload", "200MB per file • XLSX, …", "Drag and drop files here"
  while a file is dragged over it), a multiselect's "Select all" and the "No results" of an
  empty list, so the style sheet hides them and shows the locale's texts (`upload_*`,
  `select_all`, `no_results` in locales/core.toml) as `::after` content. The accepted file
  types are in the import page's intro. What stays English: DEVELOPING.md.
Charts get their layout from kam_analytics.exports.theme; SCREEN_CHART_WIDTH is the width the
on-screen chart titles are fitted to (the main area at 1280 px with the sidebar open).
"""

from __future__ import annotations

import json

import streamlit as st

from ui.session import get_lang, tr

# The narrowest a full-width chart gets on a 1280 px wide screen: 1280 - 300 (sidebar)
# - 2 × 48 (padding below 1600 px) = 884 px, less a little room for the title's indent.
SCREEN_CHART_WIDTH = 860

_METRIC = '[data-testid="stMetric"]'
_TEXTS = ('[data-testid="stMetricLabel"]', '[data-testid="stMetricDelta"]')

PAGE_CSS = f"""
<style>
@media (max-width: 1599px) {{
  [data-testid="stMainBlockContainer"] {{ padding-left: 3rem; padding-right: 3rem; }}
  [data-testid="stMetricValue"] {{ font-size: 1.75rem; }}
}}
{", ".join(f"{s} [data-testid='stMarkdownContainer'], {s} p" for s in _TEXTS)} {{
  white-space: normal; overflow: visible; text-overflow: clip;
}}
[data-testid="stMetricDelta"] {{ height: auto; }}
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] {{
  overflow: visible; text-overflow: clip;
}}
[data-testid="stElementContainer"]:has(> {_METRIC}),
[data-testid="stColumn"]:has(> [data-testid="stVerticalBlock"]
  > [data-testid="stElementContainer"] > {_METRIC}) {{
  min-width: min-content;
}}
</style>
"""


_DROP = '[data-testid="stFileUploaderDropzone"]'
_SMALL = "font-size: 0.875rem;"  # the theme's "sm", as Streamlit's own texts have it
# (element, the child holding Streamlit's text or None for the element's own text, locale key,
# style of the new text). A child is hidden (display: none) and the element gets the new text;
# an element's own text is shrunk to nothing (font-size 0) and followed by the new text.
# Streamlit 1.67's DOM: the drop zone's button with a Markdown label, its instructions (one
# span) and, while a file is dragged over it, an overlay <div> holding one <span>; the
# multiselect's bulk option (data-key "__select_all__") and the empty state of a multiselect's
# or selectbox's list (React Aria's data-empty).
_WIDGET_TEXTS = (
    (f"{_DROP} button [data-testid='stMarkdownContainer']", "> p", "upload_choose", ""),
    ("[data-testid='stFileUploaderDropzoneInstructions'] > div", "> span", "upload_hint", _SMALL),
    (
        f"{_DROP} > div:not([data-testid]):has(> span:only-child)",
        "> span",
        "upload_drop",
        _SMALL + " font-weight: 800; color: {primary};",
    ),
    ("[role='option'][data-key='__select_all__'] [data-item-hl]", None, "select_all", _SMALL),
    ("[role='listbox'][data-empty='true'] > [role='option'] > span", None, "no_results", _SMALL),
)
# Streamlit's placeholders of a selectbox and a multiselect without one of the page's own
# (shown when a user empties the field): an input's placeholder takes no CSS content, so on a
# German page it is only hidden.
_ENGLISH_PLACEHOLDERS = ("Choose an option", "Choose options")


def widget_texts_css() -> str:
    """The rules that put Streamlit's own widget texts into the session's language."""
    mb = st.get_option("server.maxUploadSize")
    primary = st.get_option("theme.primaryColor") or "inherit"
    rules = []
    for box, english, key, style in _WIDGET_TEXTS:
        text = json.dumps(tr(key, mb=mb), ensure_ascii=False)  # a CSS string: "…" escaped
        rules.append(
            f"{box} {english} {{ display: none; }}" if english else f"{box} {{ font-size: 0; }}"
        )
        rules.append(f"{box}::after {{ content: {text}; {style.format(primary=primary)} }}")
    if get_lang() == "de":
        # an uploaded file's size ("4.0KB"): Streamlit writes it with a decimal point
        rules.append("[data-testid='stFileChipName'] + div { display: none; }")
        rules += [
            f"input[placeholder='{p}']::placeholder {{ color: transparent; }}"
            for p in _ENGLISH_PLACEHOLDERS
        ]
    return "\n".join(rules)


def apply_page_css() -> None:
    """Add the shared layout style sheet to this run's page (takes no space on the page)."""
    st.html(PAGE_CSS.replace("</style>", widget_texts_css() + "\n</style>"))
