"""Daten-Import: upload exports, preview, map columns and values, validate, import, undo."""

import pandas as pd
import streamlit as st

from kam_analytics import backup, schema
from kam_analytics.errors import ConfigError, ImportBlockedError, KamError
from kam_analytics.exports.tables import frame_to_csv_de
from kam_analytics.glossary import field_label, table_label, value_label
from kam_analytics.i18n import fmt_datetime
from kam_analytics.ingest.load import list_imports, select_history_version, undo_import
from kam_analytics.ingest.mapping import (
    auto_mapping,
    column_choices,
    detect_table,
    input_columns,
    mapping_from_table,
    mapping_table,
    merge_mapping,
    suggest_values,
)
from kam_analytics.ingest.messages import (
    grouped_problems_frame,
    localised_problems_frame,
    problem_text,
    result_text,
)
from kam_analytics.ingest.pipeline import execute_plans, plan_file
from kam_analytics.ingest.profiles import choose_profile, list_profiles, save_profile
from kam_analytics.ingest.read import list_sheets, read_source
from kam_analytics.ingest.validate import resolve_header
from ui.auth import require_page
from ui.errors import show_error
from ui.inbox_panel import show_backup_section, show_inbox_section
from ui.session import db_path, get_con, get_lang, report_database_fault, tr
from ui.text import plain
from ui.widgets import format_frame

scope = require_page(__file__)
con = get_con()
lang = get_lang()
st.title(tr("imp_title"))
st.caption(tr("imp_intro"))


@st.cache_data(show_spinner=False, max_entries=16)
def _read(data: bytes, name: str, sheet, header_row=None):
    """The file's rows (cached per content and sheet; a 100k-row export takes about a second)."""
    return read_source(data, name, sheet=sheet, header_row=header_row or None)


@st.cache_data(show_spinner=False, max_entries=16)
def _sheets(data: bytes):
    return list_sheets(data)


def read_options_section(mapping, raw, fkey) -> None:
    """Everything a profile's [read] section can say, as widgets (writes into mapping.read)."""
    read = mapping.read
    with st.expander(tr("imp_read_options")):
        o1, o2 = st.columns(2)
        orders = ["", "dmy", "mdy"]
        labels = {"": tr("imp_opt_date_auto"), "dmy": tr("imp_opt_dmy"), "mdy": tr("imp_opt_mdy")}
        order = o1.radio(
            tr("imp_opt_date_order"),
            orders,
            index=orders.index(read.get("date_order", "")),
            format_func=labels.get,
            key=f"{fkey}_date_order",
        )
        fmt = o1.text_input(
            tr("imp_opt_date_format"), value=read.get("date_format", ""), key=f"{fkey}_datefmt"
        )
        decimals = ["", ",", "."]
        dec = o2.radio(
            tr("imp_opt_decimal"),
            decimals,
            index=decimals.index(read.get("decimal", "")),
            format_func=lambda d: d or tr("imp_opt_decimal_auto"),
            horizontal=True,
            key=f"{fkey}_decimal",
        )
        nulls = o2.text_input(
            tr("imp_opt_nulls"),
            value=", ".join(read.get("null_values", []) or []),
            key=f"{fkey}_nulls",
        )
        currency = o2.text_input(
            tr("imp_opt_currency"), value=read.get("currency", "EUR"), key=f"{fkey}_cur"
        )
        zeros = o1.checkbox(
            tr("imp_opt_zeros"), value=read.get("strip_leading_zeros", True), key=f"{fkey}_zeros"
        )
        for key, value in (
            ("date_order", order),
            ("date_format", fmt.strip()),
            ("decimal", dec),
            ("currency", currency.strip().upper() if currency.strip() != "EUR" else ""),
        ):
            if value:
                read[key] = value
            else:
                read.pop(key, None)
        extra = [x.strip() for x in nulls.split(",") if x.strip()]
        if extra:
            read["null_values"] = extra
        else:
            read.pop("null_values", None)
        if zeros:
            read.pop("strip_leading_zeros", None)
        else:
            read["strip_leading_zeros"] = False
        if raw.hidden_rows:
            read["skip_hidden"] = st.checkbox(
                tr("imp_opt_hidden", n=len(raw.hidden_rows)),
                value=bool(read.get("skip_hidden")),
                key=f"{fkey}_hidden",
            )
        if mapping.table == "orders" and "line_no" not in mapping.columns:
            choice = st.radio(
                tr("imp_opt_identical"),
                ["keep_both", "keep_one"],
                index=1 if read.get("identical_lines") == "keep_one" else 0,
                format_func=lambda c: tr(f"imp_opt_{c}"),
                horizontal=True,
                key=f"{fkey}_identical",
            )
            read["identical_lines"] = choice


