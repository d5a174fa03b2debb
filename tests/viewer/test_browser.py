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
            # the CSP lets every style sheet of the page load
            sheets = page.evaluate("() => document.styleSheets.length")
            links = page.evaluate("() => document.querySelectorAll('link[rel=stylesheet]').length")
            assert sheets == links >= 1

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


@pytest.fixture
def elsewhere(served_viewer) -> Iterator[str]:
    """Another site (localhost is not the same site as 127.0.0.1) linking to the report."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    link = f'<a href="{served_viewer}/pupils/{PUPIL}/report">a report</a>'.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<!doctype html><title>elsewhere</title>" + link)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def session_cookie(settings, issuer) -> str:
    import base64
    import json

    import itsdangerous

    token = issuer.token(TEACHER, name="Els Maes")
    session = {"user": {"claims": {"sub": TEACHER}, "access_token": token}, "csrf": "c" * 43}
    signer = itsdangerous.TimestampSigner(settings.session_secret)
    return signer.sign(base64.b64encode(json.dumps(session).encode())).decode()


@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs /usr/bin/chromium")
def test_a_link_on_another_site_opens_a_question_and_only_the_click_is_a_view(
    served_viewer, elsewhere, viewer_settings, issuer
):
    import httpx
    from playwright.sync_api import sync_playwright

    def views() -> int:
        answer = httpx.get(
            f"{served_viewer}/v1/pupils/{PUPIL}/views", headers=issuer.headers(PUPIL)
        )
        return len(answer.json())

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = browser.new_context(locale="en-GB")
            context.add_cookies(
                [
                    {
                        "name": "iris_session",
                        "value": session_cookie(viewer_settings, issuer),
                        "url": served_viewer,
                    }
                ]
            )
            page = context.new_page()
            page.goto(elsewhere)
            page.get_by_role("link", name="a report").click()
            page.wait_for_url(f"{served_viewer}/pupils/{PUPIL}/report")
            assert page.get_by_role("heading", level=1).inner_text() == "Open the report?"
            assert page.get_by_text(NEEDS).count() == 0
            assert views() == 0

            page.get_by_role("link", name="Open the report").click()
            page.get_by_text(NEEDS).wait_for()
            assert views() == 1

            page.reload()  # reloading the report shows it again: another view
            page.get_by_text(NEEDS).wait_for()
            assert views() == 2
        finally:
            browser.close()
