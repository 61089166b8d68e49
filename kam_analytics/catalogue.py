"""The default service catalogue and entitlement matrix (DOMAIN.md), and queries to read them."""

from __future__ import annotations

# code, German name, English name, unit, internal cost €, list value €, exclusive to KEY
DEFAULT_SERVICES = (
    ("SHORTAGE_SUPPLY", "Belieferung bei Produktengpass", "Priority supply during shortages", "Lieferung", 250, 600, True),
    ("INNOVATION_WS", "Produktinnovations-Workshop", "Product innovation workshop", "Workshop", 2400, 4500, True),
    ("DEDICATED_CONTACT", "Fester Ansprechpartner im Innendienst", "Dedicated inside-sales contact", "Monat", 450, 900, True),
    ("CUSTOM_DEV", "Individuelle Produkt-/Serviceentwicklung", "Custom product or service development", "Projekt", 8000, 15000, True),
    ("CUSTOM_PACKAGING", "Individuelle Verpackung / Produktpräsentation", "Custom packaging or presentation", "Auftrag", 300, 650, False),
    ("EXCL_MARKETING", "Exklusive Marketingaktion", "Exclusive marketing campaign", "Aktion", 3500, 6000, True),
    ("GROUP_REPORTING", "Konzernweites Reporting", "Group-wide reporting", "Quartal", 600, 1200, True),
    ("CENTRAL_BONUS", "Zentrale Bonusvereinbarung", "Central rebate agreement", "Jahr", 1000, 2500, True),
    ("TRAINING", "Trainingsmaßnahme beim Kunden", "Training at the customer", "Tag", 900, 1800, False),
    ("FOCUS_GROUP", "Customer Focus Group", "Exclusive customer focus group", "Termin", 1200, 2200, True),
    ("SATISFACTION_SURVEY", "Individuelle Zufriedenheitsbefragung", "Individual satisfaction survey", "Befragung", 700, 1500, True),
    ("EXPRESS_FREIGHT", "Expressfracht / Eilzustellung", "Express freight, rush delivery", "Sendung", 0, 0, False),
)

# Non-exclusive services: what A, B and C get. KEY gets every service (exclusive ones free,
# express freight waived: the invoice shows its value).
_NON_EXCLUSIVE_POLICY = {
    "CUSTOM_PACKAGING": {"KEY": "free", "A": "billed", "B": "billed", "C": "not_offered"},
    "TRAINING": {"KEY": "free", "A": "billed", "B": "billed", "C": "billed"},
    "EXPRESS_FREIGHT": {"KEY": "waived", "A": "billed", "B": "billed", "C": "billed"},
}
_KEY_WAIVED = {"CUSTOM_DEV", "EXCL_MARKETING"}


def default_policy(service_code: str, tier: str, exclusive: bool) -> str:
    """The policy of the default matrix for one service and tier."""
    if service_code in _NON_EXCLUSIVE_POLICY:
        return _NON_EXCLUSIVE_POLICY[service_code][tier]
    if exclusive:
        if tier != "KEY":
            return "not_offered"
        return "waived" if service_code in _KEY_WAIVED else "free"
    return "billed"


def seed_catalogue(con) -> None:
    """Insert the default catalogue where a service code is missing (keeps user edits)."""
    for order, (code, de, en, unit, cost, value, _excl) in enumerate(DEFAULT_SERVICES, 1):
        con.execute(
            "INSERT OR IGNORE INTO service_catalogue "
            "(service_code, name_de, name_en, unit, cost, list_value, active, sort_order) "
            "VALUES (?, ?, ?, ?, ?, ?, TRUE, ?)",
            [code, de, en, unit, cost, value, order],
        )


def seed_matrix(con, year: int) -> None:
    """Insert the default entitlement matrix for `year` where cells are missing."""
    for code, _de, _en, _unit, _cost, _value, exclusive in DEFAULT_SERVICES:
        for tier in ("KEY", "A", "B", "C"):
            con.execute(
                "INSERT OR IGNORE INTO entitlement_matrix (year, service_code, tier, policy) "
                "VALUES (?, ?, ?, ?)",
                [year, code, tier, default_policy(code, tier, exclusive)],
            )
