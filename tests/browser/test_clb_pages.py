"""CLB staff at work in a real browser, against the reports service as `iris dev` runs it:
find a pupil, issue a report (a broken rule first), see the history, issue again,
withdraw after confirming. Every page passes axe-core in Dutch and in English."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from iris import infra as local
from iris.dev import Stack
from iris.registry import SERVICES
from iris.seed import CLB_ID, CLB_STAFF, PUPILS
from tests.browser.rig import describe
from tests.infra import Infrastructure

pytestmark = pytest.mark.integration

PUPIL = PUPILS[1].insz
# only the reports service runs here: no school registered a pupil, so issuing asks to confirm
CONFIRM_NL = "Ik heb het nummer nagekeken"
CONFIRM_EN = "I checked the number"


def shown(insz: str) -> str:
    """An INSZ as printed on an eID card, and as CLB staff type it."""
    return f"{insz[:2]}.{insz[2:4]}.{insz[4:6]}-{insz[6:9]}.{insz[9:]}"


TYPED_PUPIL = shown(PUPIL)
NEEDS = "Noah heeft nood aan voorspelbaarheid en een prikkelarme werkplek (browsertest)."


@dataclass
class ReportsPlatform:
    stack: Stack

    @property
    def url(self) -> str:
        return self.stack.urls["reports"]


@pytest.fixture(scope="module")
def platform(
    infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReportsPlatform]:
    """The development issuer and the reports service as child processes, as `iris dev`
    starts them, on the test broker and a fresh database. (Module scope, requested before
    the browser: the stack's start-up runs asyncio, which cannot run while it is open.)"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")} | {
        "IRIS_ENV": "test",
        "IRIS_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "IRIS_REDIS_URL": infra.redis_url,
        "IRIS_TOPIC_PARTITIONS": "3",
        "IRIS_OUTBOX_POLL_SECONDS": "0.2",
        "IRIS_KAFKA_FETCH_MAX_WAIT_MS": str(local.TANSU_FETCH_MAX_WAIT_MS),
        "IRIS_REPORTS_PORT": str(local.free_port()),
        "IRIS_REPORTS_DATABASE_URL": infra.database_url("reports"),
        "IRIS_ISSUER_PORT": str(local.free_port()),
    }
    stack = Stack(
        tmp_path_factory.mktemp("clb-pages"),
        env=env,
        services=[SERVICES["reports"]],
        say=lambda _line: None,
    )
    try:
        stack.start()
        yield ReportsPlatform(stack)
    finally:
        stack.stop()


def sign_in_as_clb_staff(page: Page, dutch: bool = True) -> None:
    label = "Aanmelden als" if dutch else "Sign in as"
    page.get_by_role("button", name=re.compile(f"{label} {CLB_STAFF.name}")).click()
    expect(page.get_by_test_id("signed-in-name")).to_have_text(CLB_STAFF.name)


def accessible(page: Page, axe) -> None:
    violations = axe(page)
    assert violations == [], describe(violations)


def fill_sections(page: Page) -> None:
    page.get_by_label("Onderwijsbehoeften van de leerling").fill(NEEDS)
    page.get_by_label("Advies aan de school").fill("Werk met een visueel dagschema.")
    page.get_by_label("Maatregelen die al genomen zijn").fill("Time-timer en koptelefoon.")
    page.get_by_label("Motivering").fill("De redelijke aanpassingen volstaan niet.")


def status_of(page: Page, version: int):
    return page.get_by_test_id(f"version-{version}").locator(".status")


