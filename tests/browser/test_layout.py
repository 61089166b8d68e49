"""Issue 14: every page is readable on a 1280×720 projector and a 1920×1080 screen.

Each page is opened once per language and role, then measured at both sizes (the viewport is
resized, the page not reloaded). A page fails when
- a KPI card's value, label or delta is cut (an element wider than its box, e.g. "7,22 …"),
- a button's label is cut ("Innendienst (P…"),
- the page itself scrolls sideways (tables scroll inside themselves; the page must not),
- a chart's legend overlaps its title, subtitle, plot area or axis title, or a chart's title,
  subtitle or legend runs past the chart's edge,
- anything the page shows (tests/browser/raw_text.py) holds a raw value of the denylist in
  tests/raw_values.py (codes, None/nan, ISO dates, decimal points and Streamlit's English in
  German); the import page's drop zone shows the locale's texts, also while a file is dragged
  over it, and on the bonus page a multiselect's list ("Select all") and a selectbox's list that
  matches nothing ("No results") do too.
Management sees every page it may open, the administrator the pages only admins may open (both
in German and in English), and a KAM every page of a KAM (in German and in English). Each role signs in once; the
language is switched in the same session, and each page is measured first at the size the window
has, then at the other (no fixed waits: animation frames and the charts' redraw are waited for). With LAYOUT_SHOTS=1 every page is also saved as a PNG
under tests/out/layout/ (on a failure it always is).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from streamlit import config as streamlit_config

from kam_analytics.i18n import t
from tests.browser.conftest import ROOT, WAIT_MS, settle, sign_in
from tests.browser.raw_text import raw_findings, visible_texts
from ui.navigation import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = ((1280, 720), (1920, 1080))
CREDENTIALS = {
    "management": ("leitung", "leitung-demo"),
    "admin": ("admin", "admin-demo"),
    "kam": ("kam01", "kam01-demo"),
}
OUT = ROOT / "tests" / "out" / "layout"
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


def _visits() -> list[tuple[str, str, str]]:
    """(language, role, page path): management's pages, the admin-only ones, a KAM's; each in
    German and English.

    Ordered by role, then language: one sign-in per role, the language switched in between.
    """
    out = []
    for role, pages in (
        ("management", [e for e in PAGES if "management" in e.roles]),
        ("admin", [e for e in PAGES if "management" not in e.roles]),
    ):
        out += [(lang, role, e.path) for lang in ("de", "en") for e in pages]
    kam_pages = [e for e in PAGES if "kam" in e.roles]
    out += [(lang, "kam", e.path) for lang in ("de", "en") for e in kam_pages]
    return out


# Everything measured in one pass of the page's DOM; each finding is one readable line.
MEASURE_JS = r"""
() => {
  const found = [];
  const txt = (el) => (el.innerText || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60);
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth + 1)
    found.push(`page scrolls sideways: ${page.scrollWidth} > ${page.clientWidth}`);
  const main = document.querySelector('[data-testid="stMain"]');
  if (main && main.scrollWidth > main.clientWidth + 1)
    found.push(`main area scrolls sideways: ${main.scrollWidth} > ${main.clientWidth}`);

  for (const card of document.querySelectorAll('[data-testid="stMetric"]')) {
    for (const el of [card, ...card.querySelectorAll('*')]) {
      if (el.closest('[data-testid="stTooltipIcon"], [data-testid="stTooltipHoverTarget"] svg'))
        continue;
      const s = getComputedStyle(el);
      const wide = el.scrollWidth > el.clientWidth + 1 && s.overflowX !== 'visible';
      const tall = el.scrollHeight > el.clientHeight + 2
        && (s.overflowY === 'hidden' || s.overflowY === 'clip');
      if (wide || tall)
        found.push(`KPI text cut (${el.scrollWidth}×${el.scrollHeight} in ${el.clientWidth}×${el.clientHeight}): "${txt(el)}" of card "${txt(card)}"`);
    }
  }

  for (const button of document.querySelectorAll('[data-testid="stMain"] button')) {
    for (const el of button.querySelectorAll('[data-testid="stMarkdownContainer"], p'))
      if (el.scrollWidth > el.clientWidth + 1) {
        found.push(`button label cut (${el.scrollWidth} in ${el.clientWidth}): "${txt(button)}"`);
        break;
      }
  }

  const box = (el) => el && el.getBoundingClientRect();
  const meets = (a, b) => a && b && a.width > 0 && b.width > 0
    && a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  document.querySelectorAll('.js-plotly-plot').forEach((plot, i) => {
    const name = txt(plot.querySelector('.gtitle') || plot) || `chart ${i + 1}`;
    const svg = box(plot.querySelector('.main-svg'));
    const legend = box(plot.querySelector('.legend .bg') || plot.querySelector('.legend'));
    const parts = {
      title: box(plot.querySelector('.gtitle')),
      subtitle: box(plot.querySelector('.gtitle-subtitle')),
      'x-axis title': box(plot.querySelector('.g-xtitle text')),
    };
    plot.querySelectorAll('.draglayer .nsewdrag').forEach((r) => { parts['plot area'] = box(r); });
    for (const [what, b] of Object.entries(parts))
      if (meets(legend, b)) found.push(`legend overlaps the ${what} of chart "${name}"`);
    for (const [what, b] of Object.entries({legend, title: parts.title, subtitle: parts.subtitle}))
      if (b && b.width > 0 && svg && (b.left < svg.left - 1 || b.right > svg.right + 1))
        found.push(`${what} runs past the edge of chart "${name}" (${Math.round(b.left)}–${Math.round(b.right)} of ${Math.round(svg.left)}–${Math.round(svg.right)})`);
  });
  return found;
}
"""

# Plotly redraws on a window resize after a short debounce: wait until every chart is drawn
# and as wide as its box (after two animation frames, so Streamlit has laid out the new width).
NEXT_FRAMES_JS = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
CHARTS_DRAWN_JS = r"""
() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every((c) => {
  const svg = c.querySelector('.main-svg');
  return svg && Math.abs(svg.getBoundingClientRect().width - c.getBoundingClientRect().width) < 3;
})
"""


class Sessions:
    """One signed-in browser context per role, the last one kept open; its language switched."""

    def __init__(self, browser, url: str):
        self.browser, self.url = browser, url
        self.key = None
        self.context = self.page = None

    def get(self, lang: str, role: str):
        """The page of a context signed in as `role` with the interface in `lang`."""
        if self.key == (lang, role):
            return self.page
        if self.key is None or self.key[1] != role:
            self.close()
            self.context = self.browser.new_context(viewport={"width": 1280, "height": 720})
            self.page = self.context.new_page()
            self.page.set_default_timeout(WAIT_MS)
            sign_in(self.page, self.url, *CREDENTIALS[role])
            self.key = ("de", role)  # German is the default
        if self.key[0] != lang:
            _choose_language(self.page, LANGUAGE_NAMES[lang])
        self.key = (lang, role)
        return self.page

    def close(self) -> None:
        """Close the open context (if any)."""
        if self.context is not None:
            self.context.close()
        self.context = self.page = self.key = None


@pytest.fixture(scope="module")
def data_texts(app_server) -> dict[str, tuple[str, ...]]:
    """Per language: texts from the data, not the product (user names, the database path and,
    on German pages, the catalogue's English service names the admin's editor shows)."""
    with app_server.peek() as con:
        names = [r[0] for r in con.execute("SELECT username FROM users").fetchall()]
        english = [
            r[0] for r in con.execute("SELECT name_en FROM service_catalogue").fetchall() if r[0]
        ]
    common = (*names, "demo", str(app_server.db_path))
    return {"de": (*common, *english), "en": common}


@pytest.fixture(scope="module")
def sessions(app_server, browser):
    """Signed-in pages, reused by the visits of one language and role.

    The session's one chromium (conftest `browser`): a second sync Playwright beside it
    would fail ("Sync API inside the asyncio loop").
    """
    s = Sessions(browser, app_server.url)
    yield s
    s.close()


def _choose_language(pg, name: str) -> None:
    """Switch the interface language in the sidebar."""
    sidebar = pg.get_by_test_id("stSidebar")
    box = sidebar.get_by_test_id("stSelectbox").filter(
        has=pg.get_by_text(re.compile(f"^({t('sidebar_language')}|{t('sidebar_language', 'en')})$"))
    )
    # After sign-in the app reruns once (the sign-in cookie is written, the wanted page
    # opened): a dropdown opened during that rerun closes again, so wait and retry.
    settle(pg)
    option = pg.get_by_role("option", name=name, exact=True)
    for _ in range(3):
        box.first.click()
        try:
            option.wait_for(timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - the dropdown closed in a rerun; open it again
            settle(pg)
    option.click()
    settle(pg)


def _open(pg, path: str, lang: str) -> None:
    """Open the page `path` from the sidebar and wait until it and its charts are drawn."""
    entry = next(e for e in PAGES if e.path == path)
    label = t(entry.label, lang)
    slug = Path(path).stem
    link = pg.get_by_test_id("stSidebarNav").get_by_role(
        "link", name=re.compile(rf"^\W*{re.escape(label)}\W*$")
    )
    target = re.compile(rf"/({slug})?$" if path == PAGES[0].path else rf"/{slug}$")
    for attempt in range(3):
        if attempt:  # the visit before left the page settled; a retry waits for its rerun
            settle(pg)
        elif target.search(pg.url):
            break  # already there (the page a sign-in lands on)
        link.first.click()
        try:
            # the default page (overview) lives at "/", every other at "/<file stem>"
            pg.wait_for_url(target)
            break
        except Exception:
            if attempt == 2:
                raise
    settle(pg)
    pg.wait_for_function(CHARTS_DRAWN_JS, timeout=WAIT_MS)


# A small accounts file as a KAM team exports it (semicolons, German decimals, one empty cell).
UPLOAD_CSV = (
    "Kundennummer;Name;Stufe;KAM;Status\n"
    "K90001;Testkunde Nord GmbH;A;KAM01;aktiv\n"
    "K90002;Testkunde Süd AG;B;;aktiv\n"
).encode()

DRAG_FILE_JS = r"""
(zone) => {
  const data = new DataTransfer();
  data.items.add(new File(['x'], 'accounts.csv', {type: 'text/csv'}));
  zone.dispatchEvent(new DragEvent('dragenter', {dataTransfer: data, bubbles: true}));
}
"""


# Whether an element inside `selector` shows `text` (as its own text or as ::after content).
SAYS_JS = r"""
([selector, text]) => [...document.querySelectorAll(`${selector} *`)].some((el) =>
  el.textContent.trim() === text || getComputedStyle(el, '::after').content === JSON.stringify(text))
