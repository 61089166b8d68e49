"""The matrix page's data: the year's matrix as printed, its basis, departments, catalogue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_analytics import catalogue as cat
from kam_analytics.departments import select_departments
from kam_analytics.exports.matrix_sheet import sheet_table
from kam_analytics.schema import TIERS


@dataclass
class MatrixData:
    """Everything the matrix page shows for one year."""

    year: int
    source_year: int | None  # the year whose matrix applies (None: the default matrix)
    table: pd.DataFrame  # the printed sheet's rows (matrix_sheet.sheet_table), codes per tier
    departments: pd.DataFrame  # active services: service_code, service (in lang), department
    catalogue: pd.DataFrame  # the catalogue (every service for an admin, else active ones)
    editable: pd.DataFrame | None  # admins: service_code, service, one policy per tier


def matrix_years(con, today: dt.date | None = None) -> list[int]:
    """Years that have a matrix, the running year and the next (a matrix is written ahead)."""
    today = today or dt.date.today()
    return sorted({*cat.matrix_years(con), today.year, today.year + 1})


def load_matrix(con, year: int, lang: str = "de", *, admin: bool = False) -> MatrixData:
    """The matrix page's figures for `year` (admin: also the full catalogue and the editor)."""
    table = sheet_table(con, year, lang)
    deps = select_departments(con)
    deps = deps[deps["active"].fillna(True).astype(bool)].reset_index(drop=True)
    deps["service"] = deps["name_en" if lang == "en" else "name_de"].fillna(deps["service_code"])
    editable = None
    if admin:
        wide = cat.matrix_wide(cat.select_matrix(con, year))
        wide = wide[wide["service_code"].isin(table["service_code"])].reset_index(drop=True)
        names = table.set_index("service_code")["service"]
        wide.insert(1, "service", list(names.loc[wide["service_code"]]))
        editable = wide[["service_code", "service", *TIERS]]
    return MatrixData(
        year=int(year),
        source_year=cat.matrix_source_year(con, year),
        table=table,
        departments=deps[["service_code", "service", "department"]],
        catalogue=cat.select_catalogue(con, active_only=not admin),
        editable=editable,
    )
