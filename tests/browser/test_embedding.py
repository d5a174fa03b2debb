"""The report inside school software's frame, in Chromium: a stand-in school-software page
on another site (`localhost` against the viewer's `127.0.0.1`) gets a launch ticket from
the access service server to server and frames the viewer; the teacher signs in through a
popup (the development issuer stands in for itsme), the frame shows the report, printing
shows nothing of it, and pages the school did not allow cannot frame it.

Chromium treats `http://localhost` and `http://127.0.0.1` as secure contexts, so the
frame's `Secure; SameSite=None; Partitioned` cookie works without TLS here."""

from __future__ import annotations

import asyncio
import html
import importlib.util
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from playwright.sync_api import expect

from iris.auth import dev_issuer_key, mint
from iris.issuer import CALLBACK_PATH
from iris.issuer import create_app as create_issuer
from iris.seed import TEACHER
from iris.settings import Settings
from services.access.api import create_app as create_access
from services.viewer.api import create_app as create_viewer
from services.viewer.cache import LIVE_KEY, READY_KEY, AuthCache
from tests.browser.rig import free_port, live_server, printed_text
from tests.support import wait_until
from tests.viewer.events import enrolment, grant, insz, issued
from tests.viewer.reports_standin import ReportsStandIn

pytestmark = pytest.mark.integration

SCHOOL = "300077"
PUPIL = insz(77)
RESPONSIBLE = insz(577)
REPORT = issued(PUPIL, 1, valid_from="2024-09-01", kind="GC")
NEEDS = "Needs a quiet corner and short instructions."
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "school_frame.py"


@dataclass
class Platform:
    issuer_url: str
    access_url: str
    viewer_url: str
    key: Any

    def token(self, sub: str, audience: str = "iris", **claims: Any) -> str:
        return mint(self.key, self.issuer_url, sub, audience, ttl_seconds=600, **claims)

    def views(self) -> int:
        """How many views of the pupil's report the viewer recorded (asked as the pupil)."""
        token = self.token(PUPIL, amr=["itsme"])
        answer = httpx.get(
            f"{self.viewer_url}/v1/pupils/{PUPIL}/views",
            headers={"Authorization": f"Bearer {token}"},
        )
        answer.raise_for_status()
        return len(answer.json())


def fold_into_cache(redis_url: str, *events: Any) -> None:
    """The viewer worker's part: the cache holds the pupil, the report and the grant."""

    async def fold() -> None:
        cache = AuthCache.from_url(redis_url)
        await cache.fold(list(events))
        await cache.close()

    # in a thread of its own: Playwright's loop may be marked running in this one
    worker = threading.Thread(target=lambda: asyncio.run(fold()))
    worker.start()
    worker.join(30)
    client = redis.Redis.from_url(redis_url)
    client.set(READY_KEY, json.dumps({"offsets": {}}))
    client.set(LIVE_KEY, "test", px=3_600_000)
    client.close()


