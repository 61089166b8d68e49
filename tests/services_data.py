"""The small hand-built company the service, giveaway and profitability tests compute by hand.

Accounts: K1, K2 (KEY), A1 (A), B1 (B), C1, Z1 (C), N1 (no tier, no KAM). KAM M1 has K1, A1,
C1; M2 has K2, B1, Z1. The 2024 matrix is the default one with TRAINING billed for KEY and
not offered to C; 2025 and 2026 have no matrix of their own (they use 2024's), 2023 uses the
default matrix.
"""

from __future__ import annotations

import datetime as dt

from kam_analytics.catalogue import copy_matrix, update_matrix

ACCOUNTS = [
    ("K1", "Kunde Eins GmbH", "KEY", "M1"),
    ("K2", "Zwei Großhandel AG", "KEY", "M2"),
    ("A1", "Alpha KG", "A", "M1"),
    ("B1", "Beta Müller OHG", "B", "M2"),
    ("C1", "Gamma e.K.", "C", "M1"),
    ("Z1", "Zero GmbH", "C", "M2"),
    ("N1", "Ohne Stufe GmbH", None, None),
]
KAMS = [("M1", "Anna Kraus"), ("M2", "Bernd Weiß")]

# event_id, account, date, service, cost, list value, billed, billing mode, waiver
EVENTS = [
    ("E01", "K1", "2025-02-10", "INNOVATION_WS", 2400, 4500, 0, "silent", None),
    ("E02", "K1", "2025-03-05", "CUSTOM_DEV", 8000, 15000, 0, None, True),
    ("E03", "K2", "2025-04-01", "CUSTOM_DEV", 8000, 15000, 0, "silent", None),
    ("E04", "A1", "2025-05-02", "TRAINING", 900, 1800, 1800, "billed", None),
    ("E05", "A1", "2025-06-03", "TRAINING", 900, 1800, 600, None, None),
    ("E06", "B1", "2025-07-04", "INNOVATION_WS", 2400, 4500, 0, "waived", None),
    ("E07", "C1", "2025-08-05", "CUSTOM_PACKAGING", 300, 650, 650, "billed", None),
    ("E08", "N1", "2025-09-06", "TRAINING", 900, 1800, 0, "silent", None),
    ("E09", "B1", "2025-10-07", "MYSTERY_SVC", 100, 200, 0, None, None),
    ("E10", "C1", "2024-11-08", "TRAINING", 900, 1800, 0, "silent", None),
    ("E11", "C1", "2023-05-01", "TRAINING", 900, 1800, 0, "silent", None),
    ("E12", "C1", "2026-01-15", "TRAINING", 900, 1800, 900, None, None),
    ("E13", "K1", "2025-11-11", "TRAINING", None, None, None, None, None),
    ("E14", "K2", "2025-05-05", "TRAINING", 900, 9000, 0, "silent", None),
    ("E15", "B1", "2025-09-09", "CUSTOM_PACKAGING", 5000, 25000, 25000, "billed", None),
]

# shipment_id, account, date, mode, freight cost, freight charged, billing mode, waiver
SHIPMENTS = [
    ("S1", "K1", "2025-03-15", "express", 120, 0, None, True),
    ("S2", "K2", "2025-04-20", "express", 80, None, None, None),
    ("S3", "A1", "2025-05-25", "express", 95.50, 95.50, None, None),
    ("S4", "B1", "2025-06-30", "express", 60, 20, "billed", None),
    ("S5", "C1", "2025-07-31", "standard", 50, 0, None, None),
    ("S6", "A1", "2025-12-01", "express", 70.25, 0, "Silent", None),
]

# order_id, account, date, net revenue, cost of goods
ORDERS = [
    ("O1", "K1", "2025-01-10", 50000, 30000),
    ("O2", "K2", "2025-02-10", 20000, 12000),
    ("O3", "A1", "2025-03-10", 10000, 6000),
    ("O4", "B1", "2025-03-11", 8000, None),
    ("O5", "C1", "2025-04-11", 1000, 700),
    ("O6", "K1", "2024-05-01", 9999, 1),
]


def build(con) -> None:
    """Write the fixture company into `con` (a fresh database with the default catalogue)."""
    now = dt.datetime(2025, 12, 31, 9, 30)
    con.execute(
        "INSERT INTO import_log (import_id, file_name, table_name, imported_at, status) VALUES "
        "(1, 'leistungen_2025.xlsx', 'service_events', ?, 'done'), "
        "(2, 'versand_2025.csv', 'shipments', ?, 'done')",
        [now, now],
    )
    for kam_id, name in KAMS:
        con.execute("INSERT INTO kams (kam_id, name) VALUES (?, ?)", [kam_id, name])
    for acc, name, tier, kam in ACCOUNTS:
        con.execute(
            "INSERT INTO accounts (account_id, name, tier, kam_id) VALUES (?, ?, ?, ?)",
            [acc, name, tier, kam],
        )
    for n, (eid, acc, day, code, cost, value, billed, mode, waiver) in enumerate(EVENTS, 2):
        con.execute(
            "INSERT INTO service_events (event_id, account_id, date, service_code, cost, "
            "list_value, billed_amount, billing_mode, waiver, import_id, source_row) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
            [eid, acc, day, code, cost, value, billed, mode, waiver, n],
        )
    for n, (sid, acc, day, ship_mode, cost, charged, mode, waiver) in enumerate(SHIPMENTS, 2):
        con.execute(
            "INSERT INTO shipments (shipment_id, account_id, ship_date, ship_mode, freight_cost, "
            "freight_charged, billing_mode, waiver, import_id, source_row) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 2, ?)",
            [sid, acc, day, ship_mode, cost, charged, mode, waiver, n],
        )
    for oid, acc, day, revenue, cogs in ORDERS:
        con.execute(
            "INSERT INTO orders (order_id, account_id, order_date, net_revenue, cost_of_goods) "
            "VALUES (?, ?, ?, ?, ?)",
            [oid, acc, day, revenue, cogs],
        )
    copy_matrix(con, None, 2024, "admin")
    update_matrix(
        con, 2024, {("TRAINING", "KEY"): "billed", ("TRAINING", "C"): "not_offered"}, "admin"
    )
