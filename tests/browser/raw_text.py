"""Issue 14 in the real browser: what a user sees on a page, and the raw values in it.

`visible_texts(pg)` reads, in one pass of the page's DOM, everything a user can read in the
header, the sidebar and the main area:
- every visible text node (titles, markdown, KPI cards, button labels, selectbox values,
  alerts, an open dropdown's options, a dialog), except Material icon names ("upload", "table_view" are
  ligatures drawn as icons), text shrunk to nothing (font-size 0, see ui/layout.py) and text
  for screen readers only (clipped to a 1 px box, e.g. "add icon"),
- the text of the charts' SVG (axis ticks and titles, legends, chart titles),
- the text the style sheet adds (`::before` / `::after` content: the German drop zone of the
  file uploader, ui/layout.py),
- the values of inputs (not of password fields) and the placeholders of empty ones (unless
  drawn transparent),
- the cells and headers of st.dataframe / st.data_editor. Their grid (glide-data-grid) draws on
  a canvas, but keeps an accessible `table[role="grid"]` in the DOM with the rows it has drawn;
  rows scrolled out of view are not there (tests/test_raw_walk.py checks every cell).
Texts only in a tooltip or an aria-label (e.g. the table toolbar's "Download as CSV") are not
read: they are not on screen until hovered.

`raw_findings(pg, lang, allowed)` applies the denylist of tests/raw_values.py (`find_raw`) to
them: raw codes, None/nan, ISO dates, decimal points in German, and, in German, Streamlit's own
English ("Upload", "200MB per file", "Choose an option", "No results", "Deploy", …).
"""

from __future__ import annotations

from kam_analytics.i18n import t
from tests.raw_values import POINT_DECIMAL_INPUTS, find_raw

VISIBLE_TEXT_JS = r"""
(within) => {
  const out = [];
  // the header, sidebar and main area, and an open dropdown or dialog (drawn outside them)
  const roots = within ? [...document.querySelectorAll(within)]
    : [...['stHeader', 'stSidebar', 'stMain']
      .map((id) => document.querySelector(`[data-testid="${id}"]`)).filter(Boolean),
      ...document.querySelectorAll('[role="listbox"], [role="dialog"]')];
  // drawn, not shrunk to nothing, and not a screen reader's text (clipped to a 1 px box)
  const drawn = (el) => el.checkVisibility({visibilityProperty: true, opacityProperty: true})
    && (el.getBoundingClientRect().width > 1 || el.getBoundingClientRect().height > 1);
  const seen = (el) => drawn(el) && getComputedStyle(el).fontSize !== '0px';
  const transparent = (color) => color === 'transparent' || /^rgba\(.*,\s*0\)$/.test(color);
  const grid = '[data-testid="stDataFrame"] table[role="grid"]';
  const skip = `[data-testid="stIconMaterial"], style, script, template, ${grid}`;
  const label = (el) => el.getAttribute('aria-label') || '';
  for (const root of roots) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      const text = n.data.trim();
      if (!text || !el || el.closest(skip) || !seen(el)) continue;
      out.push([el.closest('svg') ? 'chart' : 'text', text, '']);
    }
    for (const el of root.querySelectorAll('*')) {
      if (el.closest(skip)) continue;
      for (const pseudo of ['::before', '::after']) {
        const style = getComputedStyle(el, pseudo);
        const content = style.content;
        if (content && content.startsWith('"') && content.length > 2 && style.fontSize !== '0px'
          && drawn(el))
          out.push(['css content', content.slice(1, -1).replace(/\\"/g, '"'), '']);
      }
    }
    for (const el of root.querySelectorAll('input, textarea')) {
      // not password fields, nor the hidden <input type="date"> behind st.date_input
      if (['password', 'file', 'hidden', 'checkbox', 'radio', 'date'].includes(el.type)
        || el.closest('[aria-hidden="true"]') || !seen(el)) continue;
      const kind = el.type === 'number' ? 'number input' : 'input';
      if (el.value) out.push([`${kind} value`, el.value, label(el)]);
      // a placeholder shows only in an empty field (a selectbox's "Choose an option" is
      // behind its chosen value)
      else if (el.placeholder && !transparent(getComputedStyle(el, '::placeholder').color))
        out.push([`${kind} placeholder`, el.placeholder, label(el)]);
    }
  }
  for (const table of roots.flatMap((root) => [...root.querySelectorAll(grid)])) {
    const headers = [...table.querySelectorAll('thead [role="columnheader"]')]
      .map((th) => th.textContent.trim());
    headers.forEach((h) => { if (h) out.push(['table header', h, '']); });
    for (const row of table.querySelectorAll('tbody [role="row"]')) {
      row.querySelectorAll('[role="gridcell"]').forEach((cell, i) => {
        const col = +(cell.getAttribute('aria-colindex') || i + 1) - 1;
        const text = cell.textContent.trim();
        if (text) out.push(['table cell', text, headers[col] || '']);
      });
    }
  }
  return out;
}
"""


def visible_texts(pg, within: str | None = None) -> list[tuple[str, str, str]]:
    """(kind, text, its label or column header) of everything the page shows now (or only
    inside the elements the CSS selector `within` names)."""
    return [tuple(x) for x in pg.evaluate(VISIBLE_TEXT_JS, within)]


def raw_findings(texts, lang: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Every denylisted token in `texts` (from `visible_texts`) as one readable line each.

    Two exceptions, the same as the AppTest walk's: the catalogue's service code in its "Code"
    column is what import files carry, and the number inputs of POINT_DECIMAL_INPUTS show a
    decimal point because st.number_input has no decimal comma.
    """
    inputs = {t(key, lang) for key in POINT_DECIMAL_INPUTS}
    found = set()
    for kind, text, label in texts:
        hits = find_raw(text, lang, allowed)
        if kind == "table cell" and label == t("mx_code", lang):
            hits = [h for h in hits if not h.startswith(("code:", "snake_case:"))]
        if kind == "number input value" and label in inputs:
            hits = [h for h in hits if not h.startswith("point-decimal:")]
        found |= {f"[{kind}{f' {label}' if label else ''}] {hit} in {text[:80]!r}" for hit in hits}
    return sorted(found)
