"""KAM Analytics: navigation, language switch and shared sidebar. Pages hold the layout.

The pages, their sections and roles are declared once, in ui/navigation.py.
"""

import streamlit as st

from kam_analytics.i18n import LANGUAGES
from ui.auth import (
    go_to_wanted_page,
    not_found_page,
    refusal_page,
    remember_language,
    require_sign_in,
    restore_language,
    sidebar_account,
    unknown_url_path,
)
from ui.errors import guarded
from ui.layout import apply_page_css
from ui.navigation import DEFAULT_PAGE, denied_pages, visible_pages
from ui.session import db_path, get_lang, tr

st.set_page_config(page_title="KAM Analytics", page_icon="📊", layout="wide")


def main() -> None:
    """Language switch, sign-in gate, navigation of the user's pages, then the chosen page."""
    apply_page_css()  # KPI cards, margins: readable at 1280×720 as at 1920×1080
    restore_language()  # after F5: the language this sign-in chose, before the switch is drawn
    with st.sidebar:
        st.selectbox(
            tr("sidebar_language"),
            LANGUAGES,
            index=LANGUAGES.index(get_lang()),
            format_func=lambda code: {"de": "Deutsch", "en": "English"}[code],
            key="lang",
            on_change=remember_language,
        )

    # Nobody gets past this line without signing in: it shows the sign-in form and stops.
    scope = require_sign_in()

    # One st.Page per page file: the user's pages by section, and a hidden
    # refusal under the URL of each page the role may not open (a bookmark of it says so,
    # instead of Streamlit's English "Page not found").
    by_file = {}
    sections = {}
    for section, entries in visible_pages(scope).items():
        sections[tr(section)] = []
        for e in entries:
            by_file[e.path] = st.Page(
                e.path, title=tr(e.label), icon=e.icon, default=(e.path == DEFAULT_PAGE)
            )
            sections[tr(section)].append(by_file[e.path])
    refusals = {e.path: refusal_page(e) for e in denied_pages(scope)}
    sections[next(iter(sections))] += refusals.values()
    # and one under an address no page has (a mistyped bookmark), said in the user's language
    unknown = unknown_url_path()
    if unknown:
        sections[next(iter(sections))].append(not_found_page(unknown))
    # expanded: every page stays listed; a collapsed "view more" would hide the admin pages.
    nav = st.navigation(sections, expanded=True)
    go_to_wanted_page({**by_file, **refusals}, nav)
    with st.sidebar:
        sidebar_account(scope)
        if scope.role == "admin":
            # Where the data lives is an administrator's concern (and not a KAM's business).
            st.caption(tr("sidebar_database"))
            st.code(db_path(), language=None)
    nav.run()


# Any error a page does not catch is shown as a localised message, never as a traceback.
guarded(main)
