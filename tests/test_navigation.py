"""Page roles are declared once (ui/navigation.py) and every page's guard reads them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics.access import Scope
from kam_analytics.audit import AUDIT_READERS
from kam_analytics.i18n import t
from ui.navigation import PAGES, page_entry

ROOT = Path(__file__).resolve().parent.parent
PAGE_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
SCOPES = {
    "admin": Scope("admin", "admin"),
    "management": Scope("leitung", "management"),
    "kam": Scope("kam01", "kam", "KAM01"),
}


def test_every_page_file_is_declared_exactly_once_and_nothing_else():
    declared = [e.path for e in PAGES]
    assert sorted(declared) == PAGE_FILES
    assert len(declared) == len(set(declared))


def test_no_module_lists_page_files_of_its_own():
    """The declaration is the only list: no other module names pages/*.py files (nor missing ones)."""
    pattern = re.compile(r"[\"']pages/\w+\.py[\"']")
    offenders = []
    for path in [ROOT / "app.py", *(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")]:
        if path.name == "navigation.py":
            continue
        if pattern.search(path.read_text(encoding="utf-8")):
            offenders.append(path.name)
    assert offenders == []


@pytest.mark.parametrize("page", PAGE_FILES)
def test_each_page_guards_itself_with_its_declaration(page):
    """The first call on every page is require_page(__file__); no page names roles itself."""
    tree = ast.parse((ROOT / page).read_text(encoding="utf-8"))
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "require_page"
    ]
    assert len(calls) == 1, page
    assert [getattr(a, "id", None) for a in calls[0].args] == ["__file__"], page
    source = (ROOT / page).read_text(encoding="utf-8")
    assert "require_role(" not in source and "require_page_role" not in source, page


def test_the_audit_page_is_declared_for_the_audit_readers():
    assert page_entry("pages/audit.py").roles == AUDIT_READERS


def _guard_script(page: str) -> None:
    import streamlit as st

    from ui.auth import require_page

    require_page(page)
    st.title("open")


@pytest.mark.parametrize("role", sorted(SCOPES))
def test_the_guard_gives_exactly_the_declared_roles(role):
    """For every page: the guard lets the declared roles in and refuses the others."""
    for entry in PAGES:
        at = AppTest.from_function(_guard_script, args=(entry.path,), default_timeout=30)
        at.session_state["scope"] = SCOPES[role]
        at.run()
        assert not at.exception, (entry.path, [e.value for e in at.exception])
        if role in entry.roles:
            assert [x.value for x in at.title] == ["open"], entry.path
            assert not at.error
        else:
            assert [x.value for x in at.title] == [], entry.path
            roles = ", ".join(t(f"role_{r}") for r in entry.roles)
            assert [e.value for e in at.error] == [
                f"{t('err_page_denied', roles=roles)}  \n{t('err_page_denied_hint')}"
            ]
