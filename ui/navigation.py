"""The navigation: every page, its label, icon, section and the roles that may open it.

Declared once here. app.py builds st.navigation from `visible_pages`; each page's guard
(`ui.auth.require_page(__file__)`) reads the same declaration, so a page's roles are never
repeated in the page itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kam_analytics.access import Scope
from kam_analytics.audit import AUDIT_READERS

EVERYONE = ("admin", "management", "kam")
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageEntry:
    """One page of the navigation."""

    path: str  # relative to the app's folder, e.g. "pages/overview.py"
    label: str  # label key (locales)
    icon: str
    section: str  # label key of the navigation heading
    roles: tuple[str, ...] = EVERYONE

    @property
    def url_path(self) -> str:
        """The page's URL path ("retention" for pages/retention.py), as a bookmark holds it."""
        return Path(self.path).stem


_ANALYSIS = "nav_section_analysis"
_ADMIN = "nav_section_admin"

PAGES: tuple[PageEntry, ...] = (
    PageEntry("pages/overview.py", "nav_overview", ":material/dashboard:", _ANALYSIS),
    # The monthly review starts here: what the latest imports changed.
    PageEntry("pages/changes.py", "nav_changes", ":material/compare_arrows:", _ANALYSIS),
    PageEntry("pages/services.py", "nav_services", ":material/handshake:", _ANALYSIS),
    PageEntry("pages/giveaways.py", "nav_giveaways", ":material/money_off:", _ANALYSIS),
    PageEntry("pages/matrix.py", "nav_matrix", ":material/table_view:", _ANALYSIS),
    PageEntry("pages/profitability.py", "nav_profitability", ":material/trending_up:", _ANALYSIS),
    PageEntry("pages/retention.py", "nav_retention", ":material/favorite:", _ANALYSIS),
    PageEntry("pages/mandate.py", "nav_mandate", ":material/assignment:", _ANALYSIS),
    PageEntry("pages/bonus.py", "nav_bonus", ":material/savings:", _ANALYSIS),
    PageEntry("pages/account.py", "nav_account", ":material/business:", _ANALYSIS),
    # Importing is the data steward's (admin's) job.
    PageEntry("pages/data_import.py", "nav_import", ":material/upload:", _ADMIN, ("admin",)),
    # Everyone reads the settings; only admins change them (kam_analytics.settings_store checks).
    PageEntry("pages/settings.py", "nav_settings", ":material/settings:", _ADMIN),
    PageEntry("pages/users.py", "nav_users", ":material/group:", _ADMIN, ("admin",)),
    # The audit log's readers: kam_analytics.audit.AUDIT_READERS (one rule for every reader).
    PageEntry("pages/audit.py", "nav_audit", ":material/history:", _ADMIN, AUDIT_READERS),
)
SECTIONS = (_ANALYSIS, _ADMIN)
DEFAULT_PAGE = PAGES[0].path


def page_key(file: str | Path) -> str:
    """The navigation path of a page file ("pages/x.py"), from its __file__ or a path."""
    p = Path(file)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(ROOT).as_posix()
        except ValueError:
            return f"pages/{p.name}"
    return p.as_posix()


def page_entry(file: str | Path) -> PageEntry:
    """The declaration of one page; KeyError for a file the navigation does not list."""
    key = page_key(file)
    for entry in PAGES:
        if entry.path == key:
            return entry
    raise KeyError(key)


def visible_pages(scope: Scope) -> dict[str, list[PageEntry]]:
    """Section label key -> the pages the scope's role may open, in declaration order."""
    out: dict[str, list[PageEntry]] = {s: [] for s in SECTIONS}
    for entry in PAGES:
        if scope.role in entry.roles:
            out[entry.section].append(entry)
    return {s: pages for s, pages in out.items() if pages}


def denied_pages(scope: Scope) -> list[PageEntry]:
    """The pages the scope's role may not open (their URLs answer with a refusal)."""
    return [entry for entry in PAGES if scope.role not in entry.roles]
