"""KAM Analytics: navigation, language switch and shared sidebar. Pages hold the layout."""

import streamlit as st

from kam_analytics.i18n import LANGUAGES
from ui.session import db_path, get_lang, tr

st.set_page_config(page_title="KAM Analytics", page_icon="📊", layout="wide")

# (file, label key, icon). Every page file in pages/ is listed here explicitly.
PAGES = [
    ("pages/overview.py", "nav_overview", ":material/dashboard:"),
]

with st.sidebar:
    st.selectbox(
        tr("sidebar_language"),
        LANGUAGES,
        index=LANGUAGES.index(get_lang()),
        format_func=lambda code: {"de": "Deutsch", "en": "English"}[code],
        key="lang",
    )

nav = st.navigation(
    [st.Page(path, title=tr(label), icon=icon, default=(i == 0)) for i, (path, label, icon) in enumerate(PAGES)]
)
with st.sidebar:
    st.caption(f"{tr('sidebar_database')}: `{db_path()}`")
nav.run()
