"""page_data.matrix: everything the matrix page shows, against the default catalogue."""

from __future__ import annotations

import datetime as dt

from kam_analytics import catalogue as cat
from kam_analytics.access import Scope
from kam_analytics.page_data.matrix import load_matrix, matrix_years

ADMIN = Scope("anna", "admin")


def _with_2026_matrix(con):
    # TRAINING retired; 2026 gets its own matrix where C is billed for custom packaging.
    con.execute("UPDATE service_catalogue SET active = FALSE WHERE service_code = 'TRAINING'")
    cat.update_matrix(con, 2026, {("CUSTOM_PACKAGING", "C"): "billed"}, "anna", scope=ADMIN)


def test_default_matrix_of_a_year_without_its_own(con):
    data = load_matrix(con, 2025)
    assert data.year == 2025
    assert data.source_year is None  # the default matrix
    assert len(data.table) == 12 and len(data.departments) == 12
    row = data.table.set_index("service_code").loc["CUSTOM_PACKAGING"]
    assert row["service"] == "Individuelle Verpackung / Produktpräsentation"
    assert (row["KEY"], row["A"], row["B"], row["C"]) == ("free", "billed", "billed", "not_offered")
    assert row["list_value"] == 650 and not row["exclusive"]
    assert data.editable is None  # only admins edit


def test_own_matrix_inherited_by_later_years_and_inactive_services_left_out(con):
    _with_2026_matrix(con)
    own, later = load_matrix(con, 2026, "en"), load_matrix(con, 2027, "en", admin=True)
    assert (own.source_year, later.source_year) == (2026, 2026)
    assert len(own.table) == 11 and "TRAINING" not in set(own.table["service_code"])
    packaging = own.table.set_index("service_code").loc["CUSTOM_PACKAGING"]
    assert packaging["service"] == "Custom packaging or presentation"
    assert packaging["C"] == "billed"
    # departments and the reader's catalogue: active services only; the admin's: all 12
    assert list(own.departments.columns) == ["service_code", "service", "department"]
    assert len(own.departments) == 11
    assert (
        own.departments.set_index("service_code").at["CUSTOM_DEV", "service"]
        == "Custom product or service development"
    )
    assert len(own.catalogue) == 11 and len(later.catalogue) == 12
    # the admin's editor: the printed rows with one policy per tier
    assert list(later.editable.columns) == ["service_code", "service", "KEY", "A", "B", "C"]
    assert list(later.editable["service_code"]) == list(later.table["service_code"])
    edit = later.editable.set_index("service_code").loc["CUSTOM_PACKAGING"]
    assert (edit["service"], edit["C"]) == ("Custom packaging or presentation", "billed")


def test_years_offered_are_the_saved_ones_and_the_running_and_next(con):
    assert matrix_years(con, dt.date(2026, 5, 1)) == [2026, 2027]
    _with_2026_matrix(con)
    cat.copy_matrix(con, 2026, 2023, "anna")
    assert matrix_years(con, dt.date(2026, 5, 1)) == [2023, 2026, 2027]
