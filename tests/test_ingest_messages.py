"""Import problems and errors in German and English: every reason has a template, the English
templates give exactly the command line's text, German renderings exact."""

import ast
import datetime as dt
from pathlib import Path

import pytest

from kam_analytics.errors import (
    ConfigError,
    ImportBlockedError,
    KamError,
    Problem,
    Reason,
    render_reason,
    text_variants,
)
from kam_analytics.exports.tables import frame_to_csv_de
from kam_analytics.i18n import LOCALE_DIR
from kam_analytics.ingest import load
from kam_analytics.ingest.mapping import Mapping, compile_expression
from kam_analytics.ingest.messages import (
    error_text,
    localise_error,
    localise_problem,
    localised_problems_frame,
    problem_text,
    result_text,
)
from kam_analytics.ingest.pipeline import plan_file
from kam_analytics.ingest.profiles import save_profile
from kam_analytics.ingest.read import read_source
from kam_analytics.ingest.validate import prepare
from tests.conftest import DATA, ROOT

TODAY = dt.date(2026, 1, 15)
CORPUS = sorted(p for p in DATA.iterdir() if p.suffix in (".csv", ".txt", ".xlsx", ".xls"))
INGEST = ROOT / "kam_analytics" / "ingest"


def _plan(path, **kwargs):
    return plan_file(path, known_accounts={"K1"}, today=TODAY, **kwargs)