def row_filters_section(mapping, raw, fkey) -> None:
    """The profile's [filters]: keep rows where a column has given values, skip empty ones."""
    filters = mapping.filters
    with st.expander(tr("imp_filters")):
        f1, f2 = st.columns(2)
        keep = filters.get("keep") or {}
        current = next(iter(keep), None)
        options = [None, *raw.headers]
        col = f1.selectbox(
            tr("imp_filter_keep_col"),
            options,
            index=options.index(current) if current in options else 0,
            format_func=lambda h: h or tr("imp_filter_none"),
            key=f"{fkey}_keep_col",
        )
        if col:
            values = suggest_values(raw.frame[col], "", None)["value"].tolist()
            chosen = f2.multiselect(
                tr("imp_filter_keep_values"),
                values,
                default=[v for v in keep.get(col, []) if v in values],
                key=f"{fkey}_keep_values",
            )
            filters["keep"] = {col: chosen} if chosen else {}
        else:
            filters.pop("keep", None)
        empty = st.multiselect(
            tr("imp_filter_skip_empty"),
            raw.headers,
            default=[h for h in filters.get("skip_empty", []) if h in raw.headers],
            key=f"{fkey}_skip_empty",
        )
        if empty:
            filters["skip_empty"] = empty
        else:
            filters.pop("skip_empty", None)
        if not filters.get("keep"):
            filters.pop("keep", None)


files = st.file_uploader(
    tr("imp_upload"),
    type=["xlsx", "xlsm", "xls", "xlsb", "ods", "csv", "txt"],
    accept_multiple_files=True,
)
plans = []
profiles = {p.name: p for p in list_profiles()}
tables = list(schema.IMPORTABLE_TABLES)

