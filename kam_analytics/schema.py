"""Every table of the KAM Analytics database, its natural key and its canonical import columns.

This is the one place the schema is declared: DDL, migrations, the import mapper and the
validators all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Bump when a table or column is added or changed; add a step to MIGRATIONS in db.py when the
# change is not purely additive (additive changes are migrated generically).
SCHEMA_VERSION = 3

TIERS = ("KEY", "A", "B", "C")
POLICIES = ("free", "waived", "billed", "not_offered")
BILLING_MODES = ("silent", "waived", "billed")
SHIP_MODES = ("standard", "express")
FEEDBACK_KINDS = ("survey", "praise", "complaint")
ACCOUNT_STATUSES = ("active", "lost")
DEPARTMENTS = ("inside_sales", "logistics", "marketing", "development", "quality")
ROLES = ("admin", "management", "kam")
REVIEW_STATUSES = ("pending", "approved", "rejected")

# Logical column kinds and their DuckDB types. Money is DECIMAL so that parts add up to totals
# to the cent (billed + unbilled = list value) instead of drifting like floats.
SQL_TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "category": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "money": "DECIMAL(18,4)",
    "rate": "DECIMAL(18,6)",
    "number": "DOUBLE",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "bool": "BOOLEAN",
    "json": "JSON",
}


@dataclass(frozen=True)
class Column:
    """One column: logical kind, whether an import must provide it, allowed values."""

    name: str
    kind: str
    required: bool = False
    choices: tuple[str, ...] | None = None
    default: str | None = None  # SQL default expression

    @property
    def sql_type(self) -> str:
        """DuckDB type of the column."""
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class Table:
    """One table: its columns, its natural key and whether users import it from exports."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    importable: bool = False
    # Every importable table also carries these, so each row can be traced to its file and row.
    lineage: bool = field(default=False)
    # Summary tables (summaries.py) are rebuilt whole: their key is not enforced by an index,
    # which would cost memory and a key check of every row at each rebuild.
    enforce_key: bool = True

    def column(self, name: str) -> Column:
        """Return the column called `name`."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        """Names of the declared columns, in order."""
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """Columns an import must provide (mapped, constant or computed)."""
        return [c.name for c in self.columns if c.required]


def C(name: str, kind: str, required: bool = False, choices=None, default=None) -> Column:  # noqa: N802
    """Shorthand constructor for a Column."""
    return Column(name, kind, required, tuple(choices) if choices else None, default)


LINEAGE_COLUMNS = (
    C("import_id", "bigint"),
    C("source_row", "int"),
)

# --- canonical tables (DOMAIN.md "Input data"): what the exports are mapped to -------------

ACCOUNTS = Table(
    "accounts",
    (
        C("account_id", "id", True),
        C("name", "text", True),
        # Not required: many CRM exports carry no tier; such accounts are imported with a
        # warning and are neither key accounts nor checked against the matrix until mapped.
        C("tier", "category", False, TIERS),
        C("kam_id", "id"),
        C("parent_id", "id"),
        C("industry", "text"),
        C("country", "text"),
        C("city", "text"),
        C("customer_since", "date"),
        C("status", "category", False, ACCOUNT_STATUSES),
    ),
    key=("account_id",),
    importable=True,
)

KAMS = Table(
    "kams",
    (
        C("kam_id", "id", True),
        C("name", "text", True),
        C("email", "text"),
        C("base_salary", "money"),
        C("target_bonus", "money"),
    ),
    key=("kam_id",),
    importable=True,
)

ORDERS = Table(
    "orders",
    (
        C("order_id", "id", True),
        C("line_no", "id", False, default="'1'"),
        C("account_id", "id", True),
        C("order_date", "date", True),
        C("net_revenue", "money", True),
        C("cost_of_goods", "money"),
        # The currency of the source row; net_revenue and cost_of_goods are stored in EUR,
        # converted with fx_rate (units of the currency per 1 EUR, 1 for EUR).
        C("currency", "text", False, default="'EUR'"),
        C("fx_rate", "rate"),
    ),
    key=("order_id", "line_no"),
    importable=True,
)

SHIPMENTS = Table(
    "shipments",
    (
        C("shipment_id", "id", True),
        C("account_id", "id", True),
        C("ship_date", "date", True),
        C("ship_mode", "category", True, SHIP_MODES),
        C("freight_cost", "money"),
        C("freight_charged", "money"),
        C("billing_mode", "category", False, BILLING_MODES),
        C("waiver", "bool"),
        C("order_id", "id"),
    ),
    key=("shipment_id",),
    importable=True,
)

SERVICE_EVENTS = Table(
    "service_events",
    (
        C("event_id", "id", True),
        C("account_id", "id", True),
        C("date", "date", True),
        C("service_code", "id", True),
        C("quantity", "number", False, default="1"),
        C("cost", "money"),
        C("list_value", "money"),
        C("billed_amount", "money"),
        C("billing_mode", "category", False, BILLING_MODES),
        C("waiver", "bool"),
    ),
    key=("event_id",),
    importable=True,
)

MANDATES = Table(
    "mandates",
    (
        C("account_id", "id", True),
        C("year", "int", True),
        C("contact", "text"),
        C("objectives", "text"),
        C("success_measures", "text"),
        C("support", "text"),
        C("contact_rating", "number"),
        C("objectives_rating", "number"),
        C("success_measures_rating", "number"),
        C("support_rating", "number"),
    ),
    key=("account_id", "year"),
    importable=True,
)

FEEDBACK = Table(
    "feedback",
    (
        C("feedback_id", "id", True),
        C("account_id", "id", True),
        C("date", "date", True),
        C("score", "number"),
        C("kind", "category", True, FEEDBACK_KINDS),
        C("comment", "text"),
    ),
    key=("feedback_id",),
    importable=True,
)

# --- reference and application tables -----------------------------------------------------

SERVICE_CATALOGUE = Table(
    "service_catalogue",
    (
        C("service_code", "id", True),
        C("name_de", "text", True),
        C("name_en", "text", True),
        C("unit", "text"),
        C("cost", "money"),
        C("list_value", "money"),
        # Express freight only: a fixed list value per shipment or a percentage on the freight
        # cost overrides "list value = freight cost".
        C("surcharge_fixed", "money"),
        C("surcharge_pct", "number"),
        C("active", "bool", default="TRUE"),
        C("sort_order", "int"),
    ),
    key=("service_code",),
)

ENTITLEMENT_MATRIX = Table(
    "entitlement_matrix",
    (
        C("year", "int", True),
        C("service_code", "id", True),
        C("tier", "category", True, TIERS),
        C("policy", "category", True, POLICIES),
    ),
    key=("year", "service_code", "tier"),
)

# The department that delivers a catalogue service (the department view of the matrix).
SERVICE_DEPARTMENTS = Table(
    "service_departments",
    (
        C("service_code", "id", True),
        C("department", "category", True, DEPARTMENTS),
        C("updated_at", "timestamp"),
        C("updated_by", "text"),
    ),
    key=("service_code",),
)

# Exchange rates the admin maintains: units of the currency per 1 EUR, for a year (month 0)
# or a month. Imports convert amounts in other currencies with them (exchange_rates.py).
EXCHANGE_RATES = Table(
    "exchange_rates",
    (
        C("currency", "text", True),
        C("year", "int", True),
        C("month", "int", True),
        C("units_per_eur", "rate"),
        C("updated_at", "timestamp"),
        C("updated_by", "text"),
    ),
    key=("currency", "year", "month"),
)

SETTINGS = Table(
    "settings",
    (
        C("key", "text", True),
        C("value", "json"),
        C("updated_at", "timestamp"),
        C("updated_by", "text"),
    ),
    key=("key",),
)

BONUS_PLANS = Table(
    "bonus_plans",
    (
        C("year", "int", True),
        C("w_retention", "number"),
        C("w_mandate", "number"),
        C("w_feedback", "number"),
        C("retention_gate", "number"),
        C("cap", "number"),
    ),
    key=("year",),
)

KAM_PAY = Table(
    "kam_pay",
    (
        C("kam_id", "id", True),
        C("year", "int", True),
        C("base_salary", "money"),
        C("target_bonus", "money"),
    ),
    key=("kam_id", "year"),
)

IMPORT_LOG = Table(
    "import_log",
    (
        C("import_id", "bigint", True),
        C("file_name", "text"),
        C("sha256", "text"),
        C("sheet", "text"),
        C("profile", "text"),
        C("table_name", "text"),
        C("rows_inserted", "int"),
        C("rows_updated", "int"),
        C("rows_unchanged", "int"),
        C("rows_rejected", "int"),
        C("username", "text"),
        C("imported_at", "timestamp"),
        C("status", "text"),  # 'done' or 'undone'
        C("undone_at", "timestamp"),
        C("notes", "json"),
    ),
    key=("import_id",),
)

# What an import changed, so that undo can restore the previous state exactly.
IMPORT_CHANGES = Table(
    "import_changes",
    (
        C("import_id", "bigint", True),
        C("table_name", "text", True),
        C("row_key", "text", True),  # JSON array of the natural key values
        C("action", "text", True),  # 'insert' or 'update'
        C("old_row", "json"),  # the row before an update
    ),
    key=("import_id", "table_name", "row_key"),
)

# The key figures before and after each import batch (snapshots.py), for the change report.
FIGURE_SNAPSHOTS = Table(
    "figure_snapshots",
    (
        C("import_id", "bigint", True),  # the batch's first import
        C("import_ids", "json"),  # every import of the batch
        C("taken_at", "timestamp"),
        C("before", "json"),
        C("after", "json"),
    ),
    key=("import_id",),
)

USERS = Table(
    "users",
    (
        C("username", "text", True),
        C("display_name", "text"),
        C("email", "text"),
        C("role", "category", True, ROLES),
        C("kam_id", "id"),
        C("password_hash", "text"),
        C("failed_attempts", "int", default="0"),
        C("locked_until", "timestamp"),
        C("created_at", "timestamp"),
        C("last_login", "timestamp"),
    ),
    key=("username",),
)

AUDIT_LOG = Table(
    "audit_log",
    (
        C("audit_id", "bigint", True),
        C("at", "timestamp", True),
        C("username", "text"),
        C("action", "text", True),
        C("target", "text"),
        C("old_value", "json"),
        C("new_value", "json"),
    ),
    key=("audit_id",),
)

# Four eyes on survey scores a KAM enters for own accounts (kam_analytics/approvals.py): one
# row per entry that needs management's decision. Feedback without a row here (imported from
# the CRM, entered by management or an admin) counts at once; see VIEW_FEEDBACK_COUNTED.
FEEDBACK_REVIEWS = Table(
    "feedback_reviews",
    (
        C("feedback_id", "id", True),
        C("status", "category", True, REVIEW_STATUSES),
        C("entered_by", "text"),
        C("entered_at", "timestamp"),
        C("decided_by", "text"),
        C("decided_at", "timestamp"),
    ),
    key=("feedback_id",),
)

# Closed bonus years (kam_analytics/closed_years.py, bonus_close.py): a year is closed while it
# has a row without reopened_at; each close issues one frozen statement per KAM.
YEAR_CLOSES = Table(
    "year_closes",
    (
        C("close_id", "bigint", True),
        C("year", "int", True),
        C("closed_at", "timestamp"),
        C("closed_by", "text"),
        C("reopened_at", "timestamp"),
        C("reopened_by", "text"),
        C("reopen_reason", "text"),
    ),
    key=("close_id",),
)

BONUS_STATEMENTS = Table(
    "bonus_statements",
    (
        C("close_id", "bigint", True),
        C("kam_id", "id", True),
        C("year", "int", True),
        C("bonus", "money"),
        C("statement", "json"),  # the whole standing as issued: figures, plan, accounts, surveys
    ),
    key=("close_id", "kam_id"),
)

# Sign-in sessions (kam_analytics/sign_in_sessions.py): one row per sign-in. The browser's
# cookie holds the session id and a signature; this row is the authority (idle expiry,
# sign-out everywhere, ended when the user's password or role changes). Only a hash of the id
# is stored, so the table cannot be replayed as cookies.
SIGN_IN_SESSIONS = Table(
    "sign_in_sessions",
    (
        C("session_hash", "text", True),  # sha256 of the id in the cookie
        C("username", "text", True),
        C("method", "text"),  # password | company
        C("created_at", "timestamp", True),
        C("last_seen", "timestamp", True),
        C("ended_at", "timestamp"),
        C("end_reason", "text"),  # user | expired | removed | password | role
        C("lang", "text"),  # the interface language chosen in this sign-in (kept through F5)
    ),
    key=("session_hash",),
)

# The key that signs sign-in cookies: created once, in the database (never in the repository).
SIGN_IN_KEYS = Table(
    "sign_in_keys",
    (
        C("name", "text", True),
        C("secret", "text", True),
        C("created_at", "timestamp"),
    ),
    key=("name",),
)

SCHEMA_META = Table(
    "schema_meta",
    (C("key", "text", True), C("value", "text")),
    key=("key",),
)

# --- summary tables (kam_analytics/summaries.py builds and refreshes them) ----------------

# The order lines per account and order date: what every per-period question about orders
# (revenue, last order, gaps, activity) needs, at a third of the rows.
ORDER_DAYS = Table(
    "order_days",
    (
        C("account_id", "id", True),
        C("order_date", "date", True),
        C("revenue", "money"),
        C("cost_of_goods", "money"),
        C("lines", "bigint"),
        C("cogs_missing", "bigint"),  # lines without a cost of goods
    ),
    key=("account_id", "order_date"),
    enforce_key=False,
)

# Per account and date, the orders whose first line of its calendar year falls on that date:
# summed over the days of a year up to a date, it is the number of distinct orders with a line
# in that part of the year (an order with lines on several dates counts once).
ORDER_STARTS = Table(
    "order_starts",
    (
        C("account_id", "id", True),
        C("order_date", "date", True),
        C("orders", "bigint"),
    ),
    key=("account_id", "order_date"),
    enforce_key=False,
)

# The service events (express shipments included, as the service_events_all view gives them)
# per account, month, service and billing mode: what the services summaries and report, the
# profitability and the giveaway totals need.
# Months, not days: the as-of month's days are read from the view (metrics/services.py).
SERVICE_MONTHS = Table(
    "service_months",
    (
        C("account_id", "id", True),
        C("month", "date", True),  # the month's first day; NULL for events without a date
        C("service_code", "id", True),
        C("billing_mode", "category", True, BILLING_MODES),
        C("events", "bigint"),
        C("quantity", "number"),
        C("cost", "money"),
        C("list_value", "money"),
        C("billed_amount", "money"),
        C("unbilled_value", "money"),
        # what the giveaway check needs of the cell's events (the finding depends on the
        # account's tier and the matrix, read at query time, not stored here): the events not
        # fully billed, their unbilled value, and the money rounded to cents per event, the
        # way a finding row hands it out
        C("unbilled_events", "bigint"),  # events with unbilled value > 0
        C("leakage_value", "money"),  # sum of greatest(unbilled value, 0)
        C("list_cents", "money"),  # sum of round(list value, 2)
        C("unbilled_cents", "money"),  # sum of round(unbilled value, 2)
        C("leakage_cents", "money"),  # sum of round(greatest(unbilled value, 0), 2)
        C("list_cents_unbilled", "money"),  # sum of round(list value, 2) if unbilled > 0
    ),
    key=("account_id", "month", "service_code", "billing_mode"),
    enforce_key=False,
)

SUMMARY_TABLES: dict[str, Table] = {t.name: t for t in (ORDER_DAYS, ORDER_STARTS, SERVICE_MONTHS)}

IMPORTABLE_TABLES: dict[str, Table] = {
    t.name: t for t in (ACCOUNTS, KAMS, ORDERS, SHIPMENTS, SERVICE_EVENTS, MANDATES, FEEDBACK)
}
APP_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        SERVICE_CATALOGUE,
        ENTITLEMENT_MATRIX,
        SERVICE_DEPARTMENTS,
        EXCHANGE_RATES,
        SETTINGS,
        BONUS_PLANS,
        KAM_PAY,
        IMPORT_LOG,
        IMPORT_CHANGES,
        FIGURE_SNAPSHOTS,
        USERS,
        AUDIT_LOG,
        FEEDBACK_REVIEWS,
        YEAR_CLOSES,
        BONUS_STATEMENTS,
        SIGN_IN_SESSIONS,
        SIGN_IN_KEYS,
        SCHEMA_META,
    )
}
ALL_TABLES: dict[str, Table] = {**IMPORTABLE_TABLES, **APP_TABLES, **SUMMARY_TABLES}

# --- bookkeeping (kam_analytics/write_log.py): not data, never restored or compared ---------

# One row per write of a table (table_name, writes = 1, a random token), inserted by the
# writer inside its own transaction; the read-only copy compares each table's count and XOR of
# tokens with the ones it recorded. Folded to one row per table now and then (same count and
# XOR). Not in ALL_TABLES: a restore keeps the file's own log, a demo's bytes stay the same.
WRITE_LOG = Table(
    "write_log",
    (
        C("table_name", "text", True),
        C("writes", "bigint", True),
        C("token", "bigint", True),
    ),
    key=("table_name", "token"),
    enforce_key=False,
)
BOOKKEEPING_TABLES: dict[str, Table] = {WRITE_LOG.name: WRITE_LOG}

SEQUENCES = ("import_id_seq", "audit_id_seq", "close_id_seq")


def table_columns(table: Table) -> tuple[Column, ...]:
    """Declared columns plus lineage columns for importable tables."""
    return table.columns + (LINEAGE_COLUMNS if table.importable else ())


def create_table_sql(table: Table, *, keys: bool = True, name: str | None = None) -> str:
    """CREATE TABLE statement for one declared table (`keys=False`: without its primary key,
    for copies; `name`: another, possibly qualified, name)."""
    cols = []
    for col in table_columns(table):
        line = f'"{col.name}" {col.sql_type}'
        if col.default is not None:
            line += f" DEFAULT {col.default}"
        cols.append(line)
    if table.enforce_key and keys:
        key = ", ".join(f'"{k}"' for k in table.key)
        cols.append(f"PRIMARY KEY ({key})")
    target = name or f'"{table.name}"'
    return f"CREATE TABLE IF NOT EXISTS {target} ({', '.join(cols)})"


# --- views and macros: derived data every metric shares -----------------------------------

# The accounts a user may see: all (k NULL) or a KAM's own accounts plus the child accounts of
# the groups they manage. Every metrics query filters through this macro with a bound kam id.
MACRO_VISIBLE_ACCOUNTS = """
CREATE OR REPLACE MACRO visible_accounts(k) AS TABLE
SELECT account_id FROM accounts
WHERE k IS NULL
   OR kam_id = k
   OR parent_id IN (SELECT account_id FROM accounts WHERE kam_id = k)