def _csv(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _check_both_languages(problem):
    """English catalogue text == the CLI text; German text exists and differs."""
    variant = problem.params.get("variant")
    stem = f"prob_{problem.reason}" + (f"_{variant}" if variant else "")
    assert isinstance(problem.reason, Reason), stem
    assert render_reason(problem.reason, "de", problem.params) is not None, stem
    assert localise_problem(problem, "en") == (problem.message, problem.hint), stem
    de = localise_problem(problem, "de")
    assert de != (problem.message, problem.hint), stem
    return stem


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_corpus_problem_has_german_and_exact_english(path):
    plan = _plan(path)
    for problem in plan.all_problems:
        _check_both_languages(problem)


def test_corpus_covers_these_reasons():
    seen = {_check_both_languages(p) for path in CORPUS for p in _plan(path).all_problems}
    assert {
        "prob_conflicting_duplicate_key",
        "prob_duplicate_row",
        "prob_future_date",
        "prob_missing_column_required",
        "prob_missing_key",
        "prob_negative_freight",
        "prob_orphan_account",
        "prob_orphan_account_many",
        "prob_password_protected_info",
        "prob_total_row_dropped_sums",
        "prob_unknown_value",
        "prob_unparseable_amount",
        "prob_unparseable_date",
        "prob_unreadable_file_excel",
    } <= seen


def test_synthetic_files_cover_the_other_reasons(tmp_path):
    """Reasons the corpus does not trigger, each from a real file."""
    stems = set()
    head = "shipment_id;account_id;ship_date;ship_mode;freight_cost;freight_charged\n"

    def stems_of(plan):
        return {_check_both_languages(p) for p in plan.all_problems}

    mapped = Mapping(
        table="shipments",
        columns={"shipment_id": "shipment_id", "account_id": "Debitor", "ship_date": "ship_date"},
        computed={"freight_cost": "`Fracht netto` + `Maut`"},
    )
    f = _csv(tmp_path, "a.csv", head + "S1;K1;01.12.2025;standard;1,00;1,00\n")
    stems |= stems_of(_plan(f, mapping=mapped))
    # plan_file refuses such mappings up front (ConfigError); prepare() reports them
    raw = read_source(f)
    for formula in ("`a` +", "__import__('os')"):
        bad = Mapping(table="shipments", computed={"freight_cost": formula})
        stems |= {_check_both_languages(p) for p in prepare(raw, bad, today=TODAY).problems}
    computed_ok = Mapping(
        table="shipments",
        columns={"shipment_id": "shipment_id", "account_id": "account_id"},
        computed={"freight_cost": "`freight_cost` * 2"},
    )
    g = _csv(tmp_path, "b.csv", head + "S1;K1;01.12.2025;standard;abc;1,00\n")
    stems |= stems_of(_plan(g, mapping=computed_ok))
    # accounts without tier, a derived key, an empty required value, a bad flag and integer
    h = _csv(tmp_path, "c.csv", "account_id;name\nK9;\n")
    stems |= stems_of(_plan(h, table="accounts"))
    e = _csv(tmp_path, "e.csv", "account_id;date;kind;score\nK1;01.12.2025;praise;1\n")
    stems |= stems_of(_plan(e, table="feedback"))
    stems |= stems_of(_plan(_csv(tmp_path, "empty.csv", "")))
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\x00\x01\x02" * 50)
    stems |= stems_of(_plan(binary))
    stems |= stems_of(_plan(_csv(tmp_path, "x.csv", "foo;bar\n1;2\n")))
    stems |= stems_of(_plan(DATA / "multi_sheet.xlsx", sheet="Nope"))
    assert {
        "prob_missing_column_mapped",
        "prob_missing_column_computed",
        "prob_invalid_formula_formula_syntax",
        "prob_invalid_formula_formula_not_arithmetic",
        "prob_unparseable_number_computed",
        "prob_missing_tier",
        "prob_missing_value",
        "prob_derived_key",
        "prob_empty_file",
        "prob_unreadable_file_binary",
        "prob_unknown_table",
        "prob_missing_sheet_name",
    } <= stems


# Calls that create a finding or an error, and where their reason stands.
_RAISERS = {"Problem": 5, "_blocked": 1, "_refuse": 1, "add": 0, "rows": 2}


def _ingest_calls():
    for path in sorted(INGEST.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                yield path.name, name, node


def _emitted_reasons() -> set[str]:
    """Reason members named where ingest/*.py creates a Problem (and in KIND_REASON)."""
    reasons = set()
    for _file, name, node in _ingest_calls():
        pos = _RAISERS.get(name)
        if pos is not None and len(node.args) > pos:
            arg = node.args[pos]
            if isinstance(arg, ast.Attribute) and getattr(arg.value, "id", "") == "Reason":
                reasons.add(arg.attr)
    for path in INGEST.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == (
                "KIND_REASON"
            ):
                reasons |= {v.attr for v in node.value.values}
    return reasons


def test_every_reason_in_the_source_is_a_member_with_texts():
    reasons = _emitted_reasons()
    assert {"MISSING_COLUMN", "UNREADABLE_FILE", "UNKNOWN_TABLE", "ORPHAN_ACCOUNT"} <= reasons
    assert len(reasons) >= 40
    missing = sorted(
        r
        for r in reasons
        if r not in Reason.__members__
        or render_reason(Reason[r], "de", {"variant": text_variants(Reason[r])[0]}) is None
    )
    assert missing == []


def _is_words(node) -> bool:
    """A string literal or f-string with a space in it: a sentence written at the call."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return " " in node.value
    if isinstance(node, ast.JoinedStr):
        return any(_is_words(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _is_words(node.left) or _is_words(node.right)
    return False


# Built-in errors for a broken invariant of the code itself (a bug, not a user's input): the
# renderer shows its generic message for them, so their words are for developers.
_PROGRAMMING_ERRORS = {"RuntimeError", "TypeError", "AssertionError"}


def test_no_message_is_written_where_a_finding_or_error_is_raised():
    """A raise site names its reason and values; the words are the catalogue's (errors.toml)."""
    offenders = []
    for file, name, node in _ingest_calls():
        if name not in _RAISERS and not (name or "").endswith("Error"):
            continue
        if name in _PROGRAMMING_ERRORS:
            continue  # a broken invariant of the code, never shown as such (ui.errors.guarded)
        args = [*node.args, *(k.value for k in node.keywords)]
        if any(_is_words(a) for a in args):
            offenders.append(f"{file}:{node.lineno}: {name}")
    assert offenders == []


def test_a_missing_value_keeps_the_placeholder():
    q = Problem("f.csv", None, 2, "x", "v", Reason.MISSING_KEY)
    assert q.message == "The key column {name} is empty"
    assert localise_problem(q, "de")[0] == "Die Schlüsselspalte {name} ist leer"


def test_german_renderings_exact():
    plan = _plan(DATA / "err_missing_column.csv")
    [err] = [p for p in plan.all_problems if p.severity == "error"]
    assert localise_problem(err, "de") == (
        "Pflichtspalte ship_date fehlt",
        "Ordnen Sie ship_date eine Spalte der Datei zu (Spaltenköpfe wie Versanddatum, "
        "Warenausgang, Warenausgangsdatum werden erkannt) oder geben Sie im Abschnitt "
        "[defaults] des Profils eine Konstante an.",
    )
    # the English command-line text stays as it was
    assert err.message == "Required column ship_date is missing"

    plan = _plan(DATA / "err_duplicate_key.csv")
    [dup] = [p for p in plan.all_problems if p.reason == "conflicting_duplicate_key"]
    assert localise_problem(dup, "de")[0] == (
        "Schlüssel S1 kommt mehrfach mit unterschiedlichen Werten vor (zuerst in Zeile 2; "
        "abweichend: freight_cost)"
    )
    assert problem_text(dup, "de") == (
        "err_duplicate_key.csv, Zeile 3, Spalte 'freight_cost': Schlüssel S1 kommt mehrfach mit "
        "unterschiedlichen Werten vor (zuerst in Zeile 2; abweichend: freight_cost) (Wert 'S1'). "
        "Behalten Sie eine Zeile "
        "je Schlüssel oder korrigieren Sie den Schlüssel einer der Zeilen."
    )
    assert problem_text(dup, "en") == str(dup)

    [pw] = _plan(DATA / "password_protected.xlsx").all_problems
    assert localise_problem(pw, "de")[0] == "Die Arbeitsmappe ist kennwortgeschützt"

    [corrupt] = _plan(DATA / "corrupt.xlsx").all_problems
    assert problem_text(corrupt, "de") == (
        "corrupt.xlsx: Die Datei lässt sich nicht als Excel-Arbeitsmappe lesen (beschädigt oder "
        "keine Tabelle). Öffnen Sie sie in Excel und speichern Sie sie erneut als .xlsx, oder "
        "exportieren Sie sie erneut aus dem Quellsystem."
    )

    plan = _plan(DATA / "warn_shipments.csv")
    orphans = sorted(
        localise_problem(p, "de")[0] for p in plan.all_problems if p.reason == "orphan_account"
    )
    assert orphans == ["Kunde fehlt in der Kundentabelle"]  # NOPE; K1 is known
    plan = plan_file(DATA / "warn_shipments.csv", known_accounts=set(), today=TODAY)
    orphans = sorted(
        localise_problem(p, "de")[0] for p in plan.all_problems if p.reason == "orphan_account"
    )
    assert orphans == [
        "Kunde fehlt in der Kundentabelle",
        "Kunde fehlt in der Kundentabelle (2 Zeilen, zuerst in Zeile 2)",
    ]


def test_report_frame_and_csv_in_german():
    plan = _plan(DATA / "warn_shipments.csv")
    frame = localised_problems_frame(plan.all_problems, "de")
    assert list(frame.columns) == [
        "Art",
        "Datei",
        "Blatt",
        "Zeile",
        "Spalte",
        "Wert",
        "Code",
        "Problem",
        "So beheben",
    ]
    assert frame["Art"].tolist() == ["Hinweis"] * 4
    assert frame["Problem"].tolist() == [
        "Identische Dublette von Zeile 2; nur einmal importiert",
        "Negativer Wert in Frachtkosten",
        "Kunde fehlt in der Kundentabelle",
        "Versanddatum liegt in der Zukunft",
    ]
    lines = frame_to_csv_de(frame).decode("utf-8-sig").splitlines()
    assert lines[0] == "Art;Datei;Blatt;Zeile;Spalte;Wert;Code;Problem;So beheben"
    # "-5" is a number written as text, not a formula: kept as it is (exports.cells).
    assert lines[2].startswith("Hinweis;warn_shipments.csv;;4;freight_cost;-5;negative_freight;")

    blocked = _plan(DATA / "err_bad_date.csv").all_problems
    en = localised_problems_frame(blocked, "en")
    assert en.columns[0] == "Severity" and en.iloc[0, 0] == "Error"
    assert en["Problem"].tolist()[0] == "Not a date"
    de = localised_problems_frame(blocked, "de")
    assert de.iloc[0, 0] == "Fehler" and de["Problem"].tolist()[0] == "Kein Datum"


def test_errors_by_code(con, tmp_path):
    with pytest.raises(ConfigError) as info:
        compile_expression("`a` +")
    assert info.value.code == "formula_syntax"
    assert localise_error(info.value, "de")[0] == "Die Formel '`a` +' ist nicht lesbar"
    assert localise_error(info.value, "en") == (info.value.message, info.value.hint)

    with pytest.raises(ConfigError) as info:
        Mapping(table="shipments", columns={"nope": "x"}).check()
    assert localise_error(info.value, "en") == (info.value.message, info.value.hint)
    assert localise_error(info.value, "de")[0] == (
        "Spalte 'nope' ist keine Spalte der Tabelle 'shipments'"
    )

    with pytest.raises(ConfigError) as info:
        save_profile(Mapping(table="shipments"), "  ", folder=tmp_path)
    assert error_text(info.value, "de") == (
        "Der Profilname ist leer — Geben Sie dem Profil einen Namen, z. B. sap_lieferungen."
    )

    blocked = ImportBlockedError(problems=_plan(DATA / "err_bad_date.csv").all_problems)
    assert str(blocked).startswith("1 blocking problem(s) found; nothing was imported")
    assert localise_error(blocked, "de")[0] == (
        "1 blockierende(r) Fehler gefunden; nichts wurde importiert"
    )

    with pytest.raises(KamError) as info:
        load.undo_import(con, 999)
    assert str(info.value) == "There is no import 999 — See `imports list` for the ids."
    assert localise_error(info.value, "de") == (
        "Es gibt keinen Import 999",
        "Die Nummern stehen im Import-Verlauf.",
    )

    # an error of another area without template: English as it is
    other = KamError("Something else", "Try again", code="whatever")
    assert error_text(other, "de") == "Something else — Try again"


def test_result_text_german_and_english_matches_summary(con):
    [res] = load_results = [
        load.ImportResult(
            file_name="a.csv",
            table="shipments",
            import_id=7,
            inserted=3,
            updated=1,
            unchanged=2,
            rejected=1,
            problems=_plan(DATA / "warn_shipments.csv").all_problems,
        )
    ]
    assert result_text(res, "de") == (
        "a.csv → shipments (Import 7): 3 neu, 1 geändert, 2 unverändert, 1 abgewiesen, 4 Hinweis(e)"
    )
    for status in ("done", "dry_run", "noop", "blocked"):
        res.status = status
        res.previous_import_id = 5
        assert result_text(res, "en") == res.summary()
    assert len(load_results) == 1


def test_locale_file_is_where_the_page_expects_it():
    assert Path(LOCALE_DIR / "import_report.toml").is_file()
