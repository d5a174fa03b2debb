"""The support request through the pages, by clicking and typing: the care coordinator
asks a support network for support for one pupil, the network's software accepts with
one support worker, the school responsible approves, and the support worker reads that
pupil's report and no other."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from iris.auth import dev_issuer_key, mint
from iris.seed import CARE_COORDINATOR, PUPILS, RESPONSIBLE_A, SCHOOL_A, SUPPORT_WORKER
from tests.browser.rig import describe
from tests.browser.staff.conftest import reload_until, sign_in_as

pytestmark = pytest.mark.integration

OLIVIA, EMMA = PUPILS[4], PUPILS[2]
NETWORK = "ondersteuningsnetwerk-gent"
QUESTION = "Olivia raakt overprikkeld in drukke lessen; welke ondersteuning is mogelijk?"


def network_accepts(platform, worker: str) -> str:
    settings = platform.stack.settings()
    token = mint(
        dev_issuer_key(settings),
        settings.oidc_issuer,
        f"network:{NETWORK}",
        settings.audience,
        support_network=NETWORK,
    )
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{platform.access}/v1/support-networks/{NETWORK}/support-requests"
    [asked] = httpx.get(base, headers=headers).json()
    assert asked["question"] == QUESTION and asked["pupil_id"] == OLIVIA.insz
    accepted = httpx.post(
        f"{base}/{asked['support_request_id']}/accept",
        json={"support_workers": [worker]},
        headers=headers,
    )
    assert accepted.status_code == 200, accepted.text
    return str(asked["support_request_id"])


def test_a_support_request_from_the_care_coordinator_to_the_workers_sight(
    platform, new_page, steps, axe
):
    coordinator = new_page("nl-BE")
    shots = steps(coordinator, role="care-coordinator")
    coordinator.goto(platform.access + "/")
    coordinator.get_by_role("main").get_by_role("link", name="Aanmelden").click()
    sign_in_as(coordinator, CARE_COORDINATOR.name)
    coordinator.get_by_role("link", name=f"Ondersteuningsvragen van school {SCHOOL_A}").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Ondersteuningsvragen")
    olivia = f"{OLIVIA.name} (…{OLIVIA.insz[-2:]})"
    pupil_field = coordinator.get_by_role("combobox", name="Leerling")
    reload_until(coordinator, lambda: pupil_field.locator("option", has_text=olivia).count() == 1)
    pupil_field.select_option(label=olivia)
    coordinator.get_by_role("textbox", name="Ondersteuningsnetwerk").fill(NETWORK)
    coordinator.get_by_role("textbox", name="Vraag").fill(QUESTION)
    shots.shot("the care coordinator writes the support request")
    coordinator.get_by_role("button", name="Ondersteuningsvraag versturen").click()
    expect(coordinator.get_by_role("status")).to_have_text("De ondersteuningsvraag is verstuurd.")
    row = coordinator.get_by_role("row").filter(has_text=olivia)
    expect(row).to_contain_text("Verstuurd, wacht op het ondersteuningsnetwerk")
    expect(coordinator.get_by_text(OLIVIA.insz)).to_have_count(0)
    shots.shot("sent, waiting for the network")
    violations = axe(coordinator)
    assert violations == [], describe(violations)

    request_id = network_accepts(platform, SUPPORT_WORKER.insz)
    coordinator.reload()
    expect(row).to_contain_text("Aanvaard; toegang wacht op de schoolverantwoordelijke")

    responsible = new_page("nl-BE")
    responsible_shots = steps(responsible, role="school-responsible")
    responsible.goto(platform.access + f"/schools/{SCHOOL_A}/requests")
    sign_in_as(responsible, RESPONSIBLE_A.name)
    card = responsible.locator("section.card").filter(has_text=f"Ondersteuningsvraag {request_id}")
    expect(card).to_contain_text(OLIVIA.name)
    responsible_shots.shot("the access request the network's acceptance filed")
    card.get_by_role("button", name="Goedkeuren").click()
    expect(responsible.get_by_role("status")).to_contain_text("goedgekeurd")
    responsible.get_by_role("navigation").get_by_role("link", name="Ondersteuningsvragen").click()
    expect(responsible.get_by_role("row").filter(has_text=olivia)).to_contain_text(
        "Toegang verleend"
    )
    responsible_shots.shot("the support request shows the access granted")

    worker = new_page("nl-BE")
    worker_shots = steps(worker, role="support-worker")
    worker.goto(platform.viewer + f"/pupils/{OLIVIA.insz}/report")
    sign_in_as(worker, SUPPORT_WORKER.name)
    reload_until(worker, lambda: worker.get_by_text("Olivia heeft nood aan").count() == 1)
    worker_shots.shot("the support worker reads the supported pupil's report")
    worker.goto(platform.viewer + f"/pupils/{EMMA.insz}/report")
    # a typed address is not a click within IRIS: the viewer asks first
    worker.get_by_role("link", name="Het verslag openen").click()
    expect(worker.get_by_role("heading", name="Geen verslag om te tonen")).to_be_visible()
    expect(worker.get_by_text("Emma heeft nood aan")).to_have_count(0)
    worker_shots.shot("another pupil's report is refused")
