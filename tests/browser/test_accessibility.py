"""axe-core finds no serious or critical violation on the shared pages, in Dutch and English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.rig import describe

pytestmark = pytest.mark.integration

LANGUAGES = {
    "nl": ("nl-BE", "Aanmelden als An Vermeulen"),
    "en": ("en-GB", "Sign in as An Vermeulen"),
}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_sign_in_and_landing_pages_have_no_serious_accessibility_violations(
    language, web_stack, new_page, steps, axe
):
    locale, sign_in_label = LANGUAGES[language]
    page = new_page(locale)
    shots = steps(page)

    page.goto(web_stack.service_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert axe(page) == [], describe(axe(page))
    shots.shot("landing page, signed out")

    page.goto(web_stack.service_url + "/auth/login")
    expect(page.get_by_role("button", name=re.compile(sign_in_label))).to_be_visible()
    assert axe(page) == [], describe(axe(page))
    shots.shot("sign-in page")

    page.get_by_role("button", name=re.compile(sign_in_label)).click()
    expect(page.get_by_test_id("signed-in-name")).to_have_text("An Vermeulen")
    assert axe(page) == [], describe(axe(page))
    shots.shot("landing page, signed in")

    page.goto(web_stack.service_url + "/auth/logout")
    assert axe(page) == [], describe(axe(page))
    shots.shot("sign-out confirmation")


def test_the_keyboard_reaches_the_skip_link_first_and_it_leads_to_the_main_content(
    web_stack, new_page
):
    page = new_page("nl-BE")
    page.goto(web_stack.service_url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Naar de hoofdinhoud")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
