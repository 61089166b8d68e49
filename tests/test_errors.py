"""Reason codes: one enumeration, one catalogue (de + en), every raise site names a member."""

from __future__ import annotations

import ast
import datetime as dt
import string
import tomllib
from pathlib import Path

import pytest

from kam_analytics import errors
from kam_analytics.errors import (
    VARIANTS,
    ConfigError,
    KamError,
    NotFoundError,
    Problem,
    Reason,
    catalogue_keys,
    localise_error,
    localise_problem,
    text_variants,
)
from kam_analytics.i18n import LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = tomllib.loads((LOCALE_DIR / "errors.toml").read_text(encoding="utf-8"))


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _kam_error_classes() -> set[str]:
    return {
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, KamError)
    }


def _own_texts(reason):
    """The catalogue keys of a reason: one pair per variant, none for a borrowed variant."""
    return [
        catalogue_keys(reason, variant)
        for variant in text_variants(reason)
        if variant not in Reason.__members__.values()
    ]


@pytest.mark.parametrize("reason", list(Reason), ids=str)
def test_every_reason_has_a_german_and_an_english_message_and_hint(reason):
    for msg_key, hint_key in _own_texts(reason):
        for lang in ("de", "en"):
            assert CATALOGUE[lang].get(msg_key, "").strip(), f"{lang}: {msg_key} missing"
            assert hint_key in CATALOGUE[lang], f"{lang}: {hint_key} missing"
        # Both languages use the same values, so a raise site fills both.
        for key in (msg_key, hint_key):
            assert _placeholders(CATALOGUE["de"][key]) == _placeholders(CATALOGUE["en"][key]), key


def test_a_borrowed_variant_is_a_reason_with_texts():
    for reason, variants in VARIANTS.items():
        for variant in variants:
            if variant in Reason.__members__.values():
                assert variant != reason and catalogue_keys(variant)[0] in CATALOGUE["de"]


def test_catalogue_holds_no_text_without_a_reason():
    known = {k for r in Reason for pair in _own_texts(r) for k in pair}
    assert set(CATALOGUE["de"]) - known == set()
    assert set(CATALOGUE["en"]) - known == set()


def test_no_other_locale_file_holds_error_or_problem_texts():
    """One catalogue: no err_/prob_…_msg/imperr_/dbfault_…_msg key anywhere else."""
    offenders = []
    for path in sorted(LOCALE_DIR.glob("*.toml")):
        if path.name == "errors.toml":
            continue
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for lang in ("de", "en"):
            for key in data.get(lang, {}):
                text_key = key.startswith(("err_", "imperr_")) or (
                    key.startswith(("prob_", "dbfault_"))
                    and key.endswith(("_msg", "_hint"))
                    and not key.startswith("prob_col_")  # the report's column headers
                )
                if text_key:
                    offenders.append(f"{path.name}: {key}")
    assert offenders == []


def test_a_variant_picks_its_text_and_a_problem_renders_from_the_catalogue():
    p = Problem(
        "f.csv", None, 4, "Menge", "x", Reason.UNPARSEABLE_NUMBER, params={"variant": "int"}
    )
    assert (p.message, p.hint) == (
        "Not a whole number",
        "Write whole numbers like 2025; no text in the cell.",
    )
    assert localise_problem(p, "de")[0] == "Keine ganze Zahl"
    plain = Problem("f.csv", None, 4, "Menge", "x", Reason.UNPARSEABLE_NUMBER)
    assert plain.message == "Not a number"
    # a borrowed variant says the formula error's own text
    borrowed = Problem(
        "f.csv",
        None,
        None,
        "freight_cost",
        "`a` +",
        Reason.INVALID_FORMULA,
        params={"variant": "formula_syntax", "formula": "'`a` +'"},
    )
    assert borrowed.message == "Cannot read the formula '`a` +'"
    assert borrowed.reason == "invalid_formula"  # the report's code stays the finding's


def _sources():
    for base in ("kam_analytics", "ui", "pages"):
        for path in sorted((ROOT / base).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            yield rel, path
    yield "app.py", ROOT / "app.py"


def test_every_user_facing_error_is_raised_with_a_reason_member():
    classes = _kam_error_classes()
    offenders = []
    seen = 0
    for rel, path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in classes or name == "ImportBlockedError":
                continue
            seen += 1
            first = node.args[0] if node.args else None
            ok = (
                isinstance(first, ast.Attribute)
                and isinstance(first.value, ast.Name)
                and first.value.id == "Reason"
                and first.attr in Reason.__members__
            )
            if not ok:
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []
    assert seen >= 60  # the scan found the raise sites (guards against a broken walk)


def test_raise_site_values_fill_both_languages():
    exc = ConfigError(Reason.BONUS_PLAN_RANGE, year=2025, name="cap", value="9", lo=0, hi=2)
    assert exc.code == "bonus_plan_range"
    assert exc.message == "Bonus plan 2025: cap = '9' is out of range"
    assert exc.hint == "Enter a number between 0 and 2."
    assert localise_error(exc, "de") == (
        "Bonusplan 2025: cap = „9“ liegt außerhalb des erlaubten Bereichs",
        "Geben Sie eine Zahl zwischen 0 und 2 ein.",
    )
    assert (
        str(exc) == "Bonus plan 2025: cap = '9' is out of range — Enter a number between 0 and 2."
    )


def test_escape_applies_to_values_only():
    exc = NotFoundError(Reason.USER_NOT_FOUND, user="*x*")
    message, hint = localise_error(exc, "en", escape=lambda s: s.replace("*", r"\*"))
    assert message == r"There is no user '\*x\*'"
    assert "`python -m kam_analytics users list`" in hint  # the template keeps its markup


def test_format_specs_work_on_dates_and_numbers():
    exc = errors.AuthenticationError(
        Reason.AUTH_LOCKED, until=dt.datetime(2026, 1, 2, 14, 5), minutes=15
    )
    assert localise_error(exc, "de")[0].endswith("bis 14:05 Uhr gesperrt")


def test_a_missing_value_leaves_the_placeholder_instead_of_failing():
    exc = ConfigError(Reason.INVALID_ROLE)
    assert exc.message == "Unknown role '{role}'"


def test_a_relayed_error_with_an_unknown_code_keeps_its_words():
    """KamError.relay: words put together elsewhere (the running app) come through as they are."""
    relayed = KamError.relay("Something", "Do this.", code="no_template_here")
    assert localise_error(relayed, "de") == ("Something", "Do this.")
    found = NotFoundError(Reason.IMPORT_NOT_FOUND, id=7)
    assert localise_error(found, "de")[0] == "Es gibt keinen Import 7"
