"""Which department delivers each catalogue service, and the matrix and giveaways per department.

Key account management is a whole-company approach: inside sales, logistics, marketing,
development and quality each deliver part of what an account gets. Every catalogue service has
one owning department (defaults below, changed by admins, audited); the department view lists
that department's rows of the entitlement matrix and its share of the giveaway report of the
last complete month.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_analytics.access import Scope
from kam_analytics.audit import write_audit
from kam_analytics.catalogue import matrix_wide, select_catalogue, select_matrix
from kam_analytics.errors import ConfigError, Reason
from kam_analytics.metrics.giveaways import FINDINGS, select_findings
from kam_analytics.periods import resolve_period
from kam_analytics.schema import DEPARTMENTS, TIERS
from kam_analytics.write_log import writing

# The default owner of each default service; a service added later belongs to inside sales
# (the key account manager's own team) until an admin says otherwise.
DEFAULT_DEPARTMENTS = {
    "SHORTAGE_SUPPLY": "logistics",
    "INNOVATION_WS": "development",
    "DEDICATED_CONTACT": "inside_sales",
    "CUSTOM_DEV": "development",
    "CUSTOM_PACKAGING": "logistics",
    "EXCL_MARKETING": "marketing",
    "GROUP_REPORTING": "inside_sales",
    "CENTRAL_BONUS": "inside_sales",
    "TRAINING": "quality",
    "FOCUS_GROUP": "marketing",
    "SATISFACTION_SURVEY": "quality",
    "EXPRESS_FREIGHT": "logistics",
}
FALLBACK_DEPARTMENT = "inside_sales"
REPORT_COLUMNS = [
    "department",
    "service_code",
    *TIERS,
    "month",
    "findings",
    *(f"findings_{f}" for f in FINDINGS),
    "leakage",
]


def default_department(service_code: str) -> str:
    """The department a service belongs to when no admin has chosen one."""
    return DEFAULT_DEPARTMENTS.get(service_code, FALLBACK_DEPARTMENT)


def select_departments(con) -> pd.DataFrame:
    """Every catalogue service with its department (chosen or default) and whether it is chosen."""
    rows = con.execute(
        """
        SELECT c.service_code, c.name_de, c.name_en, c.active, d.department
        FROM service_catalogue c
        LEFT JOIN service_departments d USING (service_code)
        ORDER BY c.sort_order NULLS LAST, c.service_code
        """
    ).df()
    rows["chosen"] = rows["department"].notna()
    rows["department"] = [
        d if isinstance(d, str) else default_department(c)
        for c, d in zip(rows["service_code"], rows["department"], strict=True)
    ]
    return rows


def save_department(con, scope: Scope, service_code: str, department: str) -> None:
    """Set the department of one catalogue service (admins only; audited old -> new)."""
    scope.require_role("admin")
    if department not in DEPARTMENTS:
        raise ConfigError(
            Reason.DEPARTMENT_UNKNOWN, department=str(department), choices=", ".join(DEPARTMENTS)
        )
    current = select_departments(con).set_index("service_code")
    if service_code not in current.index:
        raise ConfigError(Reason.SERVICE_NOT_IN_CATALOGUE, service=str(service_code))
    old = str(current.at[service_code, "department"])
    if old == department and bool(current.at[service_code, "chosen"]):
        return
    with writing(con, "service_departments"):
        con.execute(
            "INSERT OR REPLACE INTO service_departments (service_code, department, updated_at,"
            " updated_by) VALUES (?, ?, ?, ?)",
            [service_code, department, dt.datetime.now(), scope.username],
        )
    write_audit(con, scope.username, "department_change", service_code, old, department)


def last_complete_month(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the last month complete on the as-of date (its own on a month end)."""
    if (as_of + dt.timedelta(days=1)).day == 1:
        return as_of.replace(day=1), as_of
    last = as_of.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def department_matrix(con, year: int) -> pd.DataFrame:
    """The active services with department and one policy per tier for `year`."""
    deps = select_departments(con)
    active = set(select_catalogue(con, active_only=True)["service_code"])
    wide = matrix_wide(select_matrix(con, year))
    wide = wide[wide["service_code"].isin(active)]
    out = deps[deps["service_code"].isin(wide["service_code"])][
        ["service_code", "name_de", "name_en", "department"]
    ]
    return out.merge(wide[["service_code", *TIERS]], on="service_code").reset_index(drop=True)


def department_findings(con, scope: Scope, *, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Giveaway findings (visible accounts) dated start..end, with the service's department."""
    found = select_findings(con, scope, year=start.year, as_of=end)
    if found.empty:
        return found.assign(department=pd.Series(dtype="object"))
    dates = pd.to_datetime(found["date"]).dt.date
    found = found[(dates >= start) & (dates <= end)].copy()
    deps = select_departments(con)
    owners = dict(zip(deps["service_code"], deps["department"], strict=True))
    found["department"] = [owners.get(c, default_department(c)) for c in found["service_code"]]
    return found.reset_index(drop=True)


def report_departments(
    con, *, year: int | None, as_of: dt.date | None = None, scope: Scope
) -> pd.DataFrame:
    """`report departments`: per department and service the tier policies and last month's giveaways."""
    year, as_of = resolve_period(year, as_of)
    start, end = last_complete_month(as_of)
    matrix = department_matrix(con, year)
    found = department_findings(con, scope, start=start, end=end)
    rows = []
    for rec in matrix.to_dict(orient="records"):
        mine = found[found["service_code"] == rec["service_code"]]
        row = {
            "department": rec["department"],
            "service_code": rec["service_code"],
            **{tier: rec[tier] for tier in TIERS},
            "month": start.strftime("%Y-%m"),
            "findings": int(len(mine)),
            **{f"findings_{f}": int((mine["finding"] == f).sum()) for f in FINDINGS},
            "leakage": round(float(mine["leakage"].sum()), 2),
        }
        rows.append(row)
    df = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    order = {d: i for i, d in enumerate(DEPARTMENTS)}
    df["_o"] = df["department"].map(order)
    return df.sort_values(["_o", "service_code"]).drop(columns="_o").reset_index(drop=True)


def save_departments(con, scope: Scope, chosen: dict[str, str]) -> int:
    """Set several services' departments at once ({service_code: department}); the number changed."""
    scope.require_role("admin")
    current = dict(
        zip(*(select_departments(con)[c] for c in ("service_code", "department")), strict=True)
    )
    changed = 0
    for code, department in chosen.items():
        if current.get(code) != department:
            save_department(con, scope, code, department)
            changed += 1
    return changed
