"""Text from data is shown as plain text on every page: no Markdown, links, colours or LaTeX."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from kam_analytics.access import Scope
from ui.navigation import PAGES
from ui.text import JOINER, plain

ROOT = Path(__file__).resolve().parent.parent
INJ = "**X** [a](http://e.vil) $x^2$ :red[y]"
HTML = ' <b>fett</b> <a href="http://e.vil">k</a>'  # what plotly would render in a chart
NAME = INJ + HTML  # the account's name
ACCOUNT = "K10012"  # a key account of KAM01 in the small demo
TIMEOUT = 120
PAGES_CHARTING_THE_NAME = ("pages/retention.py",)  # the trend legend names K10012
# CommonMark: a backslash before ASCII punctuation stands for that character, nothing more.
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def unescape(md: str) -> str:
    """What a reader sees of text in which every special character is escaped (joiners are
    invisible)."""
    return _ESCAPED.sub(r"\1", md).replace(JOINER, "")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60))
def test_plain_renders_back_to_the_text(text):
    escaped = plain(text)
    assert unescape(escaped) == text
    # no Markdown special character is left unescaped (so nothing can form markup)
    assert re.search(r"(?<!\\)[*_`\[\]$<>:~|#!]", re.sub(r"\\.", "", escaped)) is None


def test_plain_of_the_hostile_name():
    assert plain(INJ) == (r"\*\*X\*\* \[a\]\(http\:" + JOINER + r"\/\/e\.vil\) \$x\^2\$ \:red\[y\]")
    # an address stays text: remark-gfm links bare addresses even when escaped
    assert plain("info@e.vil www.e.vil") == (
        "info" + JOINER + r"\@e\.vil www" + JOINER + r"\.e\.vil"
    )
    assert plain(None) == ""
    assert plain("Zeile 1\n# Zeile 2") == r"Zeile 1 \# Zeile 2"


@pytest.fixture(scope="module")
def hostile_app_db(demo_db, tmp_path_factory):
    """The demo with an account, its KAM, a mandate answer and a praise quote named INJ."""
    path = tmp_path_factory.mktemp("plain") / "plain.duckdb"
    shutil.copy(demo_db, path)
    con = duckdb.connect(str(path))
    year = dt.date.today().year
    con.execute("UPDATE accounts SET name = ?, city = ? WHERE account_id = ?", [NAME, INJ, ACCOUNT])
    con.execute("UPDATE kams SET name = ? WHERE kam_id = 'KAM01'", [INJ])
    con.execute("DELETE FROM mandates WHERE account_id = ? AND year = ?", [ACCOUNT, year])
    con.execute(
        "INSERT INTO mandates (account_id, year, contact) VALUES (?, ?, ?)", [ACCOUNT, year, INJ]
    )
    con.execute(
        "INSERT INTO feedback (feedback_id, account_id, date, score, kind, comment) "
        "VALUES ('INJ1', ?, ?, NULL, 'praise', ?)",
        [ACCOUNT, dt.date.today(), INJ],
    )
    con.close()
    return path


def _markdown_values(at: AppTest) -> list[str]:
    """Every text the run shows through an element that renders Markdown."""
    out = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning"):
        out += [e.value for e in getattr(at, kind)]
    out += [e.value for e in at.success] + [e.value for e in at.error]
    for m in at.metric:
        out += [m.label, m.value]
    out += [e.label for e in at.expander]
    return [str(v) for v in out]


def _chart_texts(at: AppTest) -> list[str]:
    """Every string in the plotly figures the run sends to the browser."""
    out = []

    def walk(node):
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for chart in at.get("plotly_chart"):
        walk(json.loads(chart.proto.spec))
    return out


@pytest.mark.parametrize("page", [e.path for e in PAGES])
def test_hostile_text_is_shown_literally_on_every_page(hostile_app_db, monkeypatch, page):
    monkeypatch.setenv("KAM_DB", str(hostile_app_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["scope"] = Scope(username="admin", role="admin")
    at.session_state["acc_id"] = ACCOUNT
    at.session_state["bn_kam"] = "KAM01"
    at.session_state["md_account"] = ACCOUNT
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    values = _markdown_values(at)
    raw = [v for v in values if INJ in v or "**X**" in v or "](http://e.vil)" in v]
    assert raw == [], raw
    shown = [unescape(v) for v in values if plain(INJ) in v]
    charts = _chart_texts(at)
    assert not [c for c in charts if HTML.strip() in c or "<b>fett" in c], page
    if page in PAGES_CHARTING_THE_NAME:
        assert any("&lt;b&gt;fett&lt;/b&gt;" in c for c in charts), page  # shown as text
    if page == "pages/account.py":
        assert f"{NAME} ({ACCOUNT})" in shown  # the header, as the user reads it
        assert any(INJ in v for v in shown if v.startswith("**"))  # the mandate answer
    if page == "pages/bonus.py":
        assert any(v.startswith(INJ) for v in shown)  # the KAM's name in the subheader
        assert any(f"„{INJ}“" in v for v in shown)  # the praise quote


def test_chart_text_from_data_is_escaped_for_plotly():
    import plotly.graph_objects as go

    from kam_analytics.exports.chart_text import plain_figure

    fig = go.Figure(
        go.Bar(x=[NAME, "B"], y=[1, 2], customdata=[[NAME], ["B"]], name=HTML, text=[NAME, "2"])
    )
    fig.update_layout(xaxis={"categoryarray": [NAME, "B"]})
    plain_figure(fig)
    escaped = NAME.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert list(fig.data[0].x) == [escaped, "B"]
    assert list(fig.data[0].text) == [escaped, "2"]
    assert fig.data[0].customdata[0][0] == escaped
    assert fig.data[0].name == HTML.replace("<", "&lt;").replace(">", "&gt;")
    assert list(fig.layout.xaxis.categoryarray) == [escaped, "B"]
    assert list(fig.data[0].y) == [1, 2]  # numbers untouched


def test_matrix_figure_escapes_service_names(demo_copy):
    from kam_analytics import db
    from kam_analytics.exports.matrix_sheet import matrix_figure

    con = db.connect(demo_copy)
    try:
        con.execute(
            "UPDATE service_catalogue SET name_de = ? WHERE service_code = "
            "(SELECT service_code FROM service_catalogue ORDER BY sort_order LIMIT 1)",
            [HTML.strip()],
        )
        fig = matrix_figure(con, 2025, "de")
    finally:
        con.close()
    cells = [str(v) for v in fig.data[0].cells.values[0]]
    assert any("&lt;a href" in c for c in cells)
    assert not any("<a " in c for c in cells)
