"""The glossary: one German and one English name for each concept a user sees as a word.

Names live in kam_analytics/locales/glossary.toml as `term_<concept>_<code>`. Every page,
table header, CSV/XLSX download, deck, PDF and the CLI's human output asks this module; no
other module or locale file defines a name for these codes. Raw codes never reach a user:
an unknown code is shown as it is only because it came from the user's own data (e.g. a tier
"X" in the CRM export), and a missing one as "–" or the concept's "none" name.

Concepts and their codes:
- tier: KEY, A, B, C (schema.TIERS); "" or None = no tier
- billing_mode: silent, waived, billed (schema.BILLING_MODES)
- policy: free, waived, billed, not_offered (schema.POLICIES)
- finding: off_policy, giveaway, invisible (metrics.giveaways.FINDINGS)
- state: retained, lost, at_risk, new (a key account's retention state)
- signal: order_gap, revenue_drop, satisfaction_drop, mandate_incomplete (metrics.retention.SIGNALS)
- crm: active, lost (schema.ACCOUNT_STATUSES: the CRM's own status of an account)
- service: the service codes of the catalogue (names per language in service_catalogue)
- field: the columns of the importable tables and the import's input columns
  (schema.IMPORTABLE_TABLES, ingest.mapping.INPUT_COLUMNS), for the import page:
  `field_label(table, column)`; a column that means something else in one table has
  `term_field_<table>__<column>`
- ship: standard, express (schema.SHIP_MODES); sign: +, - (an order line's debit/credit flag)
  (the kinds of feedback keep their names fb_kind_<code> in locales/retention.toml)
"""

from __future__ import annotations

from kam_analytics.i18n import DEFAULT_LANGUAGE, load_labels, select_service_names, t

CONCEPTS = (
    "tier",
    "mode",
    "policy",
    "finding",
    "state",
    "signal",
    "crm",
    "field",
    "ship",
    "sign",
)


def term(concept: str, code, lang: str = DEFAULT_LANGUAGE) -> str:
    """The name of `code` of `concept` in `lang`; the code itself when it has none."""
    if code is None or code == "":
        return "–"
    key = f"term_{concept}_{code}"
    return t(key, lang) if key in load_labels()[lang] else str(code)


