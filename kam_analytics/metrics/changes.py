"""What changed between two data states (snapshots.py): the monthly review's change report.

Sections (each a list of rows, worst first where money is involved):
- ``new_finding``: giveaway findings that were not there before, with their leakage;
- ``leakage_tier`` / ``leakage_kam``: leakage before -> after per tier and per KAM;
- ``at_risk``: accounts that became at risk (with the signals), ``lost``: accounts lost since,
  ``recovered``: at risk or lost before, neither now; ``quiet``: key accounts whose order gap
  signal fired since (gone quiet: no order for longer than usual);
- ``tier``: tier changes; ``key_new`` / ``key_removed``: accounts that became / stopped being
  key accounts; ``abc``: accounts whose ABC suggestion now differs from their tier (a key
  account differs when it is no A by revenue);
- ``bonus``: each KAM's bonus standing before -> after. Management sees every KAM; a KAM only
  her own accounts and her own bonus. Rows are ordered by id: nothing ranks KAMs.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_analytics import snapshots
from kam_analytics.access import Scope
from kam_analytics.errors import NotFoundError, Reason

SECTIONS = (
    "new_finding",
    "leakage_tier",
    "leakage_kam",
    "at_risk",
    "lost",
    "recovered",
    "quiet",
    "tier",
    "key_new",
    "key_removed",
    "abc",
    "bonus",
)
REPORT_COLUMNS = [
    "section",
    "account_id",
    "name",
    "kam_id",
    "tier",
    "detail",
    "before",
    "after",
    "change",
]


def _visible(con, scope: Scope) -> set[str]:
    rows = con.execute("SELECT account_id FROM visible_accounts(?)", [scope.kam_param]).fetchall()
    return {r[0] for r in rows}


def _abc_differs(tier, abc) -> bool:
    if not tier or not abc:
        return False
    return abc != ("A" if tier == "KEY" else tier)


def compare_states(con, before: dict, after: dict, scope: Scope) -> pd.DataFrame:
    """The change report's rows (REPORT_COLUMNS) from `before` to `after`, in the scope."""
    visible = _visible(con, scope)
    acc_b = {a["account_id"]: a for a in before.get("accounts", []) if a["account_id"] in visible}
    acc_a = {a["account_id"]: a for a in after.get("accounts", []) if a["account_id"] in visible}
    rows: list[dict] = []

    def add(section, acc=None, detail="", b=None, a=None, change=None, **extra):
        rec = acc or {}
        rows.append(
            {
                "section": section,
                "account_id": rec.get("account_id"),
                "name": rec.get("name"),
                "kam_id": rec.get("kam_id"),
                "tier": rec.get("tier"),
                "detail": detail,
                "before": b,
                "after": a,
                "change": change,
                **extra,
            }
        )

    def key(f):
        return (f["source_table"], str(f["source_id"]), f["finding"])

    f_b = [f for f in before.get("findings", []) if f["account_id"] in visible]
    f_a = [f for f in after.get("findings", []) if f["account_id"] in visible]
    old = {key(f) for f in f_b}
    new = sorted(
        (f for f in f_a if key(f) not in old),
        key=lambda f: (-(f["leakage"] or 0), f["account_id"], str(f["source_id"])),
    )
    for f in new:
        acc = acc_a.get(f["account_id"], {"account_id": f["account_id"]})
        add(
            "new_finding",
            acc,
            f"{f['finding']}:{f['service_code']}",
            None,
            f["leakage"],
            f["leakage"],
        )

    for section, field in (("leakage_tier", "tier"), ("leakage_kam", "kam_id")):

        def totals(findings, accounts, field=field):
            out: dict = {}
            for f in findings:
                group = accounts.get(f["account_id"], {}).get(field) or ""
                out[group] = round(out.get(group, 0.0) + float(f["leakage"] or 0), 2)
            return out

        tb, ta = totals(f_b, acc_b), totals(f_a, acc_a)
        for group in sorted(set(tb) | set(ta)):
            b, a = tb.get(group, 0.0), ta.get(group, 0.0)
            if round(a - b, 2):
                add(section, None, group, b, a, round(a - b, 2))

    for acc_id in sorted(acc_a):
        a, b = acc_a[acc_id], acc_b.get(acc_id)
        if b is None:
            if a.get("tier") == "KEY":
                add("key_new", a, "", None, "KEY")
            continue
        sig_a = {s for s in (a.get("signals") or "").split(";") if s}
        sig_b = {s for s in (b.get("signals") or "").split(";") if s}
        if a.get("at_risk") and not b.get("at_risk"):
            add("at_risk", a, ";".join(sorted(sig_a)))
        if a.get("lost") and not b.get("lost"):
            add("lost", a)
        if (b.get("at_risk") and not a.get("at_risk")) or (b.get("lost") and not a.get("lost")):
            add("recovered", a)
        if a.get("tier") == "KEY" and "order_gap" in sig_a and "order_gap" not in sig_b:
            add("quiet", a, "", b.get("days_since_last_order"), a.get("days_since_last_order"))
        if a.get("tier") != b.get("tier"):
            add("tier", a, "", b.get("tier"), a.get("tier"))
            if a.get("tier") == "KEY":
                add("key_new", a, "", b.get("tier"), "KEY")
            elif b.get("tier") == "KEY":
                add("key_removed", a, "", "KEY", a.get("tier"))
        if _abc_differs(a.get("tier"), a.get("abc")) and not _abc_differs(
            b.get("tier"), b.get("abc")
        ):
            add("abc", a, "", b.get("abc"), a.get("abc"))
    for acc_id in sorted(set(acc_b) - set(acc_a)):
        if acc_b[acc_id].get("tier") == "KEY":
            add("key_removed", acc_b[acc_id], "", "KEY", None)

    bonus_b = {s["kam_id"]: s for s in before.get("bonus", [])}
    for s in sorted(after.get("bonus", []), key=lambda s: s["kam_id"]):
        if scope.role == "kam" and s["kam_id"] != scope.kam_id:
            continue
        b = bonus_b.get(s["kam_id"], {}).get("bonus")
        change = None if b is None else round(s["bonus"] - b, 2)
        if change != 0:
            add("bonus", None, s["kam_id"], b, s["bonus"], change, name_kam=s.get("name"))
    df = pd.DataFrame(rows, columns=[*REPORT_COLUMNS, "name_kam"])
    df.loc[df["section"] == "bonus", "name"] = df.loc[df["section"] == "bonus", "name_kam"]
    df.loc[df["section"] == "bonus", "kam_id"] = df.loc[df["section"] == "bonus", "detail"]
    order = {s: i for i, s in enumerate(SECTIONS)}
    df["_o"] = df["section"].map(order)
    df = df.sort_values("_o", kind="stable").drop(columns=["_o", "name_kam"])
    # missing values as None (JSON null, empty CSV cell), not NaN
    return df.astype(object).where(df.notna(), None).reset_index(drop=True)