def test_clb_staff_find_a_pupil_issue_two_versions_and_withdraw_one(
    platform: ReportsPlatform, new_page, steps, axe
):
    page = new_page("nl-BE")
    shots = steps(page, role="clb-staff")
    page.goto(platform.url + "/")
    page.get_by_role("main").get_by_role("link", name="Aanmelden").click()
    sign_in_as_clb_staff(page)
    expect(page).to_have_url(platform.url + "/clb/pupils")
    expect(page.get_by_role("heading", level=1)).to_have_text("Een leerling zoeken")
    accessible(page, axe)
    shots.shot("find a pupil")

    number = page.get_by_label("Rijksregisternummer (INSZ) van de leerling")
    number.fill(TYPED_PUPIL[:-1] + ("0" if TYPED_PUPIL[-1] != "0" else "1"))
    page.get_by_role("button", name="Zoeken").click()
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_accessible_description(re.compile("controlecijfers .* 85.07.30-123.35"))
    accessible(page, axe)
    shots.shot("a wrong number, the error next to the field")

    number.fill(TYPED_PUPIL)
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Verslagen van leerling {TYPED_PUPIL}"
    )
    expect(page.get_by_role("main")).to_contain_text("Nog geen verslag")
    accessible(page, axe)
    shots.shot("the pupil, no report yet")

    page.get_by_role("link", name="Een verslag uitreiken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Een verslag uitreiken voor leerling {TYPED_PUPIL}"
    )
    expect(page.get_by_role("main")).to_contain_text(f"CLB {CLB_ID}")
    accessible(page, axe)
    shots.shot("the empty issue form")

    kind, level = (
        page.get_by_label("Soort verslag (verplicht)"),
        page.get_by_label("Onderwijsniveau"),
    )
    type_, vorm = (
        page.get_by_label("Type (buitengewoon onderwijs)"),
        page.get_by_label("Opleidingsvorm", exact=True),
    )
    kind.select_option(label="GC: gemeenschappelijk curriculum met leersteun")
    expect(type_).to_be_hidden()
    expect(vorm).to_be_hidden()
    kind.select_option(label="IAC: individueel aangepast curriculum")
    level.select_option(label="Lager onderwijs")
    expect(type_).to_be_visible()
    expect(vorm).to_be_hidden()
    level.select_option(label="Secundair onderwijs")
    expect(vorm).to_be_visible()
    shots.shot("only the fields that apply")

    type_.select_option(label="Type 9")
    vorm.select_option(label="Opleidingsvorm 4")
    page.get_by_label("Ingangsdatum").fill((date.today() - timedelta(days=30)).isoformat())
    fill_sections(page)
    page.get_by_label(CONFIRM_NL).check()  # no school registered anyone here
    page.get_by_role("button", name="Het verslag nakijken").click()
    expect(vorm).to_have_attribute("aria-invalid", "true")
    expect(vorm).to_have_accessible_description(re.compile("reik in de plaats een OV4-verslag uit"))
    expect(page.get_by_role("alert")).to_contain_text("OV4-verslag")
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.get_by_label("Onderwijsbehoeften van de leerling")).to_have_value(NEEDS)
    assert NEEDS not in page.url
    accessible(page, axe)
    shots.shot("a broken rule, the error next to the opleidingsvorm")

    vorm.select_option(label="Opleidingsvorm 1")
    page.get_by_label(CONFIRM_NL).check()  # no school registered anyone here
    page.get_by_role("button", name="Het verslag nakijken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Versie 1 nakijken voor u ze uitreikt"
    )
    expect(page.get_by_test_id("effect")).to_contain_text("Ze gaat in zodra u ze uitreikt")
    expect(page.get_by_test_id("effect")).to_contain_text("zien scholen met toegang deze versie")
    expect(page.get_by_role("main")).to_contain_text(NEEDS)
    accessible(page, axe)
    shots.shot("the review before issuing")
    page.get_by_role("button", name="Versie 1 uitreiken").click()
    expect(page.get_by_role("status")).to_have_text("Versie 1 is uitgereikt.")
    expect(status_of(page, 1)).to_have_text("Huidig")
    expect(page.get_by_test_id("version-1")).to_contain_text(CLB_STAFF.name)
    expect(page.get_by_role("main")).not_to_contain_text(NEEDS)
    assert NEEDS not in page.url
    accessible(page, axe)
    shots.shot("version 1 is current")

    page.get_by_role("link", name="Een verslag uitreiken").click()
    kind.select_option(label="GC: gemeenschappelijk curriculum met leersteun")
    level.select_option(label="Secundair onderwijs")
    fill_sections(page)
    page.get_by_label("Ingangsdatum").fill(date(2031, 9, 1).isoformat())
    shots.shot("the second version, starting in 2031")
    page.get_by_label(CONFIRM_NL).check()  # no school registered anyone here
    page.get_by_role("button", name="Het verslag nakijken").click()
    effect = page.get_by_test_id("effect")
    expect(effect).to_contain_text("Ze gaat in op 1 september 2031.")
    expect(effect).to_contain_text("Tot dan blijven scholen met toegang versie 1 (IAC")
    shots.shot("the review says what schools see until then")
    page.get_by_role("button", name="Het verslag wijzigen").click()
    expect(page.get_by_label("Onderwijsbehoeften van de leerling")).to_have_value(NEEDS)
    page.get_by_label("Ingangsdatum").fill(date.today().isoformat())
    page.get_by_label(CONFIRM_NL).check()  # no school registered anyone here
    page.get_by_role("button", name="Het verslag nakijken").click()
    page.get_by_role("button", name="Versie 2 uitreiken").click()
    expect(page.get_by_role("status")).to_have_text("Versie 2 is uitgereikt.")
    expect(status_of(page, 2)).to_have_text("Huidig")
    expect(status_of(page, 1)).to_have_text("Vervangen")
    shots.shot("version 2 is current, version 1 superseded")

    page.get_by_role("link", name="Opheffen versie 2").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Versie 2 opheffen?")
    accessible(page, axe)
    shots.shot("asked to confirm the withdrawal")
    page.get_by_role("link", name="Annuleren").click()
    expect(status_of(page, 2)).to_have_text("Huidig")

    expect(page.get_by_role("link", name="Opheffen versie 1")).to_have_count(0)  # replaced
    page.get_by_role("link", name="Opheffen versie 2").click()
    page.get_by_role("button", name="Versie 2 opheffen").click()
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.get_by_label("Waarom wordt deze versie opgeheven?")).to_have_accessible_description(
        re.compile("Geef aan waarom")
    )
    accessible(page, axe)
    shots.shot("a withdrawal needs a reason")
    page.get_by_label("Waarom wordt deze versie opgeheven?").fill("Uitgereikt met een fout type.")
    page.get_by_role("button", name="Versie 2 opheffen").click()
    expect(page.get_by_role("status")).to_have_text("Versie 2 is opgeheven.")
    expect(page.get_by_test_id("reason-2")).to_have_text("Reden: Uitgereikt met een fout type.")
    expect(status_of(page, 2)).to_have_text("Opgeheven")
    expect(status_of(page, 1)).to_have_text("Vervangen")
    expect(page.get_by_role("link", name="Opheffen versie 2")).to_have_count(0)
    accessible(page, axe)
    shots.shot("version 2 withdrawn")

    logs = {path.name: path.read_text() for path in platform.stack.log_dir.glob("*.log")}
    assert "reports.log" in logs and "report issued" in logs["reports.log"]
    assert all(NEEDS not in text and "visueel dagschema" not in text for text in logs.values())


