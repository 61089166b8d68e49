"""Two admins on the import page: an undo confirmed for one import never undoes another."""

from __future__ import annotations

import datetime as dt

import pytest

from kam_analytics.errors import KamError
from kam_analytics.ingest.load import list_imports, select_history_version, undo_import
from kam_analytics.ingest.pipeline import import_files

TODAY = dt.date(2026, 1, 15)
HEAD = "Lieferschein-Nr.;Debitor;Warenausgang;Versandart;Frachtkosten"


def _import(con, tmp_path, n: int) -> int:
    path = tmp_path / f"lieferungen_{n}.csv"
    path.write_text(f"{HEAD}\n{n};K{n};0{n}.12.2025;Normal;{n},00\n", encoding="utf-8")
    [res] = import_files(con, [path], today=TODAY, username=f"admin{n}")
    return res.import_id


def _status(con) -> dict[int, str]:
    return {int(r.import_id): r.status for r in list_imports(con).itertuples()}


def test_admin_a_confirms_after_admin_b_imported_nothing_of_b_undone(con, tmp_path):
    ids = [_import(con, tmp_path, n) for n in range(1, 6)]
    a_chosen = ids[-1]  # A picks the newest import, opens the dialog ...
    a_version = select_history_version(con)
    b_import = _import(con, tmp_path, 8)  # ... B imports meanwhile ...
    with pytest.raises(KamError) as info:  # ... A confirms.
        undo_import(con, a_chosen, "admin_a", expected_version=a_version)
    assert info.value.code == "history_changed"
    assert info.value.params == {"id": a_chosen}
    assert _status(con)[b_import] == "done"
    assert _status(con)[a_chosen] == "done"
    # A looks again and confirms with the current history: exactly the chosen import goes.
    undo_import(con, a_chosen, "admin_a", expected_version=select_history_version(con))
    status = _status(con)
    assert status[a_chosen] == "undone" and status[b_import] == "done"
    rows = con.execute("SELECT shipment_id FROM shipments ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "8"]


def test_an_undo_by_b_also_changes_the_history(con, tmp_path):
    first, second = _import(con, tmp_path, 1), _import(con, tmp_path, 2)
    version = select_history_version(con)
    undo_import(con, second, "admin_b")
    with pytest.raises(KamError) as info:
        undo_import(con, first, "admin_a", expected_version=version)
    assert info.value.code == "history_changed"
    assert _status(con) == {first: "done", second: "undone"}


def test_unchanged_history_undoes_the_named_import(con, tmp_path):
    first, second = _import(con, tmp_path, 1), _import(con, tmp_path, 2)
    undo_import(con, first, "admin_a", expected_version=select_history_version(con))
    assert _status(con) == {first: "undone", second: "done"}


def test_history_changed_message_in_german():
    from kam_analytics.ingest.messages import localise_error

    exc = KamError(
        "The import history changed since import 5 was chosen for undo (another import or "
        "undo happened meanwhile); nothing was undone",
        "Check the history list again and confirm the undo once more.",
        code="history_changed",
        params={"id": 5},
    )
    assert localise_error(exc, "en") == (exc.message, exc.hint)
    message, _hint = localise_error(exc, "de")
    assert message.startswith("Die Import-Historie hat sich geändert, seit Import 5")


def test_import_page_dialog_names_the_import_and_undoes_only_it(demo_copy, tmp_path, monkeypatch):
    """The page: nothing preselected; the dialog names id, file, table, rows; confirm undoes it."""
    from test_app_smoke import signed_in_app

    from kam_analytics import db

    db_path = demo_copy
    con = db.connect(db_path)
    first, second = _import(con, tmp_path, 1), _import(con, tmp_path, 2)
    con.close()
    at = signed_in_app(db_path, monkeypatch)
    at.switch_page("pages/data_import.py").run()
    assert not at.exception
    undo_box = next(s for s in at.selectbox if s.label == "Import")
    assert undo_box.value is None  # nothing preselected
    undo_button = next(b for b in at.button if b.label == "Import rückgängig machen")
    assert undo_button.disabled
    undo_box.set_value(first).run()
    next(b for b in at.button if b.label == "Import rückgängig machen").click().run()
    assert not at.exception
    texts = " ".join(str(m.value) for m in at.markdown)
    assert f"Import **{first}** wird rückgängig gemacht" in texts
    table = at.table[0].value
    assert list(table.iloc[:, 0]) == [
        "lieferungen_1.csv",
        "Lieferungen",
        "1 neu, 0 geändert",
    ] + list(table.iloc[3:, 0])
    next(b for b in at.button if b.label == f"Ja, Import {first} rückgängig machen").click().run()
    assert not at.exception
    con = db.connect(db_path)
    status = _status(con)
    assert (status[first], status[second]) == ("undone", "done")
    assert sum(v == "undone" for v in status.values()) == 1
    con.close()


def test_import_page_two_admins_b_imports_while_a_confirms(demo_copy, tmp_path, monkeypatch):
    from test_app_smoke import signed_in_app

    from kam_analytics import db

    con = db.connect(demo_copy)
    chosen = _import(con, tmp_path, 5)
    con.close()
    at = signed_in_app(demo_copy, monkeypatch)
    at.switch_page("pages/data_import.py").run()
    next(s for s in at.selectbox if s.label == "Import").set_value(chosen).run()
    next(b for b in at.button if b.label == "Import rückgängig machen").click().run()
    # Admin B, in another session, imports while A's dialog is open.
    con = db.connect(demo_copy)
    b_import = _import(con, tmp_path, 8)
    con.close()
    next(b for b in at.button if b.label == f"Ja, Import {chosen} rückgängig machen").click().run()
    assert not at.exception
    # the renderer escapes Markdown (plain()): compare without the escapes
    assert any(
        "Die Import-Historie hat sich geändert" in e.value.replace("\\", "") for e in at.error
    )
    con = db.connect(demo_copy)
    status = _status(con)
    assert (status[chosen], status[b_import]) == ("done", "done")
    assert "undone" not in status.values()
    con.close()