for n, upload in enumerate(files or []):
    data = upload.getvalue()
    fkey = f"imp_{n}_{upload.name}"
    with st.expander(plain(upload.name), expanded=True):
        try:
            sheets = _sheets(data)
        except ImportBlockedError:
            sheets = []
        c1, c2, c3 = st.columns(3)
        sheet = None
        if len(sheets) > 1:
            sheet = c1.selectbox(tr("imp_sheet"), sheets, key=f"{fkey}_sheet")
        header_pick = c1.number_input(
            tr("imp_header_row_pick"), min_value=0, value=0, step=1, key=f"{fkey}_header"
        )
        try:
            raw = _read(data, upload.name, sheet, int(header_pick))
        except ImportBlockedError as exc:
            st.error(plain(problem_text(exc.problems[0], lang)))
            continue
        saved = choose_profile(raw.headers)
        names = [None, *profiles]
        pick = c2.selectbox(
            tr("imp_profile"),
            names,
            index=names.index(saved.name) if saved else 0,
            format_func=lambda x: x or tr("imp_profile_auto"),
            key=f"{fkey}_profile",
        )
        profile = profiles.get(pick) if pick else None
        guess = profile.table if profile else (detect_table(raw.headers)[0] or tables[0])
        table = c3.selectbox(
            tr("imp_table"),
            tables,
            index=tables.index(guess),
            format_func=lambda name: table_label(name, lang),
            key=f"{fkey}_table",
        )
        st.caption(tr("imp_header_row", row=raw.header_row, n=len(raw.frame)))
        st.markdown(f"**{tr('imp_preview')}**")
        preview = raw.frame.head(20).copy()
        preview.insert(0, "#", raw.rows[: len(preview)])
        st.dataframe(preview.astype("str"), hide_index=True, height=250)

        auto = auto_mapping(raw.headers, table)
        # A (partial) profile is merged over the automatic mapping, as on the command line.
        base = merge_mapping(auto, profile) if profile and profile.table == table else auto
        st.markdown(f"**{tr('imp_mapping')}**")
        st.caption(tr("imp_mapping_help"))
        editor = mapping_table(base)
        editor["confidence"] = [
            tr(f"imp_conf_{c}") if isinstance(c, str) else "" for c in editor["confidence"]
        ]
        # The field in words; its code ("column", what mapping_from_table reads) stays hidden.
        editor.insert(0, "field", [field_label(table, c, lang) for c in editor["column"]])
        # Streamlit draws an empty editable cell as a grey "None", an empty text as nothing
        # (a selectbox cell stays "None" either way: tests/raw_values.py, table_problems).
        for name in ("source", "constant", "formula"):
            editor[name] = editor[name].fillna("")
        edited = st.data_editor(
            editor,
            hide_index=True,
            disabled=["field", "column", "required", "confidence"],
            column_config={
                "field": st.column_config.TextColumn(tr("imp_col_canonical"), width="medium"),
                "column": None,
                "required": st.column_config.CheckboxColumn(tr("imp_col_required")),
                "source": st.column_config.SelectboxColumn(
                    tr("imp_col_source"), options=raw.headers
                ),
                "confidence": st.column_config.TextColumn(tr("imp_col_confidence")),
                "constant": st.column_config.TextColumn(tr("imp_col_constant")),
                "formula": st.column_config.TextColumn(tr("imp_col_formula")),
            },
            key=f"{fkey}_{table}_{pick}_map",
        )
        mapping = mapping_from_table(edited, table, base)
        if sheet:
            mapping.read["sheet"] = sheet
        if header_pick:
            mapping.read["header_row"] = int(header_pick)
        read_options_section(mapping, raw, fkey)
        row_filters_section(mapping, raw, fkey)

        category_cols = [
            c.name
            for c in schema.IMPORTABLE_TABLES[table].columns
            if c.kind == "category" and c.name in mapping.columns
        ] + [
            c
            for c, kind in input_columns(table).items()
            if kind == "category" and c in mapping.columns
        ]
        if category_cols:
            st.markdown(f"**{tr('imp_values')}**")
            vcols = st.columns(len(category_cols))
            for vc, col in zip(vcols, category_cols, strict=True):
                header = resolve_header(raw.headers, mapping.columns[col])
                if header is None:
                    continue
                sugg = suggest_values(raw.frame[header], col, mapping.values.get(col))
                choices = list(column_choices(col) or ())
                vc.caption(field_label(table, col, lang))
                ved = vc.data_editor(
                    sugg,
                    hide_index=True,
                    disabled=["value", "rows"],
                    column_config={
                        "value": st.column_config.TextColumn(tr("imp_value_file")),
                        "rows": st.column_config.NumberColumn(tr("imp_value_rows")),
                        "canonical": st.column_config.SelectboxColumn(
                            tr("imp_value_canonical"),
                            options=choices,
                            format_func=lambda code, col=col: value_label(col, code, lang),
                        ),
                    },
                    key=f"{fkey}_{table}_{pick}_{col}_values",
                )
                mapping.values[col] = {
                    str(r["value"]): str(r["canonical"])
                    for r in ved.to_dict(orient="records")
                    if isinstance(r["canonical"], str) and r["canonical"]
                }

        s1, s2 = st.columns([3, 1])
        pname = s1.text_input(tr("imp_profile_name"), value=pick or "", key=f"{fkey}_pname")
        if s2.button(tr("imp_save_profile"), key=f"{fkey}_save"):
            try:
                path = save_profile(mapping, pname)
                st.success(tr("imp_profile_saved", path=plain(path)))
            except ConfigError as exc:
                show_error(exc)

        try:
            mapping.check()
            plan = plan_file(data, upload.name, mapping=mapping, sheet=sheet, con=con)
        except KamError as exc:
            show_error(exc)
            continue
        plans.append(plan)
        st.markdown(f"**{tr('imp_report')}**")
        problems = plan.all_problems
        errors = [p for p in problems if p.severity == "error"]
        if plan.previous_import_id is not None:
            st.info(tr("imp_noop", id=plan.previous_import_id))
        if errors:
            st.error(tr("imp_blocked", n=len(errors)))
        else:
            rows = len(plan.prepared.frame) if plan.prepared is not None else 0
            st.success(tr("imp_ok", rows=rows))
        if problems:
            st.caption(tr("imp_warnings", n=len(problems) - len(errors)))
            st.caption(tr("imp_report_grouped"))
            grouped = grouped_problems_frame(problems, lang)
            st.dataframe(grouped.astype("str"), hide_index=True, height=250)
            report = localised_problems_frame(problems, lang)
            st.download_button(
                tr("imp_download_report"),
                frame_to_csv_de(report),
                file_name=f"pruefbericht_{upload.name}.csv",
                mime="text/csv",
                key=f"{fkey}_report",
            )