def test_the_clb_pages_pass_axe_in_english_too(platform: ReportsPlatform, new_page, steps, axe):
    page = new_page("en-GB")
    shots = steps(page)
    page.goto(platform.url + "/clb/pupils")
    sign_in_as_clb_staff(page, dutch=False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a pupil")
    accessible(page, axe)
    shots.shot("find a pupil")

    number = page.get_by_label("National register number (INSZ) of the pupil")
    number.fill("1234")
    page.get_by_role("button", name="Find").click()
    expect(number).to_have_accessible_description(re.compile("has 11 digits"))
    accessible(page, axe)
    shots.shot("a number too short")

    number.fill(PUPILS[5].insz)
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Reports of pupil {shown(PUPILS[5].insz)}"
    )
    accessible(page, axe)
    shots.shot("the history")

    page.get_by_role("link", name="Issue a report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Issue a report for pupil {shown(PUPILS[5].insz)}"
    )
    accessible(page, axe)
    page.get_by_label(CONFIRM_EN).check()  # no school registered anyone here
    page.get_by_role("button", name="Review the report").click()
    expect(page.get_by_label("Kind of report (required)")).to_have_accessible_description(
        re.compile("Choose one of the options")
    )
    expect(page.get_by_label("Reasoning")).to_have_accessible_description(
        re.compile("may not be empty")
    )
    accessible(page, axe)
    shots.shot("the form with every error")

    page.get_by_label("Kind of report (required)").select_option(value="GC")
    page.get_by_label("Level of education").select_option(value="primary")
    page.get_by_label("The pupil's needs").fill(NEEDS)
    page.get_by_label("Advice to the school").fill("Use a visual timetable.")
    page.get_by_label("Measures already taken").fill("A timer and headphones.")
    page.get_by_label("Reasoning").fill("Reasonable adjustments do not suffice.")
    page.get_by_label(CONFIRM_EN).check()  # no school registered anyone here
    page.get_by_role("button", name="Review the report").click()
    expect(page.get_by_test_id("effect")).to_contain_text("as soon as you issue it")
    accessible(page, axe)
    shots.shot("the review")
    page.get_by_role("button", name="Issue version 1").click()
    expect(page.get_by_role("status")).to_have_text("Version 1 has been issued.")
    expect(status_of(page, 1)).to_have_text("Current")
    accessible(page, axe)
    shots.shot("version 1 issued")

    page.get_by_role("link", name="Withdraw version 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw version 1?")
    accessible(page, axe)
    shots.shot("asked to confirm")
    page.get_by_label("Why is this version withdrawn?").fill("Issued for the wrong pupil.")
    page.get_by_role("button", name="Withdraw version 1").click()
    expect(status_of(page, 1)).to_have_text("Withdrawn")
    accessible(page, axe)
    shots.shot("withdrawn")


