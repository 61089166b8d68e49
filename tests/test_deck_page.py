"""The account page lists the customer deck's slides before download and offers the internal
variant (real sign-in, real Streamlit AppTest, the demo database)."""

from __future__ import annotations

from kam_analytics.i18n import t
from tests.test_roles import roles_db, sign_in  # noqa: F401 - the fixture is used by name


def test_account_page_previews_the_deck_slides(roles_db):  # noqa: F811
    at = sign_in("kam01")
    at.switch_page("pages/account.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = "\n".join(m.value for m in at.markdown)
    for title in (
        t("deck_glance_title"),
        t("deck_services_title"),
        t("deck_months_title"),
        t("deck_contact_title"),
    ):
        assert title in shown, title
    assert "10. " in shown and "11. " not in shown  # the customer deck: ten slides
    assert t("deck_int_mandate_title") not in shown
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[:2] == [t("dl_deck_button"), t("dl_deck_internal_button")]
