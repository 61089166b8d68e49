"""What an audit entry is about, in words (issue 14): no stored key like 'feedback:9' on screen."""

from __future__ import annotations

import pytest

from kam_analytics.audit import target_label


@pytest.mark.parametrize(
    ("action", "target", "lang", "expected"),
    [
        ("import", "feedback:9", "de", "Kundenfeedback, Import 9"),
        ("import_undo", "shipments:12", "en", "Shipments, import 12"),
        ("exchange_rate", "USD:2026:0", "de", "USD, Jahreskurs 2026"),
        ("exchange_rate_delete", "CHF:2025:3", "de", "CHF, März 2025"),
        ("exchange_rate", "USD:2026:0", "en", "USD, yearly rate 2026"),
        ("settings.kam_pay", "KAM01/2026", "de", "KAM01, 2026"),
        ("mandate.answers", "K10012/2026", "en", "K10012, 2026"),
        ("matrix_update", "2026/NOPE/KEY", "de", "2026, NOPE, Key Account"),
        ("signin", "kam01", "de", "kam01"),
    ],
)
def test_targets_in_words(con, action, target, lang, expected):
    assert target_label(con, action, target, lang) == expected
