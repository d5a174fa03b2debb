"""The privacy notice: reached from every page's footer, in Dutch and English, with the
retention periods the settings give, and no serious accessibility violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.rig import describe

pytestmark = pytest.mark.integration

NOTICES = {
    "nl": ("nl-BE", "Privacyverklaring", "2 jaar", "Inzage en verbetering vragen"),
    "en": ("en-GB", "Privacy notice", "2 years", "Asking for access or correction"),
}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_privacy_notice_is_one_click_from_the_footer_and_passes_the_accessibility_checks(
    language, web_stack, new_page, steps, axe
):
    locale, link, views_kept, rights = NOTICES[language]
    page = new_page(locale)
    shots = steps(page)
    page.goto(web_stack.service_url + "/")
    page.get_by_role("contentinfo").get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(link)
    expect(page.locator("html")).to_have_attribute("lang", language)
    views = page.get_by_role("row").filter(has_text="view" if language == "en" else "bekeek")
    expect(views).to_contain_text(views_kept)  # IRIS_RETENTION_VIEWS_DAYS: 730
    expect(page.get_by_role("heading", name=rights)).to_be_visible()
    assert axe(page) == [], describe(axe(page))
    shots.shot("privacy notice")
