"""The print stylesheet hook: a page that must not be printed prints only its notice."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.rig import printed_text

pytestmark = pytest.mark.integration


def test_a_page_marked_no_print_shows_its_content_on_screen_but_prints_only_the_notice(
    web_stack, new_page, steps
):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(web_stack.service_url + "/secret")
    expect(page.locator("#secret")).to_be_visible()
    expect(page.get_by_text("Printing is not allowed.")).to_be_hidden()
    shots.shot("on screen")

    page.emulate_media(media="print")
    expect(page.locator("#secret")).to_be_hidden()
    expect(page.get_by_text("Printing is not allowed.")).to_be_visible()
    shots.shot("as printed")

    printed = printed_text(page)
    assert "Printing is not allowed." in printed
    assert "hidden content" not in printed
    assert "Secret page" not in printed


def test_an_ordinary_page_prints_its_content_without_the_navigation(web_stack, new_page):
    page = new_page("nl-BE")
    page.goto(web_stack.service_url + "/")
    printed = printed_text(page)
    assert "Welkom bij IRIS" in printed
    assert "English" not in printed