def terms(concept: str, lang: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """Every code of `concept` with its name in `lang`, in the glossary's order."""
    prefix = f"term_{concept}_"
    return {k[len(prefix) :]: v for k, v in load_labels()[lang].items() if k.startswith(prefix)}


def tier_label(tier, lang: str = DEFAULT_LANGUAGE) -> str:
    """A customer tier: KEY -> Key Account, A -> A-Kunde / A customer; none -> 'ohne Kundenstufe'."""
    if tier is None or tier == "":
        return t("term_tier_none", lang)
    return term("tier", tier, lang)


def key_accounts_label(lang: str = DEFAULT_LANGUAGE) -> str:
    """The plural of the KEY tier for headings: Key Accounts / Key accounts."""
    return t("term_tiers_KEY", lang)


def billing_mode_label(mode, lang: str = DEFAULT_LANGUAGE) -> str:
    """How a service was handled, in words: invoiced, shown but waived, silent."""
    return term("mode", mode, lang)


def policy_label(policy, lang: str = DEFAULT_LANGUAGE) -> str:
    """An entitlement policy in words: free, waived, billed, not offered."""
    return term("policy", policy, lang)


def finding_label(kind, lang: str = DEFAULT_LANGUAGE) -> str:
    """A giveaway-report finding in words: off policy, giveaway, invisible value."""
    return term("finding", kind, lang)


def state_label(state, lang: str = DEFAULT_LANGUAGE) -> str:
    """A key account's retention state in words: retained, lost, at risk, new."""
    return term("state", state, lang)


def signal_label(signal, lang: str = DEFAULT_LANGUAGE) -> str:
    """An at-risk signal's short name: order gap, revenue drop, ..."""
    return term("signal", signal, lang)


def department_label(department, lang: str = DEFAULT_LANGUAGE) -> str:
    """A department that delivers services: Innendienst, Logistik, ... (departments.py)."""
    return term("department", department, lang)


def signals_text(signals, lang: str = DEFAULT_LANGUAGE) -> str:
    """'order_gap;revenue_drop' (as compute_retention stores them) as words, or '–'."""
    parts = [s for s in str(signals or "").split(";") if s]
    return ", ".join(signal_label(s, lang) for s in parts) or "–"


def role_label(role, lang: str = DEFAULT_LANGUAGE) -> str:
    """A user's role in words (admin -> Administration); names in locales/auth.toml."""
    if role is None or role == "":
        return "–"
    key = f"role_{role}"
    return t(key, lang) if key in load_labels()[lang] else str(role)


def table_label(table, lang: str = DEFAULT_LANGUAGE) -> str:
    """A table of the database in words, e.g. where a service came from: shipments -> Lieferungen."""
    if table is None or table == "":
        return "–"
    key = f"table_{table}"
    return t(key, lang) if key in load_labels()[lang] else str(table)


def field_label(table, column, lang: str = DEFAULT_LANGUAGE) -> str:
    """A column of an import (a target field) in words: accounts.customer_since -> Kunde seit."""
    if column is None or column == "":
        return "–"
    labels = load_labels()[lang]
    for key in (f"term_field_{table}__{column}", f"term_field_{column}"):
        if key in labels:
            return t(key, lang)
    return str(column)


# Categorical import columns whose allowed values are codes of a glossary concept.
_VALUE_CONCEPTS = {
    "tier": "tier",
    "status": "crm",
    "billing_mode": "mode",
    "ship_mode": "ship",
    "debit_credit": "sign",
}


def value_label(column, code, lang: str = DEFAULT_LANGUAGE) -> str:
    """An allowed value of a categorical import column in words (express -> Expressversand);
    the code itself for a column without a concept."""
    if column == "tier":
        return tier_label(code, lang)
    if column == "kind" and code not in (None, ""):  # feedback kinds: locales/retention.toml
        key = f"fb_kind_{code}"
        return t(key, lang) if key in load_labels()[lang] else str(code)
    concept = _VALUE_CONCEPTS.get(column)
    return term(concept, code, lang) if concept else ("–" if code in (None, "") else str(code))


def service_label(con, code, lang: str = DEFAULT_LANGUAGE) -> str:
    """A service's name in `lang` from the catalogue (the code when it is not in it)."""
    if code is None or code == "":
        return "–"
    return select_service_names(con, lang).get(code, str(code))


# Columns whose values are codes of a glossary concept, and how each is named.
_CODE_COLUMNS = {
    "tier": tier_label,
    "billing_mode": billing_mode_label,
    "policy": policy_label,
    "finding": finding_label,
    "signals": signals_text,
    "status": lambda code, lang: term("crm", code, lang),
    "source_table": table_label,
    "department": department_label,
}


def name_codes(df, lang: str = DEFAULT_LANGUAGE):
    """A copy of `df` whose code columns (tier, billing_mode, policy, finding, signals,
    status, source_table, department) hold the glossary's names instead of codes, for tables
    and downloads. A name already in place stays (it is no code)."""
    out = df.copy()
    for column, name in _CODE_COLUMNS.items():
        if column in out:
            out[column] = [
                "–"
                if code is None or (isinstance(code, float) and code != code)
                else name(code, lang)
                for code in out[column]
            ]
    return out


# The header of each report column (reports.REPORTS): the words its page shows. A string is a
# locale key, a pair (concept, code) a glossary name; (kind, column) wins over the column.
_REPORT_COLUMNS = {
    "account_id": "svc_account_id",
    "name": "account",
    "tier": "tier",
    "kam_id": "svc_kam_id",
    "cost": "svc_cost",
    "list_value": "svc_list_value",
    "billed_amount": "svc_billed",
    "unbilled_value": "svc_unbilled",
    "value_silent": ("mode", "silent"),
    "value_waived": ("mode", "waived"),
    "value_billed": ("mode", "billed"),
    "abc": "abc_col",
    "source_table": "svc_source_table",
    "source_id": "svc_source_id",
    "service_code": "service",
    "date": "svc_date",
    "billing_mode": "svc_billing_mode",
    "policy": "gv_policy",
    "finding": "gv_finding",
    "leakage": "gv_leakage",
    "active_start": "col_active_start",
    "active_end": "col_active_end",
    "retained": ("state", "retained"),
    "at_risk": ("state", "at_risk"),
    "lost": ("state", "lost"),
    "signals": "ret_signals",
    "status": "ret_status",
    "R": "rep_col_R",
    "M": "rep_col_M",
    "F": "rep_col_F",
    "target_bonus": "st_target_bonus",
    "bonus": "bonus_now",
    "bonus_best": "bonus_best",
    "bonus_worst": "bonus_worst",
    "year": "year",
    "start": "rep_col_start",
    "as_of": "as_of",
    "key_accounts": ("tiers", "KEY"),
    "key_active_start": "rep_col_key_active_start",
    "key_retained": "rep_col_key_retained",
    "key_lost": "rep_col_key_lost",
    "key_at_risk": "rep_col_key_at_risk",
    "retention": "ov_retention",
    "revenue": "ov_revenue",
    "revenue_prev": "rep_col_revenue_prev",
    "service_value": "ov_service_value",
    "unbilled_share": "ov_unbilled_share",
    "department": "dep_col_department",
    "KEY": ("tier", "KEY"),
    "A": ("tier", "A"),
    "B": ("tier", "B"),
    "C": ("tier", "C"),
    "month": "svc_month",
    "findings": "rep_col_findings",
    "findings_off_policy": ("finding", "off_policy"),
    "findings_giveaway": ("finding", "giveaway"),
    "findings_invisible": ("finding", "invisible"),
    "method": "bt_col_method",
    "accounts": "bt_col_accounts",
    "flagged": "bt_col_flagged",
    "flagged_lost": "bt_col_flagged_lost",
    "unflagged_lost": "rep_col_unflagged_lost",
    "precision": "bt_col_precision",
    "recall": "bt_col_recall",
    "lost_rate_unflagged": "rep_col_lost_rate_unflagged",
    "auc": "bt_col_auc",
    "section": "rep_col_section",
    "detail": "rep_col_detail",
    "before": "rep_col_before",
    "after": "rep_col_after",
    "change": "rep_col_change",
    ("bonus", "name"): "col_name",
    ("bonus", "accounts"): "st_accounts_counted",
    ("departments", "leakage"): "dep_col_leakage",
}


def report_label(kind, lang: str = DEFAULT_LANGUAGE) -> str:
    """A report kind's name, its workbook's sheet: services -> Leistungen."""
    key = f"rep_sheet_{kind}"
    return t(key, lang) if key in load_labels()[lang] else str(kind)


def report_column_label(kind, column, lang: str = DEFAULT_LANGUAGE) -> str:
    """The header of a report column in words: services' list_value -> Listenwert."""
    name = _REPORT_COLUMNS.get((kind, column), _REPORT_COLUMNS.get(column))
    if name is None:
        return str(column)
    return term(*name, lang) if isinstance(name, tuple) else t(name, lang)


def method_label(method, lang: str = DEFAULT_LANGUAGE) -> str:
    """A back-test method in words: flags -> Warnsignale, recency -> Am längsten ohne Auftrag."""
    key = f"bt_method_{method}"
    return t(key, lang) if key in load_labels()[lang] else str(method)


def section_label(section, lang: str = DEFAULT_LANGUAGE) -> str:
    """A section of the change report in words: at_risk -> Neu gefährdet."""
    key = f"chg_section_{section}"
    return t(key, lang) if key in load_labels()[lang] else str(section)
