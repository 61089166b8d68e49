"""Leistungsmatrix: services × tiers, one policy per cell, one version per year; admins edit it
and the service catalogue in place, everyone else reads it. Downloads as PDF, PNG and XLSX."""

import datetime as dt

import streamlit as st

from kam_analytics import catalogue as cat
from kam_analytics.departments import save_departments
from kam_analytics.errors import KamError
from kam_analytics.exports import matrix_sheet as ms
from kam_analytics.exports.department_sheet import department_pdf
from kam_analytics.glossary import department_label, policy_label, tier_label
from kam_analytics.i18n import fmt_eur
from kam_analytics.page_data.matrix import load_matrix, matrix_years
from kam_analytics.schema import DEPARTMENTS, POLICIES, TIERS
from ui.auth import require_page
from ui.downloads import XLSX_MIME, chromium_ready, download_table
from ui.errors import show_error
from ui.session import get_con, get_lang, tr
from ui.widgets import show_table

scope = require_page(__file__)
con, lang = get_con(), get_lang()
is_admin = scope.role == "admin"
st.title(tr("mx_title"))
st.caption(tr("mx_intro"))

this_year = dt.date.today().year
years = matrix_years(con)
year = st.columns([1, 4])[0].selectbox(
    tr("year"), years, index=years.index(this_year), key="mx_year"
)
data = load_matrix(con, year, lang, admin=is_admin)
source = data.source_year
if source == year:
    st.caption(tr("mx_basis_own", year=year))
elif source is None:
    st.caption(tr("mx_basis_default"))
else:
    st.caption(tr("mx_basis_earlier", source=source))

table = data.table


def _style(df):
    """Colour each policy cell as on the printed sheet."""
    colours = {policy_label(p, lang): c for p, c in ms.POLICY_FILL.items()}
    return df.style.map(
        lambda v: f"background-color: {colours[v]}" if v in colours else "", subset=tier_cols
    )


tier_cols = [tier_label(t, lang) for t in TIERS]
shown = table.copy()
shown["service"] = [
    f"{r.service} {ms.EXCLUSIVE_MARK}" if r.exclusive else r.service for r in shown.itertuples()
]
shown["list_value"] = [fmt_eur(v, lang, 0) if v else "–" for v in shown["list_value"]]
for tier in TIERS:
    shown[tier] = [policy_label(p, lang) for p in shown[tier]]
shown = shown[["service", "unit", "list_value", *TIERS]].rename(
    columns={
        "service": tr("service"),
        "unit": tr("mx_unit"),
        "list_value": tr("mx_list_value"),
        **dict(zip(TIERS, tier_cols, strict=True)),
    }
)
# Too wide for a 1280 px projector in full: the table scrolls sideways inside itself with the
# service column pinned, so every tier column stays readable next to its service.
st.dataframe(
    _style(shown),
    hide_index=True,
    width="stretch",
    height=38 + 35 * len(shown),
    column_config={tr("service"): st.column_config.Column(pinned=True)},
)
st.caption(f"{ms.EXCLUSIVE_MARK} {tr('mx_exclusive_note')}")

# Downloads are built on click, on another thread: each gets its own cursor.
d1, d2, d3, _ = st.columns([1, 1, 1, 2])
stem = f"{tr('mx_file_prefix')}_{year}"


def _on_click(build):
    """A no-argument builder for st.download_button that uses a fresh cursor."""

    def run() -> bytes:
        cur = con.cursor()
        try:
            return build(cur, year, lang)
        finally:
            cur.close()

    return run


d1.download_button(
    tr("mx_dl_pdf"),
    _on_click(ms.matrix_pdf),
    f"{stem}.pdf",
    "application/pdf",
    key="mx_pdf",
    on_click="ignore",
    icon=":material/picture_as_pdf:",
)
d2.download_button(
    tr("mx_dl_xlsx"),
    _on_click(ms.matrix_xlsx),
    f"{stem}.xlsx",
    XLSX_MIME,
    key="mx_xlsx",
    on_click="ignore",
    icon=":material/table_view:",
)
if chromium_ready():
    # A4 landscape at 2x; kaleido takes a few seconds the first time
    d3.download_button(
        tr("dl_png"),
        _on_click(ms.matrix_png),
        f"{stem}.png",
        "image/png",
        key="mx_png_dl",
        on_click="ignore",
        icon=":material/image:",
    )
else:
    st.info(tr("dl_chromium_missing"), icon=":material/info:")

# --- departments: who delivers which service; one printable page each ------------------------
st.subheader(tr("dep_title"))
st.caption(tr("dep_caption"))
dep_view = data.departments
if is_admin:
    edited_deps = st.data_editor(
        dep_view,
        hide_index=True,
        disabled=["service_code", "service"],
        column_config={
            "service_code": None,  # the key of the save below, not shown: the name says it
            "service": tr("service"),
            "department": st.column_config.SelectboxColumn(
                tr("dep_col_department"),
                options=list(DEPARTMENTS),
                required=True,
                format_func=lambda d: department_label(d, lang),
            ),
        },
        key="dep_editor",
    )
    if st.button(tr("dep_save"), key="dep_save"):
        try:
            n = save_departments(
                con,
                scope,
                dict(zip(edited_deps["service_code"], edited_deps["department"], strict=True)),
            )
            st.toast(tr("dep_saved", n=n))
            st.rerun()
        except KamError as exc:
            show_error(exc)