if plans:
    if st.button(tr("imp_run"), type="primary", disabled=any(p.blocked for p in plans)):
        bar = st.progress(0.0, text=tr("imp_running"))
        try:
            if any(p.previous_import_id is None for p in plans):
                backup.auto_backup(con, db_path(), "before-import")
            results = execute_plans(
                con,
                plans,
                username=scope.username,
                progress=lambda share, text: bar.progress(min(share, 1.0), text=text),
            )
            bar.progress(1.0, text=tr("imp_done"))
            for r in results:
                st.success(plain(result_text(r, lang)))
            st.cache_data.clear()
        except KamError as exc:
            show_error(exc)
        except Exception as exc:  # disk full: the next run reconnects (ui/session.get_con)
            if not report_database_fault(exc):
                raise


def _drop_pending_undo() -> None:
    st.session_state.pop("imp_undo_pending", None)


# The pending undo lives in session_state, so that the dialog survives a full rerun and
# closing it (x, Esc, Abbrechen) forgets it.
@st.dialog(tr("imp_undo_confirm_title"), width="large", on_dismiss=_drop_pending_undo)
def confirm_undo(row: dict, version: str) -> None:
    """Name the import that will be undone; undo exactly it, unless the history changed."""
    import_id = int(row["import_id"])
    st.markdown(tr("imp_undo_confirm_text", id=import_id))
    facts = {
        tr("imp_undo_confirm_file"): str(row["file_name"]),  # st.table shows text as it is
        tr("imp_undo_confirm_table"): tr(f"table_{row['table_name']}"),
        tr("imp_undo_confirm_rows"): tr(
            "imp_undo_confirm_rows_value",
            inserted=int(row["rows_inserted"]),
            updated=int(row["rows_updated"]),
        ),
        tr("imp_undo_confirm_time"): fmt_datetime(row["imported_at"], lang),
        tr("imp_undo_confirm_user"): str(row["username"]),
    }
    st.table(pd.DataFrame({"": list(facts), " ": list(facts.values())}).set_index(""))
    st.caption(tr("imp_undo_confirm_effect"))
    c1, c2 = st.columns(2)
    if c1.button(tr("imp_undo_confirm_button", id=import_id), type="primary"):
        _drop_pending_undo()
        try:
            res = undo_import(con, import_id, scope.username, expected_version=version)
        except KamError as exc:
            show_error(exc)
        else:
            st.session_state["imp_undo_flash"] = tr(
                "imp_undo_done",
                id=res["import_id"],
                deleted=res["deleted"],
                restored=res["restored"],
            )
            st.rerun()
    if c2.button(tr("imp_undo_cancel")):
        _drop_pending_undo()
        st.rerun()


st.subheader(tr("imp_history"))
# The undo confirmation is kept across the rerun that refreshes the history.
if undo_message := st.session_state.pop("imp_undo_flash", None):
    st.success(undo_message)
history = list_imports(con)
if history.empty:
    st.caption(tr("imp_no_history"))
else:
    shown = history.drop(columns=["sha256"]).copy()
    for col in ("imported_at", "undone_at"):
        shown[col] = [fmt_datetime(v, lang) for v in shown[col]]
    shown["status"] = [tr(f"imp_status_{v}") for v in shown["status"]]
    shown["table_name"] = [tr(f"table_{v}") for v in shown["table_name"]]
    shown = format_frame(shown.astype("object").where(shown.notna(), ""))
    st.dataframe(
        shown.rename(columns={c: tr(f"imp_hist_{c}") for c in shown.columns}), hide_index=True
    )
    done = history[history["status"] == "done"]
    if not done.empty:
        u1, u2 = st.columns([3, 1])
        labels = {
            int(r.import_id): f"{r.import_id}: {r.file_name} → {tr(f'table_{r.table_name}')} "
            f"({pd.Timestamp(r.imported_at):%d.%m.%Y %H:%M})"
            for r in done.itertuples()
        }
        # No preselection: when another admin imports meanwhile, the options change and a
        # preselected first entry would silently become their new import.
        chosen = u1.selectbox(
            tr("imp_undo_select"),
            list(labels),
            index=None,
            format_func=labels.get,
            placeholder=tr("imp_undo_placeholder"),
        )
        if u2.button(tr("imp_undo"), disabled=chosen is None) and chosen in labels:
            row = done[done["import_id"] == chosen].iloc[0].to_dict()
            st.session_state["imp_undo_pending"] = {
                "row": row,
                "version": select_history_version(con),
            }
if pending := st.session_state.get("imp_undo_pending"):
    confirm_undo(pending["row"], pending["version"])

show_inbox_section()
show_backup_section(scope.username)
