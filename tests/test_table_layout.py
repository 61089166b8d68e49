"""Wide tables stay readable at 1280 px (issue 14): pinned first columns, stacked tables.

Pinned columns stay in view while a wide table scrolls sideways; the retention page's two
summary tables sit one below the other, so neither scrolls inside half a page.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics.access import Scope
from kam_analytics.i18n import t

ROOT = Path(__file__).resolve().parent.parent


def pinned_columns(frame) -> list[str]:
    """The columns a rendered st.dataframe pins, from its column configuration."""
    config = json.loads(frame.proto.columns or "{}")
    return [name for name, col in config.items() if col.get("pinned")]


def _table_app(width: int):
    import pandas as pd
    import streamlit as st

    from ui.widgets import show_table

    st.session_state["lang"] = "de"
    df = pd.DataFrame({f"c{i}": [i] for i in range(width)})
    show_table(df, labels={"c0": "Kunde"})


def test_show_table_pins_the_first_column_of_a_wide_table():
    at = AppTest.from_function(_table_app, args=(7,)).run()
    assert not at.exception
    assert pinned_columns(at.dataframe[0]) == ["Kunde"]


def test_show_table_pins_nothing_in_a_narrow_table():
    at = AppTest.from_function(_table_app, args=(6,)).run()
    assert not at.exception
    assert pinned_columns(at.dataframe[0]) == []


@pytest.fixture(scope="module")
def app_db(demo_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("tables") / "app.duckdb"
    shutil.copy(demo_db, path)
    return path


def open_page(db_file, monkeypatch, page: str, lang: str) -> AppTest:
    monkeypatch.setenv("KAM_DB", str(db_file))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state["scope"] = Scope(username="admin", role="admin")
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["de", "en"])
def test_overview_key_account_table_pins_id_and_name(app_db, monkeypatch, lang):
    at = open_page(app_db, monkeypatch, "pages/overview.py", lang)
    (table,) = [f for f in at.dataframe if t("ov_col_name", lang) in f.value.columns]
    assert pinned_columns(table) == [t("ov_col_account_id", lang), t("ov_col_name", lang)]


def test_retention_summaries_are_stacked_not_side_by_side(app_db, monkeypatch):
    at = open_page(app_db, monkeypatch, "pages/retention.py", "de")
    titles = [s.value for s in at.subheader]
    assert t("ret_by_kam", "de") in titles and t("ret_by_tier", "de") in titles
    assert titles.index(t("ret_by_tier", "de")) == titles.index(t("ret_by_kam", "de")) + 1
    in_columns = [s.value for col in at.columns for s in col.subheader]
    assert t("ret_by_kam", "de") not in in_columns
    assert t("ret_by_tier", "de") not in in_columns