@pytest.fixture
def platform(make_settings: Callable[..., Settings], infra: Any) -> Iterator[Platform]:
    ports = {name: free_port() for name in ("issuer", "access", "viewer")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    people = {"oidc_issuer": urls["issuer"], "oidc_jwks_url": urls["issuer"] + "/jwks.json"}
    issuer_settings = make_settings("issuer", **people)
    key = dev_issuer_key(issuer_settings)
    platform = Platform(urls["issuer"], urls["access"], urls["viewer"], key)
    viewer_token = platform.token("service:viewer", "iris-internal", service="viewer")
    reports = ReportsStandIn(urls["issuer"], urls["issuer"] + "/jwks.json")
    reports.publish(REPORT, needs=NEEDS)
    access_settings = make_settings(
        "access", **people, client_issuer=urls["access"], viewer_url=urls["viewer"]
    )
    viewer_settings = make_settings(
        "viewer",
        **people,
        reports_url=reports.url,
        service_token=viewer_token,
        client_issuer=urls["access"],
    )
    redis.Redis.from_url(infra.redis_url).flushdb()
    fold_into_cache(infra.redis_url, enrolment(PUPIL, SCHOOL), REPORT, grant(SCHOOL, TEACHER.insz))
    issuer = create_issuer(issuer_settings, clients={"viewer": urls["viewer"] + CALLBACK_PATH})
    with (
        live_server(issuer, ports["issuer"]),
        live_server(create_access(access_settings), ports["access"]),
        live_server(create_viewer(viewer_settings), ports["viewer"]),
    ):
        yield platform
    reports.close()
    redis.Redis.from_url(infra.redis_url).flushdb()


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("school_frame", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SchoolSoftware:
    """The example for vendors (examples/school_frame.py) as the school software: it gets
    a launch ticket from the access service with its client token, server to server, and
    frames the viewer at the URL it gets back."""

    def __init__(self, platform: Platform, client_id: str, secret: str) -> None:
        example = load_example()
        iris = example.Iris(platform.access_url, platform.viewer_url, SCHOOL, client_id, secret)
        self.server = example.server(iris)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def school_client(platform: Platform) -> tuple[str, str]:
    """The school responsible registers the software and names the origin it runs at."""
    headers = {
        "Authorization": "Bearer "
        + platform.token(RESPONSIBLE, amr=["itsme"], school_admin_of=[SCHOOL])
    }
    answer = httpx.post(
        f"{platform.access_url}/v1/schools/{SCHOOL}/clients",
        json={"name": "Schoolsoftware"},
        headers=headers,
    )
    answer.raise_for_status()
    return answer.json()["client_id"], answer.json()["client_secret"]


def frame_refused(page: Any) -> bool:
    """Chromium shows its own error page instead of a frame its ancestors may not hold."""
    frames = page.frames
    return len(frames) > 1 and frames[1].url.startswith("chrome-error://")


def test_school_software_frames_the_report_and_the_teacher_signs_in_through_a_popup(
    platform, school_client, browser
):
    client_id, secret = school_client
    allowed = SchoolSoftware(platform, client_id, secret)
    other_origin = SchoolSoftware(platform, client_id, secret)  # same site, another port
    responsible = platform.token(RESPONSIBLE, amr=["itsme"], school_admin_of=[SCHOOL])
    answer = httpx.put(
        f"{platform.access_url}/v1/schools/{SCHOOL}/clients/{client_id}/frame-origins",
        json={"frame_origins": [f"http://localhost:{allowed.port}"]},
        headers={"Authorization": f"Bearer {responsible}"},
    )
    assert answer.status_code == 200, answer.text
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(f"http://localhost:{allowed.port}/")
        page.get_by_role("link", name="Pupil").click()  # the has-report listing's name
        frame = page.frame_locator("#iris")
        button = frame.get_by_role("link", name="Sign in with itsme or eID")
        expect(button).to_be_visible()
        assert platform.views() == 0

        with page.expect_popup() as opened:
            button.click()
        popup = opened.value
        popup.get_by_role("button", name=re.compile(f"Sign in as {TEACHER.name}")).click()
        popup.wait_for_event("close")

        expect(frame.get_by_text(NEEDS)).to_be_visible()
        expect(frame.locator(".watermark span").first).to_contain_text(TEACHER.name)
        assert PUPIL not in page.frames[1].url  # the launch handle, never the INSZ
        wait_until(lambda: platform.views() == 1, message="the framed view recorded")

        page.emulate_media(media="print")
        expect(frame.get_by_text(NEEDS)).to_be_hidden()
        expect(frame.locator(".print-notice")).to_be_visible()
        printed = printed_text(page)
        assert NEEDS not in printed and TEACHER.name not in printed

        # the same site on another port is not an origin the school named: the browser
        # refuses the frame, though the person is signed in there too
        refused = context.new_page()
        refused.goto(f"http://localhost:{other_origin.port}/pupils/{PUPIL}")
        wait_until(lambda: frame_refused(refused), message="the frame refused")
        assert refused.frame_locator("#iris").get_by_text(NEEDS).count() == 0
        assert platform.views() == 1
    finally:
        context.close()
        allowed.close()
        other_origin.close()


def test_another_site_cannot_frame_the_report_and_a_launch_ticket_opens_once(
    platform, school_client, browser
):
    client_id, secret = school_client
    software = SchoolSoftware(platform, client_id, secret)  # no origins named: none allowed
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(f"http://localhost:{software.port}/pupils/{PUPIL}")
        wait_until(lambda: frame_refused(page), message="the frame refused")
        assert page.frame_locator("#iris").get_by_text("Sign in").count() == 0

        ticket_page = httpx.get(f"http://127.0.0.1:{software.port}/pupils/{PUPIL}").text
        embed_url = re.search(r'src="([^"]+)"', ticket_page)
        assert embed_url is not None
        first = httpx.get(html.unescape(embed_url.group(1)))
        assert first.status_code == 303
        again = httpx.get(html.unescape(embed_url.group(1)))
        assert again.status_code == 404  # single use
    finally:
        context.close()
        software.close()