def resolve_states(con, since: str | int | dt.date | None) -> tuple[dict, dict, str]:
    """(before, after, what) for `since`: None = the latest import batch; an import id = from
    before that import to after the latest batch; a date = from the state then to now."""
    snaps = snapshots.select_snapshots(con)
    if snaps.empty:
        raise NotFoundError(Reason.CHANGES_NO_BATCH)
    latest = snapshots.select_snapshot(con, int(snaps["import_id"].iloc[-1]))
    if since is None:
        return latest["before"], latest["after"], f"import {latest['import_ids']}"
    if isinstance(since, dt.date) or (isinstance(since, str) and "-" in since):
        day = since if isinstance(since, dt.date) else dt.date.fromisoformat(since)
        moment = dt.datetime.combine(day, dt.time())
        before = snapshots.select_state_at(con, moment)
        if before is None:
            first = snapshots.select_snapshot(con, int(snaps["import_id"].iloc[0]))
            before = first["before"]
        return before, latest["after"], f"since {day.isoformat()}"
    snap = snapshots.select_snapshot(con, int(since))
    if snap is None:
        raise NotFoundError(Reason.CHANGES_BATCH_NOT_FOUND, since=str(since))
    return snap["before"], latest["after"], f"since import {since}"


def report_changes(
    con,
    *,
    year: int | None = None,
    as_of: dt.date | None = None,
    scope: Scope,
    since: str | None = None,
) -> pd.DataFrame:
    """`report changes [--since IMPORT_ID|DATE]`: the change report's rows."""
    before, after, _ = resolve_states(con, since)
    return compare_states(con, before, after, scope)


def describe_row(row: dict, lang: str, names: dict[str, str] | None = None) -> str:
    """One change in words (the page's list and the Markdown summary); names: service names."""
    from kam_analytics.glossary import finding_label, signals_text, tier_label
    from kam_analytics.i18n import fmt_eur, t

    section = row["section"]
    who = " ".join(str(x) for x in (row.get("account_id"), row.get("name")) if x)
    if section == "new_finding":
        finding, service = (row.get("detail") or ":").split(":", 1)
        return t(
            "chg_line_new_finding",
            lang,
            who=who,
            finding=finding_label(finding, lang),
            service=(names or {}).get(service, service),
            leakage=fmt_eur(row.get("after"), lang),
        )
    if section in ("leakage_tier", "leakage_kam"):
        group = row.get("detail") or ""
        if section == "leakage_tier":
            group = tier_label(group or None, lang)
        return t(
            f"chg_line_{section}",
            lang,
            group=group or "–",
            before=fmt_eur(row.get("before"), lang),
            after=fmt_eur(row.get("after"), lang),
            change=fmt_eur(row.get("change"), lang),
        )
    if section == "at_risk":
        return t("chg_line_at_risk", lang, who=who, signals=signals_text(row.get("detail"), lang))
    if section in ("tier", "key_new", "key_removed"):

        def label(x):
            return tier_label(x, lang) if x else "–"

        return t(
            f"chg_line_{section}",
            lang,
            who=who,
            before=label(row.get("before")),
            after=label(row.get("after")),
        )
    if section == "abc":
        return t(
            "chg_line_abc",
            lang,
            who=who,
            tier=tier_label(row.get("tier"), lang),
            abc=row.get("after") or "–",
        )
    if section == "bonus":
        return t(
            "chg_line_bonus",
            lang,
            who=" ".join(str(x) for x in (row.get("kam_id"), row.get("name")) if x),
            before=fmt_eur(row.get("before"), lang),
            after=fmt_eur(row.get("after"), lang),
        )
    return t(f"chg_line_{section}", lang, who=who)


def section_title(section: str, lang: str) -> str:
    """The heading of one section (lost accounts are named as the glossary names the state)."""
    from kam_analytics.glossary import state_label
    from kam_analytics.i18n import t

    return state_label("lost", lang) if section == "lost" else t(f"chg_section_{section}", lang)


def changes_markdown(
    rows: pd.DataFrame, lang: str, title: str, names: dict[str, str] | None = None
) -> str:
    """The change report as a one-page Markdown summary to send round."""
    from kam_analytics.i18n import t

    out = [f"# {title}", ""]
    if rows.empty:
        out.append(t("chg_none", lang))
    for section in SECTIONS:
        part = rows[rows["section"] == section]
        if part.empty:
            continue
        out += ["", f"## {section_title(section, lang)}", ""]
        out += [f"- {describe_row(r, lang, names)}" for r in part.to_dict(orient="records")]
    return "\n".join(out) + "\n"
