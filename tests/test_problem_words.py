"""Import findings name target fields and their allowed values in words (issue 14), on screen
and on the command line alike; allowed values keep the code a profile is written with."""

from __future__ import annotations

from kam_analytics.errors import Reason, localise_problem
from kam_analytics.ingest.pipeline import plan_file

CSV = b"Kundennr;Firma;Kundenstufe\n10001;;KEY\n10002;Schmidt AG;X\n"


def _findings():
    plan = plan_file(CSV, "kunden.csv", table="accounts")
    return {p.reason: p for p in plan.all_problems}


def test_unknown_value_and_missing_value_in_words_on_screen():
    found = _findings()
    unknown, missing = found[Reason.UNKNOWN_VALUE], found[Reason.MISSING_VALUE]
    assert localise_problem(unknown, "de") == (
        "Unbekannter Wert für Kundenstufe",
        "Erlaubte Werte: Key Account (KEY), A-Kunde (A), B-Kunde (B), C-Kunde (C). Ordnen Sie "
        "diesen Wert in der "
        "Werte-Zuordnung zu (Profilabschnitt [values.tier]).",
    )
    assert localise_problem(missing, "de")[0] == "Pflichtwert Firmenname ist leer"
    assert localise_problem(missing, "en")[0] == "Required value Company name is empty"


def test_command_line_says_the_same_with_the_codes_a_profile_needs():
    found = _findings()
    assert found[Reason.UNKNOWN_VALUE].message == "Unknown Customer tier"
    assert found[Reason.UNKNOWN_VALUE].hint == (
        "Allowed values: Key account (KEY), A customer (A), B customer (B), C customer (C). "
        "Map this value in the mapping (profile section [values.tier])."
    )
    assert found[Reason.MISSING_VALUE].message == "Required value Company name is empty"
