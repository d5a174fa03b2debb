"""Registering school software shows its secret once: reloading that page neither
registers a second client nor shows the secret again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from iris.seed import RESPONSIBLE_A, SCHOOL_A
from tests.browser.staff.conftest import sign_in_as

pytestmark = pytest.mark.integration

SOFTWARE = "Smartschool herladen"


def test_reloading_the_page_with_a_new_secret_registers_nothing_and_shows_it_no_more(
    platform, new_page, steps, axe
):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(platform.access + f"/schools/{SCHOOL_A}/clients")
    sign_in_as(page, RESPONSIBLE_A.name)
    page.get_by_label("Naam van de software").fill(SOFTWARE)
    page.get_by_role("button", name="Registreren").click()
    secret = page.get_by_test_id("client-secret")
    expect(secret).to_be_visible()
    assert len(secret.inner_text().strip()) >= 20
    assert axe(page) == []
    shots.shot("the secret, shown once")

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schoolsoftware")
    expect(page.get_by_test_id("client-secret")).to_have_count(0)
    expect(page.get_by_role("cell", name=SOFTWARE, exact=True)).to_have_count(1)
    shots.shot("reloaded: one client, the secret gone")