def test_the_issue_and_withdraw_forms_refuse_a_post_without_their_csrf_token(
    platform: ReportsPlatform, new_page, steps
):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(f"{platform.url}/clb/pupils/{PUPILS[3].insz}/reports/new")
    sign_in_as_clb_staff(page)
    page.get_by_label("Soort verslag (verplicht)").select_option(value="GC")
    page.get_by_label("Onderwijsniveau").select_option(value="primary")
    fill_sections(page)
    page.locator("main form input[name=csrf_token]").evaluate("input => input.remove()")
    page.get_by_label(CONFIRM_NL).check()  # no school registered anyone here
    page.get_by_role("button", name="Het verslag nakijken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
    shots.shot("the issue form refused without its token")

    page.goto(f"{platform.url}/clb/pupils/{PUPILS[3].insz}")
    expect(page.get_by_role("main")).to_contain_text("Nog geen verslag")
    page.get_by_role("link", name="Een verslag uitreiken").click()
    page.get_by_label("Soort verslag (verplicht)").select_option(value="GC")
    page.get_by_label("Onderwijsniveau").select_option(value="primary")
    fill_sections(page)
    page.get_by_label(CONFIRM_NL).check()  # no school registered anyone here
    page.get_by_role("button", name="Het verslag nakijken").click()
    page.get_by_role("button", name="Versie 1 uitreiken").click()
    expect(status_of(page, 1)).to_have_text("Huidig")

    page.get_by_role("link", name="Opheffen versie 1").click()
    page.get_by_label("Waarom wordt deze versie opgeheven?").fill("Dubbel uitgereikt.")
    page.locator("main form input[name=csrf_token]").evaluate("input => input.remove()")
    page.get_by_role("button", name="Versie 1 opheffen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
    shots.shot("the withdrawal refused without its token")
    page.goto(f"{platform.url}/clb/pupils/{PUPILS[3].insz}")
    expect(status_of(page, 1)).to_have_text("Huidig")


def test_without_javascript_every_field_shows_and_the_server_checks_the_rules(
    platform: ReportsPlatform, browser, steps
):
    context = browser.new_context(locale="nl-BE", java_script_enabled=False)
    try:
        page = context.new_page()
        shots = steps(page)
        page.goto(f"{platform.url}/clb/pupils")
        sign_in_as_clb_staff(page)
        page.get_by_label("Rijksregisternummer (INSZ) van de leerling").fill(PUPILS[7].insz)
        page.get_by_role("button", name="Zoeken").click()
        page.get_by_role("link", name="Een verslag uitreiken").click()

        page.get_by_label("Soort verslag (verplicht)").select_option(value="GC")
        page.get_by_label("Onderwijsniveau").select_option(value="secondary")
        vorm = page.get_by_label("Opleidingsvorm", exact=True)
        expect(vorm).to_be_visible()
        vorm.select_option(value="2")
        fill_sections(page)
        page.get_by_label(CONFIRM_NL).check()  # no school registered anyone here
        page.get_by_role("button", name="Het verslag nakijken").click()
        expect(page.get_by_role("alert")).to_be_focused()
        expect(vorm).to_have_accessible_description(re.compile("gemeenschappelijk curriculum"))
        shots.shot("without javascript, the rule is checked on the server")

        vorm.select_option(value="")
        page.get_by_label(CONFIRM_NL).check()  # no school registered anyone here
        page.get_by_role("button", name="Het verslag nakijken").click()
        page.get_by_role("button", name="Versie 1 uitreiken").click()
        expect(status_of(page, 1)).to_have_text("Huidig")
        page.get_by_role("link", name="Opheffen versie 1").click()
        page.get_by_label("Waarom wordt deze versie opgeheven?").fill("Fout verslag.")
        page.get_by_role("button", name="Versie 1 opheffen").click()
        expect(status_of(page, 1)).to_have_text("Opgeheven")
        shots.shot("issued and withdrawn without javascript")
    finally:
        context.close()


def test_clb_staff_reach_every_step_with_the_keyboard_in_a_sensible_order(
    platform: ReportsPlatform, new_page, steps
):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(f"{platform.url}/clb/pupils")
    sign_in_as_clb_staff(page)

    def skip_to_main() -> None:
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Naar de hoofdinhoud")).to_be_focused()
        page.keyboard.press("Enter")
        # the next Tab starts from the main content only once the jump has landed
        expect(page.get_by_role("main")).to_be_focused()

    skip_to_main()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Rijksregisternummer (INSZ) van de leerling")).to_be_focused()
    page.keyboard.type(shown(PUPILS[9].insz))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Verslagen van leerling {shown(PUPILS[9].insz)}"
    )

    skip_to_main()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Een andere leerling zoeken")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Een verslag uitreiken")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Een verslag uitreiken"))

    skip_to_main()
    order = [
        page.get_by_role("link", name="Terug naar de versiegeschiedenis"),
        page.get_by_label(CONFIRM_NL),
        page.get_by_label("Soort verslag (verplicht)"),
        page.get_by_label("Onderwijsniveau"),
        page.get_by_label("Type (buitengewoon onderwijs)"),
        page.get_by_label("Opleidingsvorm", exact=True),
    ]
    for element in order:
        page.keyboard.press("Tab")
        expect(element).to_be_focused()
    shots.shot("the form's fields in reading order")
