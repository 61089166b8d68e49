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
    "report_label",
    "report_column_label",
    "method_label",
    "section_label",
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


def _is_label_or_period(name: str) -> bool:
    return name in PERIOD_HELPERS or (name.endswith("_label") and name != "wrap_label")


def test_no_period_or_label_helper_is_reached_through_an_export_module():
    """Also `from kam_analytics.exports import deck` + `deck.period_label(...)`, and
    `import kam_analytics.exports.deck as d` + `d.tier_label`: only the owners are asked."""
    offenders = []
    for path in _code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = str(path.relative_to(ROOT))
        aliases = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "kam_analytics.exports":
                aliases.update(a.asname or a.name for a in node.names)
            elif isinstance(node, ast.Import):
                aliases.update(
                    a.asname for a in node.names if a.asname and "kam_analytics.exports" in a.name
                )
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _is_label_or_period(node.attr)
            ):
                offenders.append(f"{rel}:{node.lineno}: {node.value.id}.{node.attr}")
    assert offenders == []


def test_settings_store_reaches_no_export_module_even_indirectly():
    """Importing settings_store (and what it imports) loads no kam_analytics.exports module."""
    import subprocess
    import sys

    code = (
        "import sys, kam_analytics.settings_store; "
        "print(sorted(m for m in sys.modules if m.startswith('kam_analytics.exports')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# Using a caught exception as text: str(e), repr(e), f"{e}", "%s" % e, "...".format(e),
# e.args, e.message / e.hint. Only ui/errors.py (the one renderer) turns an error into words.
_TEXT_CALLS = {"str", "repr", "format"}


def _error_formatting(tree: ast.AST) -> list[tuple[int, str]]:
    hits = []
    for handler in ast.walk(tree):
        if not isinstance(handler, ast.ExceptHandler) or not handler.name:
            continue
        name = handler.name
        for node in (n for stmt in handler.body for n in ast.walk(stmt)):
            if isinstance(node, ast.Call) and any(
                isinstance(a, ast.Name) and a.id == name for a in node.args
            ):
                func = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if func in _TEXT_CALLS:
                    hits.append((node.lineno, f"{func}({name})"))
            elif isinstance(node, ast.FormattedValue) and (
                isinstance(node.value, ast.Name) and node.value.id == name
            ):
                hits.append((node.lineno, f"f-string {{{name}}}"))
            elif (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Mod)
                and isinstance(node.left, ast.Constant)
                and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.right))
            ):
                hits.append((node.lineno, f"'%s' % {name}"))
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == name
                and node.attr in ("args", "message", "hint")
            ):
                hits.append((node.lineno, f"{name}.{node.attr}"))
    return hits


def test_no_page_or_ui_module_puts_an_exception_into_words():
    """pages/, ui/ and app.py hand a caught error to ui.errors.show_error; none formats it."""
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    files += [p for p in sorted((ROOT / "ui").glob("*.py")) if p.name != "errors.py"]
    offenders = []
    for path in files:
        for line, what in _error_formatting(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert offenders == []


def test_the_error_formatting_check_finds_each_form():
    """The check above would catch every form it names (guards against a blind walk)."""
    source = (
        "try:\n    pass\nexcept Exception as err:\n"
        "    a = str(err)\n    b = f'failed: {err}'\n    c = 'x %s' % err\n"
        "    d = '{}'.format(err)\n    e = err.args\n    g = err.message\n    show_error(err)\n"
    )
    found = [what for _, what in _error_formatting(ast.parse(source))]
    assert found == [
        "str(err)",
        "f-string {err}",
        "'%s' % err",
        "format(err)",
        "err.args",
        "err.message",
    ]