"""

# Every service given, including each express shipment as an EXPRESS_FREIGHT event. Billing
# mode is taken from the export or derived per DOMAIN.md: charged >= list value -> billed;
# charged = 0 with a waiver flag -> waived; otherwise silent.
VIEW_SERVICE_EVENTS_ALL = """
CREATE OR REPLACE VIEW service_events_all AS
WITH express AS (
    SELECT
        s.shipment_id,
        s.account_id,
        s.ship_date,
        s.freight_cost,
        COALESCE(s.freight_charged, 0) AS billed_amount,
        s.billing_mode,
        s.waiver,
        s.import_id,
        s.source_row,
        CAST(CASE
            WHEN c.surcharge_fixed IS NOT NULL THEN c.surcharge_fixed
            WHEN c.surcharge_pct IS NOT NULL
                THEN COALESCE(s.freight_cost, 0) * (1 + c.surcharge_pct / 100.0)
            ELSE COALESCE(s.freight_cost, 0)
        END AS DECIMAL(18,4)) AS list_value
    FROM shipments s
    LEFT JOIN service_catalogue c ON c.service_code = 'EXPRESS_FREIGHT'
    WHERE s.ship_mode = 'express'
),
unioned AS (
    SELECT
        'service_events' AS source_table,
        e.event_id AS source_id,
        e.account_id,
        e.date,
        e.service_code,
        COALESCE(e.quantity, 1) AS quantity,
        COALESCE(e.cost, 0) AS cost,
        COALESCE(e.list_value, 0) AS list_value,
        COALESCE(e.billed_amount, 0) AS billed_amount,
        e.billing_mode AS given_mode,
        e.waiver,
        e.import_id,
        e.source_row
    FROM service_events e
    UNION ALL
    SELECT
        'shipments', x.shipment_id, x.account_id, x.ship_date, 'EXPRESS_FREIGHT', 1,
        COALESCE(x.freight_cost, 0), x.list_value, x.billed_amount, x.billing_mode, x.waiver,
        x.import_id, x.source_row
    FROM express x
)
SELECT
    source_table, source_id, account_id, date, service_code, quantity, cost, list_value,
    billed_amount,
    CAST(list_value - billed_amount AS DECIMAL(18,4)) AS unbilled_value,
    COALESCE(CASE WHEN lower(trim(given_mode)) IN ('silent', 'waived', 'billed')
                  THEN lower(trim(given_mode)) END, CASE
        WHEN billed_amount >= list_value AND list_value > 0 THEN 'billed'
        WHEN billed_amount = 0 AND COALESCE(waiver, FALSE) THEN 'waived'
        WHEN billed_amount >= list_value THEN 'billed'
        ELSE 'silent'
    END) AS billing_mode,
    import_id,
    source_row
FROM unioned
"""

# The feedback that counts (for F and the satisfaction signal): everything except survey
# entries still pending or rejected in the four-eyes review (kam_analytics/approvals.py).
VIEW_FEEDBACK_COUNTED = """
CREATE OR REPLACE VIEW feedback_counted AS
SELECT f.* FROM feedback f
WHERE NOT EXISTS (
    SELECT 1 FROM feedback_reviews r
    WHERE r.feedback_id = f.feedback_id AND r.status <> 'approved'
)
"""

VIEWS = (MACRO_VISIBLE_ACCOUNTS, VIEW_SERVICE_EVENTS_ALL, VIEW_FEEDBACK_COUNTED)