else:
    shown_deps = dep_view.assign(
        department=[department_label(d, lang) for d in dep_view["department"]]
    )
    show_table(
        shown_deps[["service", "department"]],
        labels={"service": tr("service"), "department": tr("dep_col_department")},
    )


def _department_pdf(department: str):
    """A no-argument builder of one department's page, on its own cursor."""

    def run() -> bytes:
        cur = con.cursor()
        try:
            return department_pdf(cur, scope, department, year=year, lang=lang)
        finally:
            cur.close()

    return run


# side by side, each as wide as its label, wrapping onto a second row when they do not fit
department_row = st.container(horizontal=True)
for department in DEPARTMENTS:
    department_row.download_button(
        tr("dep_pdf", department=department_label(department, lang)),
        _department_pdf(department),
        f"{tr('dep_title').lower()}_{department}_{year}.pdf",
        "application/pdf",
        key=f"dep_pdf_{department}",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
    )

if not is_admin:
    st.subheader(tr("mx_catalogue_title"))
    catalogue = data.catalogue
    name_col = "name_en" if lang == "en" else "name_de"
    cat_labels = {
        "service_code": tr("mx_code"),
        name_col: tr("service"),
        "unit": tr("mx_unit"),
        "cost": tr("svc_cost"),
        "list_value": tr("mx_list_value"),
    }
    cat_cols = ["service_code", name_col, "unit", "cost", "list_value"]
    show_table(catalogue[cat_cols], cat_labels, money=("cost", "list_value"))
    download_table(
        catalogue[cat_cols],
        f"leistungskatalog_{year}",
        money_cols=("cost", "list_value"),
        labels=cat_labels,
        title=tr("mx_catalogue_title"),
        key="mx_dl_catalogue",
    )
    st.stop()

# --- admin: edit the matrix of the chosen year ----------------------------------------------
st.subheader(tr("mx_edit_title", year=year))
if source != year:
    st.info(tr("mx_edit_inherited", year=year))
wide = data.editable
policy_col = {
    tier: st.column_config.SelectboxColumn(
        tier_label(tier, lang),
        options=list(POLICIES),
        required=True,
        format_func=lambda p: policy_label(p, lang),
    )
    for tier in TIERS
}
edited = st.data_editor(
    wide,
    hide_index=True,
    height=38 + 35 * len(wide),
    disabled=["service_code", "service"],
    column_config={"service_code": tr("mx_code"), "service": tr("service"), **policy_col},
    key=f"mx_editor_{year}",
)
b1, b2, _ = st.columns([1, 2, 2])
if b1.button(tr("mx_save"), type="primary", key="mx_save"):
    try:
        n = cat.update_matrix(con, year, edited, scope.username, scope=scope)
        st.toast(tr("mx_saved", n=n, year=year))
        st.rerun()
    except KamError as exc:
        show_error(exc)
if source != year and b2.button(tr("mx_copy", year=year), key="mx_copy"):
    cat.copy_matrix(con, year, year, scope.username)
    st.rerun()

# --- admin: edit the service catalogue -------------------------------------------------------
st.subheader(tr("mx_catalogue_title"))
st.caption(tr("mx_catalogue_caption"))
catalogue = data.catalogue
edited_cat = st.data_editor(
    catalogue,
    hide_index=True,
    height=38 + 35 * (len(catalogue) + 2),
    num_rows="add",
    disabled=["sort_order"],
    column_config={
        "service_code": st.column_config.TextColumn(tr("mx_code"), required=True),
        "name_de": st.column_config.TextColumn(tr("mx_name_de")),
        "name_en": st.column_config.TextColumn(tr("mx_name_en")),
        "unit": st.column_config.TextColumn(tr("mx_unit")),
        "cost": st.column_config.NumberColumn(tr("svc_cost"), min_value=0, format="euro"),
        "list_value": st.column_config.NumberColumn(
            tr("mx_list_value"), min_value=0, format="euro"
        ),
        "surcharge_fixed": st.column_config.NumberColumn(
            tr("mx_surcharge_fixed"), min_value=0, format="euro"
        ),
        # "localized": the browser's number format (12,5); a printf format would draw 12.5
        "surcharge_pct": st.column_config.NumberColumn(
            tr("mx_surcharge_pct"), min_value=0, format="localized"
        ),
        "active": st.column_config.CheckboxColumn(tr("mx_active"), default=True),
        "sort_order": st.column_config.NumberColumn(tr("mx_sort_order")),
    },
    key="mx_catalogue_editor",
)
if st.button(tr("mx_catalogue_save"), type="primary", key="mx_catalogue_save"):
    try:
        counts = cat.save_catalogue(con, edited_cat, scope.username, scope=scope)
        st.toast(tr("mx_catalogue_saved", **counts))
        st.rerun()
    except KamError as exc:
        show_error(exc)
