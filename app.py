"""KAM Analytics: navigation, language switch and shared sidebar. Pages hold the layout."""

import streamlit as st

from kam_analytics.i18n import LANGUAGES
from ui.auth import require_sign_in, sidebar_account, visible_pages
from ui.session import db_path, get_lang, tr

st.set_page_config(page_title="KAM Analytics", page_icon="📊", layout="wide")

# (file, label key, icon[, roles]). Every page file in pages/ is listed here explicitly.
# roles: a tuple of the roles that get the page (admin, management, kam); omitted/None = all.
PAGES = [
    ("pages/overview.py", "nav_overview", ":material/dashboard:"),
    ("pages/services.py", "nav_services", ":material/handshake:"),
    ("pages/giveaways.py", "nav_giveaways", ":material/money_off:"),
    ("pages/matrix.py", "nav_matrix", ":material/table_view:"),
    ("pages/profitability.py", "nav_profitability", ":material/trending_up:"),
    ("pages/retention.py", "nav_retention", ":material/favorite:"),
    ("pages/mandate.py", "nav_mandate", ":material/assignment:"),
    ("pages/bonus.py", "nav_bonus", ":material/savings:"),
    ("pages/account.py", "nav_account", ":material/business:"),
]
# Data and administration, shown under their own heading in the navigation.
ADMIN_PAGES = [
    # Importing is the data steward's (admin's) job.
    ("pages/data_import.py", "nav_import", ":material/upload:", ("admin",)),
    # Everyone reads the settings; only admins change them (the page checks the role).
    ("pages/settings.py", "nav_settings", ":material/settings:", ("admin", "management", "kam")),
    ("pages/users.py", "nav_users", ":material/group:", ("admin",)),
    ("pages/audit.py", "nav_audit", ":material/history:", ("admin",)),
]

with st.sidebar:
    st.selectbox(
        tr("sidebar_language"),
        LANGUAGES,
        index=LANGUAGES.index(get_lang()),
        format_func=lambda code: {"de": "Deutsch", "en": "English"}[code],
        key="lang",
    )

# Nobody gets past this line without signing in: it shows the sign-in form and stops.
scope = require_sign_in()

sections = {
    tr(section): [
        st.Page(path, title=tr(label), icon=icon, default=(path == PAGES[0][0]))
        for path, label, icon in visible_pages(entries, scope)
    ]
    for section, entries in (("nav_section_analysis", PAGES), ("nav_section_admin", ADMIN_PAGES))
}
# expanded: every page stays listed; a collapsed "view more" would hide the admin pages.
nav = st.navigation({k: v for k, v in sections.items() if v}, expanded=True)
with st.sidebar:
    sidebar_account(scope)
    st.caption(f"{tr('sidebar_database')}: `{db_path()}`")
nav.run()
