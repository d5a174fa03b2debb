"""The CLB's page of a pupil shows which schools can see the current report and who at
each, as the viewer answers it (a stand-in for the viewer's HTTP API here; the viewer's
own answer is tested in tests/viewer/test_visibility.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iris.insz import make_insz, mask_insz
from services.reports.api import create_app
from tests.reports.conftest import CLB, OTHER_CLB, STAFF, TODAY, Clock, new_pupil, report_body

pytestmark = pytest.mark.integration

INTRUDER = "100099"
SELF_GRANTED = make_insz("1979-09-09", 44)


class ViewerStandIn:
    """Answers `GET /v1/pupils/{id}/visibility` and keeps the Authorization it got."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, Any]] = {}
        self.seen: list[str] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                standin.seen.append(self.headers.get("Authorization", ""))
                pupil = self.path.removeprefix("/v1/pupils/").removesuffix("/visibility")
                status, body = standin.answers.get(pupil, (404, {"detail": "no"}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def world(make_settings, issuer) -> Iterator[tuple[TestClient, ViewerStandIn]]:
    viewer = ViewerStandIn()
    settings = make_settings("reports", viewer_url=viewer.url)
    with TestClient(create_app(settings, clock=Clock(TODAY))) as client:
        yield client, viewer
    viewer.server.shutdown()
    viewer.server.server_close()


def staff(issuer, *clbs: str) -> dict[str, str]:
    token = issuer.token(STAFF, clb_staff_of=list(clbs), name="Els Maertens")
    return {"Authorization": f"Bearer {token}", "Accept": "text/html", "Accept-Language": "en"}


def issue(client: TestClient, issuer, pupil: str, clb: str) -> None:
    answer = client.post(
        f"/v1/pupils/{pupil}/reports",
        json=report_body(clb_id=clb, valid_from="2026-09-01"),
        headers=staff(issuer, clb),
    )
    assert answer.status_code == 201, answer.text


def test_the_clb_sees_which_schools_see_its_current_report_and_who(world, issuer):
    client, viewer = world
    pupil = new_pupil()
    issue(client, issuer, pupil, CLB)
    viewer.answers[pupil] = (
        200,
        [
            {
                "school_id": INTRUDER,
                "enrolled_since": "2026-11-27",
                "enrolled_until": None,
                "people": [
                    {
                        "person_id": SELF_GRANTED,
                        "role": "care_coordinator",
                        "valid_from": "2026-11-27",
                        "valid_until": "2030-11-27",
                    }
                ],
            }
        ],
    )
    headers = staff(issuer, CLB)
    page = client.get(f"/clb/pupils/{pupil}", headers=headers)
    assert page.status_code == 200
    assert f"School {INTRUDER}, enrolled since 27 November 2026" in page.text
    assert mask_insz(SELF_GRANTED) in page.text and SELF_GRANTED not in page.text
    assert viewer.seen[-1] == headers["Authorization"]  # asked as the signed-in person


def test_the_page_says_so_when_the_viewer_cannot_tell(world, issuer):
    client, viewer = world
    pupil = new_pupil()
    issue(client, issuer, pupil, CLB)
    viewer.answers[pupil] = (503, {"detail": "authorisation cache not ready"})
    page = client.get(f"/clb/pupils/{pupil}", headers=staff(issuer, CLB))
    assert page.status_code == 200
    assert "This cannot be shown at the moment" in page.text


def test_another_clbs_staff_are_not_shown_who_sees_the_report(world, issuer):
    client, viewer = world
    pupil = new_pupil()
    issue(client, issuer, pupil, CLB)
    page = client.get(f"/clb/pupils/{pupil}", headers=staff(issuer, OTHER_CLB))
    assert page.status_code == 200
    assert "Who can see the report now" not in page.text
    assert viewer.seen == []
