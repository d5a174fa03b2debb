"""Signing in through the development issuer's page, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from iris.seed import RESPONSIBLE_A, SCHOOL_A

pytestmark = pytest.mark.integration


def sign_in_as(page, name: str, dutch: bool = True) -> None:
    label = f"Aanmelden als {name}" if dutch else f"Sign in as {name}"
    page.get_by_role("button", name=re.compile(re.escape(label))).click()


def test_a_person_signs_in_by_clicking_sees_who_they_are_switches_language_and_signs_out(
    web_stack, new_page, steps
):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(web_stack.service_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom bij IRIS")
    shots.shot("home, not signed in")

    page.get_by_role("main").get_by_role("link", name="Aanmelden").click()
    expect(page).to_have_url(re.compile(re.escape(web_stack.issuer_url) + "/authorize"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelden bij IRIS")
    shots.shot("the issuer's sign-in page")

    sign_in_as(page, RESPONSIBLE_A.name)
    expect(page).to_have_url(web_stack.service_url + "/")
    main = page.get_by_role("main")
    expect(
        main.get_by_role("heading", level=2, name=f"Aangemeld als {RESPONSIBLE_A.name}")
    ).to_be_visible()
    expect(main).to_contain_text(f"Schoolverantwoordelijke bij {SCHOOL_A}")
    expect(page.get_by_test_id("signed-in-name")).to_have_text(RESPONSIBLE_A.name)
    shots.shot("signed in, in Dutch")

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(
        main.get_by_role("heading", level=2, name=f"Signed in as {RESPONSIBLE_A.name}")
    ).to_be_visible()
    expect(main).to_contain_text(f"School responsible at {SCHOOL_A}")
    shots.shot("signed in, in English")

    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("main").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_test_id("signed-in-name")).to_have_count(0)
    shots.shot("signed out")


def test_a_page_that_needs_sign_in_sends_the_visitor_to_sign_in_and_back_to_it(
    web_stack, new_page, steps
):
    page = new_page("en-GB")
    shots = steps(page)
    page.goto(web_stack.service_url + "/private")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to IRIS")
    shots.shot("sent to sign in")

    sign_in_as(page, "Els Maertens", dutch=False)
    expect(page).to_have_url(web_stack.service_url + "/private")
    expect(page.get_by_role("heading", level=1)).to_have_text("Private page")
    shots.shot("back on the page asked for")


def test_signing_out_from_the_home_page_asks_for_confirmation_first(web_stack, new_page, steps):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(web_stack.service_url + "/auth/login")
    sign_in_as(page, "Tom Peeters")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Ouder van leerling")

    main.get_by_role("link", name="Afmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Afmelden")
    shots.shot("asked to confirm")
    page.get_by_role("link", name="Annuleren").click()
    expect(page.get_by_test_id("signed-in-name")).to_have_text("Tom Peeters")

    page.get_by_role("main").get_by_role("link", name="Afmelden").click()
    page.get_by_role("main").get_by_role("button", name="Afmelden").click()
    expect(page.get_by_test_id("signed-in-name")).to_have_count(0)
    shots.shot("signed out after confirming")


def test_a_form_posted_without_its_csrf_token_is_refused(web_stack, new_page, steps):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(web_stack.service_url + "/note")
    sign_in_as(page, RESPONSIBLE_A.name)
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a note")

    page.get_by_label("Title").fill("A note")
    page.locator("main form input[name=csrf_token]").evaluate("input => input.remove()")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
    shots.shot("refused without the csrf token")

    page.goto(web_stack.service_url + "/")
    page.get_by_role("banner").locator("input[name=csrf_token]").evaluate("input => input.remove()")
    page.get_by_role("banner").get_by_role("button", name="Afmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
    page.goto(web_stack.service_url + "/")
    expect(page.get_by_test_id("signed-in-name")).to_have_text(RESPONSIBLE_A.name)


def test_a_form_shows_its_validation_error_next_to_the_field(web_stack, new_page, steps, axe):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(web_stack.service_url + "/note")
    sign_in_as(page, RESPONSIBLE_A.name)
    page.get_by_role("button", name="Save").click()

    field = page.get_by_label("Title")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile("A title is required"))
    expect(page.get_by_role("alert")).to_contain_text("A title is required.")
    shots.shot("error next to the field")
    assert axe(page) == []

    field.fill("Een notitie")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")


def test_the_development_issuer_has_its_own_landing_page_to_sign_in_at(
    web_stack, new_page, steps, axe
):
    page = new_page("en-GB")
    shots = steps(page)
    page.goto(web_stack.issuer_url + "/")
    page.get_by_role("main").get_by_role("link", name="Sign in").click()
    sign_in_as(page, "Sofie Lambrechts", dutch=False)
    expect(page).to_have_url(web_stack.issuer_url + "/")
    main = page.get_by_role("main")
    expect(
        main.get_by_role("heading", level=2, name="Signed in as Sofie Lambrechts")
    ).to_be_visible()
    expect(main).to_contain_text("granted by your school responsible")
    assert axe(page) == []
    shots.shot("signed in at the issuer")