"""


def _says(pg, selector: str, text: str, timeout: int = 10_000) -> bool:
    """Whether `selector` shows `text` within `timeout` ms."""
    try:
        pg.wait_for_function(SAYS_JS, arg=[selector, text], timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - reported by the caller
        return False


def _uploader_problems(pg, lang: str, allowed: tuple[str, ...]) -> list[str]:
    """The drop zone in the locale's words, at rest, while a file is dragged over it and with a
    file handed in."""
    mb = streamlit_config.get_option("server.maxUploadSize")
    uploader = '[data-testid="stFileUploader"]'
    problems = [
        f"drop zone does not say {t(key, lang, mb=mb)!r}"
        for key in ("upload_choose", "upload_hint")
        if not _says(pg, uploader, t(key, lang, mb=mb))
    ]
    problems += [
        f"drop zone: {x}" for x in raw_findings(visible_texts(pg, uploader), lang, allowed)
    ]
    zone = pg.get_by_test_id("stFileUploaderDropzone")
    zone.evaluate(DRAG_FILE_JS)
    drop = t("upload_drop", lang)
    if not _says(pg, uploader, drop, timeout=5_000):
        problems.append(f"while dragging, the drop zone does not say {drop!r}")
    dragged = visible_texts(pg, uploader)
    zone.dispatch_event("dragleave")
    problems += [f"while dragging: {x}" for x in raw_findings(dragged, lang, allowed)]
    # a file handed in: its chip in the drop zone (name, size), then removed
    pg.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "kunden.csv", "mimeType": "text/csv", "buffer": UPLOAD_CSV}]
    )
    pg.get_by_test_id("stFileChip").wait_for()
    settle(pg)
    chip = visible_texts(pg, uploader)
    problems += [f"with a file: {x}" for x in raw_findings(chip, lang, allowed)]
    pg.get_by_test_id("stFileChipDeleteBtn").locator("button").click()
    pg.get_by_test_id("stFileChip").wait_for(state="detached")
    settle(pg)
    return problems


def _while_open(pg, box, says: str, typed: str | None = None):
    """What the page shows while the widget's list is open and shows `says` (`typed` in its
    field); None if it never does."""
    field = box.locator("input")
    for attempt in range(3):
        if not pg.get_by_role("listbox").count():
            # a click just after another list closed may only focus the field: then the arrow
            (box.locator('button[aria-haspopup="listbox"]') if attempt else field).click()
        if typed is not None:
            field.fill(typed)
        if _says(pg, '[role="listbox"]', says, timeout=5_000):
            return visible_texts(pg)
        # the list closed or is not drawn yet: again
    return None


def _close_lists(pg) -> None:
    """Close an open dropdown without choosing anything."""
    for _ in range(3):
        if not pg.get_by_role("listbox").count():
            return
        pg.keyboard.press("Escape")
        try:
            pg.get_by_role("listbox").first.wait_for(state="detached", timeout=3_000)
        except Exception:  # noqa: BLE001 - the first Escape may only clear the typed text
            pass


def _dropdown_problems(pg, lang: str, allowed: tuple[str, ...]) -> list[str]:
    """A multiselect's open list ("Select all") and a selectbox's list that matches nothing
    ("No results", the emptied field's placeholder) in the locale's words; nothing is chosen."""
    main = pg.get_by_test_id("stMain")
    multi = main.get_by_test_id("stMultiSelect").first
    single = main.get_by_test_id("stSelectbox").first
    before = single.locator("input").input_value()
    seen = {t("select_all", lang): _while_open(pg, multi, t("select_all", lang))}
    _close_lists(pg)
    # the emptied field lists every option, the chosen one too
    seen["empty field"] = _while_open(pg, single, before, typed="")
    seen[t("no_results", lang)] = _while_open(pg, single, t("no_results", lang), typed="zzqx")
    _close_lists(pg)
    problems = []
    if single.locator("input").input_value() != before:  # Escape restores the chosen value
        problems.append(f"the selectbox kept the typed text instead of {before!r}")
    for what, texts in seen.items():
        if texts is None:
            problems.append(f"dropdown does not say {what!r}")
        else:
            problems += [f"dropdown ({what}): {x}" for x in raw_findings(texts, lang, allowed)]
    return problems


def _shoot(pg, name: str) -> Path:
    """A PNG of the whole main area (the viewport grown to its height, then restored)."""
    OUT.mkdir(parents=True, exist_ok=True)
    size = pg.viewport_size
    height = pg.evaluate(
        "() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0"
    )
    path = OUT / f"{name}.png"
    if height > size["height"]:
        _resize(pg, size["width"], min(height, 12_000))
    pg.screenshot(path=str(path))
    _resize(pg, size["width"], size["height"])
    return path


# Streamlit sizes some elements (tables, columns) to the width it observed: after a resize
# the main area may hold the old, wider content for a moment.
FITS_JS = r"""
() => [document.scrollingElement, document.querySelector('[data-testid="stMain"]')]
  .every((el) => !el || el.scrollWidth <= el.clientWidth + 1)
"""


def _resize(pg, width: int, height: int) -> None:
    """Resize the window and wait until the page and its charts are drawn at the new size."""
    if pg.viewport_size != {"width": width, "height": height}:
        pg.set_viewport_size({"width": width, "height": height})
        pg.evaluate(NEXT_FRAMES_JS)
        try:
            pg.wait_for_function(FITS_JS, timeout=3_000)
        except Exception:  # noqa: BLE001 - it really scrolls sideways: MEASURE_JS reports it
            pass
    pg.wait_for_function(CHARTS_DRAWN_JS, timeout=WAIT_MS)


@pytest.mark.parametrize(
    ("lang", "role", "path"),
    _visits(),
    ids=[f"{lang}-{role}-{Path(p).stem}" for lang, role, p in _visits()],
)
def test_page_is_readable_at_both_sizes(sessions, data_texts, lang, role, path):
    pg = sessions.get(lang, role)
    _open(pg, path, lang)
    problems = []
    texts = set()
    # the size the window has first (what the visit before left), then the other one
    sizes = sorted(
        SIZES, key=lambda size: size != (pg.viewport_size["width"], pg.viewport_size["height"])
    )
    for width, height in sizes:
        _resize(pg, width, height)
        found = pg.evaluate(MEASURE_JS)
        texts |= set(visible_texts(pg))  # a wider window draws more of a table's columns
        name = f"{Path(path).stem}_{role}_{lang}_{width}x{height}"
        if found or os.environ.get("LAYOUT_SHOTS"):
            shot = _shoot(pg, name)
            if found:
                problems += [f"{width}×{height}: {x}" for x in found] + [f"  see {shot}"]
    problems += [f"raw value: {x}" for x in raw_findings(texts, lang, data_texts[lang])]
    if path == "pages/data_import.py":
        problems += _uploader_problems(pg, lang, data_texts[lang])
    if path == "pages/bonus.py":  # its what-if multiselects start empty, its year a selectbox
        problems += _dropdown_problems(pg, lang, data_texts[lang])
    assert not problems, "\n".join(problems)


def test_an_unknown_address_is_answered_in_german(sessions, data_texts):
    """A mistyped or old bookmark: the app's own message, not Streamlit's English dialog."""
    pg = sessions.get("de", "kam")
    pg.goto(f"{sessions.url}/gibt-es-nicht")
    pg.get_by_test_id("stAlertContentError").or_(pg.get_by_role("dialog")).first.wait_for()
    settle(pg)
    texts = visible_texts(pg)
    shown = " ".join(text for _, text, _ in texts)
    assert t("err_page_not_found", path="gibt-es-nicht") in shown
    assert t("err_page_not_found_hint") in shown
    assert pg.get_by_role("dialog").count() == 0
    assert raw_findings(texts, "de", data_texts["de"]) == []
