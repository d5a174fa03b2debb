"""Signing out of the viewer visibly leaves the pages, under the viewer's own content
security policy (the other browser tests bypass it to inject axe-core)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from iris.seed import CARE_COORDINATOR, PUPILS, SCHOOL_A, SCHOOLS
from tests.browser.staff.conftest import sign_in_as

pytestmark = pytest.mark.integration

LOTTE = PUPILS[0]


@pytest.mark.parametrize("locale", ["nl-BE", "en-GB"])
def test_signing_out_of_the_viewer_leaves_the_page_for_a_signed_out_page(
    platform, browser, steps, axe, locale
):
    dutch = locale == "nl-BE"
    context = browser.new_context(locale=locale)  # the policy as the person's browser has it
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        shots = steps(page)
        page.goto(platform.viewer + "/")
        sign_in_as(page, CARE_COORDINATOR.name, dutch)
        pupils = "Leerlingen met een verslag" if dutch else "Pupils with a report"
        page.get_by_role(
            "link",
            name=f"{pupils} bij {SCHOOLS[SCHOOL_A]}"
            if dutch
            else f"{pupils} at {SCHOOLS[SCHOOL_A]}",
        ).click()
        expect(page.get_by_role("link", name=LOTTE.name)).to_be_visible()
        shots.shot("the pupils of the school, signed in")

        page.get_by_role("banner").get_by_role(
            "button", name="Afmelden" if dutch else "Sign out"
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "U bent afgemeld" if dutch else "You are signed out"
        )
        expect(page).to_have_url(re.compile(re.escape(platform.viewer) + "/auth/signed-out"))
        expect(page.get_by_text(LOTTE.name)).to_have_count(0)
        expect(page.get_by_test_id("signed-in-name")).to_have_count(0)
        shots.shot("signed out, nothing of the school left on screen")

        page.get_by_role("main").get_by_role(
            "link", name="Opnieuw aanmelden" if dutch else "Sign in again"
        ).click()
        expect(
            page.get_by_role("button", name=re.compile("Aanmelden als|Sign in as")).first
        ).to_be_visible()
    finally:
        context.close()
    # axe needs a context that lets it inject its script
    check = browser.new_context(locale=locale, bypass_csp=True)
    try:
        page = check.new_page()
        page.goto(platform.viewer + "/auth/signed-out")
        assert axe(page) == []
    finally:
        check.close()
