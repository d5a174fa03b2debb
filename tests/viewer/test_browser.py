"""The report page in headless Chromium: a granted teacher sees the content and the
watermark on screen, and nothing of the content when the page is printed."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest
import uvicorn

from iris.infra import free_port
from services.viewer.api import create_app
from tests.support import wait_until
from tests.viewer.events import enrolment, grant, insz, issued

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
SCHOOL = "300001"
PUPIL, TEACHER = insz(31), insz(631)
REPORT = issued(PUPIL, 1, valid_from="2024-09-01", kind="GC")
NEEDS = "Needs visual schedules for the school day."


@pytest.fixture
def served_viewer(viewer_settings, cache_state, reports) -> Iterator[str]:
    cache_state(enrolment(PUPIL, SCHOOL), REPORT, grant(SCHOOL, TEACHER))
    reports.publish(REPORT, needs=NEEDS)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(viewer_settings), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, message="the viewer serving")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)


@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs /usr/bin/chromium")
def test_a_teacher_sees_the_report_and_watermark_on_screen_and_nothing_of_it_in_print(
    served_viewer, issuer
):
    from playwright.sync_api import sync_playwright

    token = issuer.token(TEACHER, name="Els Maes")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = browser.new_context(
                locale="nl-BE", extra_http_headers={"Authorization": f"Bearer {token}"}
            )
            page = context.new_page()
            response = page.goto(f"{served_viewer}/pupils/{PUPIL}/report")
            assert response is not None and response.status == 200

            assert page.get_by_text(NEEDS).is_visible()
            watermark = page.locator(".watermark span").first
            assert watermark.is_visible()
            assert "Els Maes" in watermark.inner_text()
            assert "***" in watermark.inner_text()  # the masked INSZ
            assert not page.locator(".print-notice").is_visible()
            assert page.evaluate("() => document.styleSheets.length") == 1  # CSP lets it load

            page.emulate_media(media="print")
            assert not page.get_by_text(NEEDS).is_visible()
            assert not page.locator(".report").is_visible()
            assert not page.locator(".watermark").is_visible()
            assert page.locator(".print-notice").is_visible()
            printed = page.evaluate("() => document.body.innerText")
            assert NEEDS not in printed and "Els Maes" not in printed
            assert "niet afgedrukt" in printed
        finally:
            browser.close()
