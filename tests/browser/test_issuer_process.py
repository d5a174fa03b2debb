"""`iris serve-issuer` as `iris dev` runs it: a person signs in on its landing page."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.rig import free_port
from tests.support import iris_process, wait_until

pytestmark = pytest.mark.integration


def test_the_issuer_process_lets_a_person_sign_in_on_its_landing_page(tmp_path, new_page, steps):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"IRIS_ENV": "development", "IRIS_DATA_DIR": str(tmp_path), "IRIS_OIDC_ISSUER": url}

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    with iris_process(
        ["serve-issuer", "--port", str(port)], env, tmp_path / "issuer.log"
    ) as process:
        wait_until(lambda: ready() or process.poll() is not None, timeout=30, message="issuer")
        assert process.poll() is None, (tmp_path / "issuer.log").read_text()

        page = new_page("nl-BE")
        shots = steps(page)
        page.goto(url + "/")
        page.get_by_role("main").get_by_role("link", name="Aanmelden").click()
        page.get_by_role("button", name="Aanmelden als Els Maertens").click()
        expect(page.get_by_test_id("signed-in-name")).to_have_text("Els Maertens")
        expect(page.get_by_role("main")).to_contain_text("CLB-medewerker bij 113001")
        shots.shot("signed in at the development issuer")
