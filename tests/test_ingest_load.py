"""Upsert, idempotence, undo and the import log on real DuckDB files."""

import datetime as dt

import pytest

from kam_analytics.errors import ConfigError, KamError
from kam_analytics.ingest.load import list_imports, undo_import
from kam_analytics.ingest.mapping import Mapping, compile_expression, suggest_columns
from kam_analytics.ingest.pipeline import import_files
from kam_analytics.ingest.profiles import choose_profile, dump_profile, parse_profile, save_profile

TODAY = dt.date(2026, 1, 15)
HEAD = "Lieferschein-Nr.;Debitor;Warenausgang;Versandart;Frachtkosten"


def _csv(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("\n".join([HEAD, *rows]) + "\n", encoding="utf-8")
    return path


def _state(con):
    return con.execute(
        "SELECT shipment_id, account_id, ship_date::VARCHAR, ship_mode, freight_cost::DOUBLE, "
        "import_id, source_row FROM shipments ORDER BY 1"
    ).fetchall()


def test_same_file_twice_is_a_noop(con, tmp_path):
    f = _csv(tmp_path, "dez.csv", ["1;K1;01.12.2025;Express;10,00", "2;K2;02.12.2025;Normal;5,00"])
    [first] = import_files(con, [f], today=TODAY)
    [second] = import_files(con, [f], today=TODAY)
    assert (first.status, first.inserted) == ("done", 2)
    assert (second.status, second.previous_import_id) == ("noop", first.import_id)
    assert len(list_imports(con)) == 1
    assert len(_state(con)) == 2


def test_overlapping_export_inserts_new_updates_changed(con, tmp_path):
    nov = _csv(
        tmp_path, "nov.csv", ["1;K1;01.11.2025;Express;10,00", "2;K2;02.11.2025;Normal;5,00"]
    )
    dec = _csv(
        tmp_path,
        "dez.csv",
        [
            "2;K2;02.11.2025;Normal;5,00",  # unchanged
            "1;K1;01.11.2025;Express;12,50",  # changed
            "3;K1;03.12.2025;Kurier;7,00",
        ],
    )  # new
    import_files(con, [nov], today=TODAY)
    [res] = import_files(con, [dec], today=TODAY)
    assert (res.inserted, res.updated, res.unchanged) == (1, 1, 1)
    assert _state(con) == [
        ("1", "K1", "2025-11-01", "express", 12.5, 2, 3),
        ("2", "K2", "2025-11-02", "standard", 5.0, 1, 3),
        ("3", "K1", "2025-12-03", "express", 7.0, 2, 4),
    ]
    log = list_imports(con)
    assert log[["rows_inserted", "rows_updated", "rows_unchanged"]].values.tolist() == [
        [1, 1, 1],
        [2, 0, 0],
    ]


def test_undo_restores_exactly_the_previous_rows(con, tmp_path):
    nov = _csv(
        tmp_path, "nov.csv", ["1;K1;01.11.2025;Express;10,00", "2;K2;02.11.2025;Normal;5,00"]
    )
    dec = _csv(tmp_path, "dez.csv", ["1;K9;05.11.2025;Normal;12,50", "3;K1;03.12.2025;Kurier;7"])
    import_files(con, [nov], today=TODAY)
    before = _state(con)
    [res] = import_files(con, [dec], today=TODAY)
    assert _state(con) != before
    out = undo_import(con, res.import_id, "tester")
    assert out == {"import_id": 2, "table": "shipments", "deleted": 1, "restored": 1}
    assert _state(con) == before
    assert list_imports(con)["status"].tolist() == ["undone", "done"]
    actions = con.execute("SELECT action FROM audit_log ORDER BY audit_id").fetchall()
    assert [a[0] for a in actions if a[0].startswith("import")] == [
        "import",
        "import",
        "import_undo",
    ]
    # The same content can be imported again after an undo.
    [again] = import_files(con, [dec], today=TODAY)
    assert (again.status, again.inserted, again.updated) == ("done", 1, 1)


def test_undo_refuses_when_a_later_import_changed_the_rows(con, tmp_path):
    a = _csv(tmp_path, "a.csv", ["1;K1;01.11.2025;Express;10,00"])
    b = _csv(tmp_path, "b.csv", ["1;K1;01.11.2025;Express;11,00"])
    [ra] = import_files(con, [a], today=TODAY)
    [rb] = import_files(con, [b], today=TODAY)
    with pytest.raises(KamError) as exc:
        undo_import(con, ra.import_id)
    assert exc.value.code == "undo_conflict"
    undo_import(con, rb.import_id)
    undo_import(con, ra.import_id)
    assert _state(con) == []


def test_dry_run_writes_nothing(con, tmp_path):
    f = _csv(tmp_path, "x.csv", ["1;K1;01.11.2025;Express;10,00"])
    [res] = import_files(con, [f], dry_run=True, today=TODAY)
    assert (res.status, res.inserted) == ("dry_run", 1)
    assert _state(con) == [] and list_imports(con).empty


def test_synonym_suggestions():
    headers = ["Kunden-Nr.", "Lieferschein-Nr.", "Versandbedingung", "Freight Cost", "Datum"]
    assert suggest_columns(headers, "shipments") == {
        "shipment_id": "Lieferschein-Nr.",
        "account_id": "Kunden-Nr.",
        "ship_mode": "Versandbedingung",
        "freight_cost": "Freight Cost",
        # A plain "Datum" is the ship date when the file names no more specific date.
        "ship_date": "Datum",
    }


@pytest.mark.parametrize(
    "expr",
    ["__import__('os')", "`a`.real", "`a` ** 2", "f(`a`)", "'text'", "`a` if 1 else 2", "[1]"],
)
def test_formulas_reject_anything_but_arithmetic(expr):
    with pytest.raises(ConfigError):
        compile_expression(expr)


def test_profile_roundtrip_and_auto_choice(tmp_path):
    text = (
        'table = "shipments"\n[columns]\nshipment_id = "Lieferschein-Nr."\n'
        'account_id = "Debitor"\nship_date = "Warenausgang"\nship_mode = "Versandbedingung"\n'
        '[values.ship_mode]\n"01" = "standard"\n"02" = "express"\n[defaults]\n'
        'freight_charged = 0\n[computed]\nfreight_cost = "`Fracht netto` + `Mautzuschlag`"\n'
        '[read]\nsheet = "Lieferungen"\nnull_values = ["NULL"]\ndecimal = ","\n'
        'date_format = "%d.%m.%Y"\n'
    )
    m = parse_profile(text, "sap")
    assert m.values == {"ship_mode": {"01": "standard", "02": "express"}}
    assert parse_profile(dump_profile(m), "sap") == m
    save_profile(m, "sap lieferungen", tmp_path)
    headers = [
        "Lieferschein-Nr.",
        "Debitor",
        "Warenausgang",
        "Versandbedingung",
        "Fracht netto",
        "Mautzuschlag",
        "Werk",
    ]
    assert choose_profile(headers, tmp_path).name == "sap_lieferungen"
    assert choose_profile(headers[:3], tmp_path) is None
    with pytest.raises(ConfigError):
        parse_profile('table = "shipments"\n[columns]\nnope = "X"\n')
    assert Mapping("orders").provided() == set()
