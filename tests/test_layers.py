"""The layer rules: the library never imports streamlit, pages hold no SQL."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_library_never_imports_streamlit():
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "kam_analytics").rglob("*.py")
        if "streamlit" in _imports(p)
    ]
    assert offenders == []


def test_library_files_were_checked():
    assert len(list((ROOT / "kam_analytics").rglob("*.py"))) >= 10


SQL = re.compile(r"\b(select|insert|update|delete)\b.+\b(from|into|set)\b", re.IGNORECASE)


def test_pages_hold_no_sql():
    offenders = []
    for path in list((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SQL.search(line) or ".execute(" in line or ".sql(" in line:
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []


def test_every_page_file_is_in_navigation():
    """The declaration lives in ui/navigation.py (tests/test_navigation.py checks it fully)."""
    from ui.navigation import PAGES

    pages = sorted(p.name for p in (ROOT / "pages").glob("*.py"))
    assert pages, "no pages"
    declared = {e.path for e in PAGES}
    missing = [p for p in pages if f"pages/{p}" not in declared]
    assert missing == []


PERIOD_HELPERS = {
    "resolve",
    "resolve_period",
    "period_bounds",
    "period_label",
    "default_as_of",
    "is_year_complete",
    "same_day_last_year",
    "shift_months",
}


def _code_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in ("kam_analytics", "pages", "ui", "benchmarks"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


LABEL_HELPERS = {
    "tier_label",
    "billing_mode_label",
    "policy_label",
    "finding_label",
    "state_label",
    "signal_label",
    "signals_text",
    "key_accounts_label",
}


def test_period_and_label_helpers_come_from_their_owners():
    """Periods live in kam_analytics/periods.py only, concept names in kam_analytics/glossary.py
    only; nobody imports period or label helpers from exports."""
    offenders = []
    for path in _code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.lstrip("_") in PERIOD_HELPERS:
                if rel != "kam_analytics/periods.py":
                    offenders.append(f"{rel}: defines {node.name}")
            elif isinstance(node, ast.FunctionDef) and node.name.lstrip("_") in LABEL_HELPERS:
                if rel != "kam_analytics/glossary.py":
                    offenders.append(f"{rel}: defines {node.name}")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "kam_analytics.exports"
            ):
                for alias in node.names:
                    # wrap_label breaks chart text into lines; it names nothing
                    label = alias.name.endswith("_label") and alias.name != "wrap_label"
                    if alias.name in PERIOD_HELPERS or label:
                        offenders.append(f"{rel}: imports {alias.name} from {node.module}")
    assert offenders == []
