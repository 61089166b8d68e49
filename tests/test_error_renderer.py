"""One renderer for every error a user sees (ui/errors.py): localised, never a traceback."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics.i18n import t

ROOT = Path(__file__).resolve().parent.parent


def _page_with_uncaught(kind: str, lang: str) -> None:
    import streamlit as st

    from kam_analytics.errors import ConfigError, Reason
    from ui.errors import guarded

    st.session_state["lang"] = lang

    def page():
        st.title("page")
        if kind == "bug":
            {}["missing"]  # a bug: KeyError
        raise ConfigError(Reason.USER_EXISTS, user="**anna**")

    guarded(page)
    st.caption("not reached")


def _run(kind: str, lang: str = "de") -> AppTest:
    at = AppTest.from_function(_page_with_uncaught, args=(kind, lang), default_timeout=30)
    return at.run()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_user_error_shows_its_localised_message_and_hint(lang):
    at = _run("user", lang)
    assert not at.exception
    message = t("err_user_exists", lang, user=r"\*\*anna\*\*")  # the value as plain text
    assert [e.value for e in at.error] == [f"{message}  \n{t('err_user_exists_hint', lang)}"]
    assert [c.value for c in at.caption] == []  # the page stopped after the message


def test_a_bug_shows_one_generic_message_and_is_logged(caplog):
    with caplog.at_level("ERROR", logger="kam_analytics.app"):
        at = _run("bug")
    assert not at.exception
    [shown] = [e.value for e in at.error]
    ref = re.search(r"Referenz ([0-9a-f]{8})", shown).group(1)
    assert shown == f"{t('err_unexpected', ref=ref)}  \n{t('err_unexpected_hint', ref=ref)}"
    assert "KeyError" not in shown and "missing" not in shown and ".py" not in shown
    logged = [r for r in caplog.records if ref in r.getMessage()]
    assert logged and logged[0].exc_info[0] is KeyError  # the details go to the server log


def test_streamlit_shows_no_error_details():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    # "none": Streamlit's legacy `false` still sends the stack trace (it means "stacktrace").
    assert config["client"]["showErrorDetails"] == "none"


def test_app_runs_every_page_inside_the_renderer():
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    assert "guarded(main)" in source and "nav.run()" in source


FORBIDDEN = (
    re.compile(r"st\.exception\("),
    re.compile(r"str\(\s*e(xc)?\s*\)"),
    re.compile(r"\bexc\.(message|hint)\b"),
    re.compile(r"\berror_text\("),
    re.compile(r"import traceback|traceback\.\w"),
)


@pytest.mark.parametrize(
    "path",
    sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"), ROOT / "app.py"]),
    ids=lambda p: p.name,
)
def test_no_page_formats_an_error_itself(path):
    if path.name == "errors.py":
        return
    source = path.read_text(encoding="utf-8")
    hits = [rx.pattern for rx in FORBIDDEN if rx.search(source)]
    assert hits == [], f"{path.name}: use ui.errors.show_error"
