"""The CLB's page finds a pupil by the name the school registered: the reports service
asks the access service as the signed-in person, and shows two digits of the INSZ."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from iris.settings import Settings
from services.access.api import create_app
from tests.access.conftest import Clock, Served, access_settings, free_port, serve, stop
from tests.access.test_clb_pupils import CLB, NOOR, fill
from tests.reports.conftest import Reports

pytestmark = pytest.mark.integration


@pytest.fixture
def access_served(make_settings: Callable[..., Settings]) -> Iterator[Served]:
    settings = access_settings(make_settings)
    fill(settings)
    served = serve(create_app(settings, clock=Clock()), free_port())
    try:
        yield served
    finally:
        stop(served)


def test_the_clb_page_finds_a_pupil_by_name_and_shows_two_digits_of_the_insz(
    reports: Reports,
    access_served: Served,
):
    reports.client.app.state.deps.access_url = access_served.url
    staff = {**reports.staff(CLB), "Accept": "text/html", "Accept-Language": "nl"}
    page = reports.client.get("/clb/find-by-name", params={"name": "noor"}, headers=staff)
    assert page.status_code == 200, page.text
    assert f'href="/clb/pupils/{NOOR}"' in page.text
    assert f"Noor Peeters (…{NOOR[-2:]})" in page.text
    assert "Noor Janssens" not in page.text and "Noor Maes" not in page.text
    shown_text = page.text.replace(f'href="/clb/pupils/{NOOR}"', "")
    assert NOOR not in shown_text, "the INSZ is shown by its last two digits only"

    nobody = reports.client.get("/clb/find-by-name", params={"name": "zzz"}, headers=staff)
    assert "Geen leerling van de scholen van uw CLB heeft deze naam." in nobody.text
    too_short = reports.client.get("/clb/find-by-name", params={"name": "n"}, headers=staff)
    assert too_short.status_code == 422
    assert 'id="name-error"' in too_short.text

    reports.client.app.state.deps.access_url = "http://127.0.0.1:1"
    away = reports.client.get("/clb/find-by-name", params={"name": "noor"}, headers=staff)
    assert away.status_code == 422
    assert "zoek op rijksregisternummer" in away.text
