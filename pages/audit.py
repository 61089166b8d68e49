"""Audit-Log (kam_analytics.audit.AUDIT_READERS): who did what and when, with old → new values."""

import pandas as pd
import streamlit as st

from kam_analytics.audit import action_label, audit_choices, list_audit
from kam_analytics.i18n import fmt_date
from ui.auth import require_page
from ui.downloads import download_table
from ui.session import get_con, get_lang, tr

scope = require_page(__file__)
con = get_con()
lang = get_lang()

st.title(tr("audit_title"))
st.caption(tr("audit_intro"))


def shown_action(action: str | None) -> str:
    """An action in words for the filter; None is "all"."""
    return tr("all") if action is None else action_label(action, lang)


actions, names = audit_choices(con, scope)
left, middle, right = st.columns([2, 2, 1])
action = left.selectbox(
    tr("audit_filter_action"), [None, *actions], format_func=shown_action, key="audit_action"
)
who = middle.selectbox(
    tr("audit_filter_user"),
    [None, *names],
    format_func=lambda n: tr("all") if n is None else n,
    key="audit_user",
)
limit = right.selectbox(tr("audit_limit"), [100, 500, 2000, 10000], index=1, key="audit_limit")

entries = list_audit(con, scope, limit=limit, action=action, username=who, lang=lang)
if entries.empty:
    st.info(tr("audit_empty"))
else:
    shown = pd.DataFrame(
        {
            tr("audit_col_at"): [
                f"{fmt_date(ts, lang)} {pd.Timestamp(ts):%H:%M:%S}" for ts in entries["at"]
            ],
            tr("audit_col_user"): entries["username"],
            tr("audit_col_action"): [action_label(a, lang) for a in entries["action"]],
            tr("audit_col_target"): entries["target"],
            tr("audit_col_change"): entries["change"],
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 700))
    st.caption(tr("audit_count", n=len(entries)))
    # the shown table (time as text): a date cell in Excel would drop the time of day
    download_table(shown, "audit_log", title=tr("audit_title"), key="audit_dl")
