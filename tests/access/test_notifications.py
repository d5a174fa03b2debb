"""E-mail digests, received by a real SMTP server (aiosmtpd): the responsible is told that
access requests wait, a support worker that their grant ends within 30 days; one message
a day at most, none after opting out, and nothing in any message but counts and links."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from iris.db import make_engine, make_sessionmaker
from iris.insz import make_insz
from services.access.notifications import send_digests
from tests.access.conftest import TODAY, Access, school_id
from tests.access.mail import address, sign_up
from tests.conftest import settings_env
from tests.support import iris_process, wait_until

RESPONSIBLE = make_insz("1972-02-02", 61)
OPTED_OUT = make_insz("1973-03-03", 62)
WORKER = make_insz("1990-05-05", 63)
LATER_WORKER = make_insz("1991-06-06", 64)
PUPIL = make_insz("2015-07-07", 65)
MOTIVATION = "Lotte heeft ondersteuning nodig bij het lezen."


def world(access: Access) -> str:
    school, other = school_id(), school_id()
    for where in (school, other):
        filed = access.client.post(
            f"/v1/schools/{where}/access-requests",
            json={
                "person_id": WORKER,
                "pupil_ids": [PUPIL],
                "support_network": "steunpunt-noord",
                "motivation": MOTIVATION,
            },
            headers=access.network("steunpunt-noord"),
        )
        assert filed.status_code == 201, filed.text
    for person, days in ((WORKER, 20), (LATER_WORKER, 60)):
        granted = access.grant(
            school,
            person_id=person,
            role="support_worker",
            valid_from=TODAY.isoformat(),
            valid_until=(TODAY + timedelta(days=days)).isoformat(),
            pupil_ids=[PUPIL],
        )
        assert granted.status_code == 200, granted.text
    sign_up(access, RESPONSIBLE, school_admin_of=[school])
    sign_up(access, OPTED_OUT, enabled=False, school_admin_of=[other])
    sign_up(access, WORKER)
    sign_up(access, LATER_WORKER)
    return school


def test_each_person_gets_one_digest_a_day_with_links_and_no_names_insz_or_content(
    mailing_access: Access, smtp
):
    inbox, _port = smtp
    access = mailing_access
    school = world(access)
    sessions = make_sessionmaker(make_engine(access.settings.database_url_for("access")))

    assert send_digests(access.settings, sessions, TODAY) == 2
    assert {m["To"] for m in inbox.messages} == {address(RESPONSIBLE), address(WORKER)}
    told = inbox.to(address(RESPONSIBLE))[0].get_content()
    assert f"1 access request(s) wait for your decision at school {school}" in told
    assert f"https://access.test/schools/{school}" in told
    ending = inbox.to(address(WORKER))[0].get_content()
    assert (TODAY + timedelta(days=20)).isoformat() in ending
    for mail in inbox.messages:
        text = str(mail["Subject"]) + mail.get_content()
        for secret in (PUPIL, WORKER, RESPONSIBLE, MOTIVATION, "steunpunt-noord"):
            assert secret not in text

    assert send_digests(access.settings, sessions, TODAY) == 0  # once a day
    assert len(inbox.messages) == 2
    assert send_digests(access.settings, sessions, TODAY + timedelta(days=1)) == 2
    assert inbox.to(address(OPTED_OUT)) == []


def test_iris_notify_sends_the_day_s_digests_from_the_environment_s_smtp_server(
    mailing_access: Access, smtp
):
    inbox, port = smtp
    world(mailing_access)
    env = {**os.environ, **settings_env(mailing_access.settings)}
    env |= {"IRIS_SMTP_HOST": "127.0.0.1", "IRIS_SMTP_PORT": str(port)}
    done = subprocess.run(
        [sys.executable, "-m", "iris.cli", "notify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a safety net only, not a measure of speed
    )
    assert done.returncode == 0, done.stderr
    assert "digest(s) sent" in done.stdout
    assert inbox.to(address(RESPONSIBLE))


def test_iris_notify_every_few_seconds_still_sends_one_digest_a_person_a_day(
    mailing_access: Access, smtp, tmp_path
):
    """What `iris dev` runs: the digests again and again; the second run on sends nothing."""
    inbox, port = smtp
    world(mailing_access)
    env = {**settings_env(mailing_access.settings)}
    env |= {"IRIS_SMTP_HOST": "127.0.0.1", "IRIS_SMTP_PORT": str(port)}
    log = tmp_path / "notify.log"
    with iris_process(["notify", "--every", "0.2"], env, log):
        wait_until(
            lambda: len(digest_counts(log)) >= 3, timeout=60, message="three runs of the digests"
        )
    assert digest_counts(log)[:3] == [2, 0, 0]
    assert len(inbox.to(address(RESPONSIBLE))) == 1
    assert len(inbox.messages) == 2


def digest_counts(log: Path) -> list[int]:
    """What each run of `iris notify --every` told in its JSON log lines."""
    if not log.is_file():
        return []
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line["count"] for line in lines if line.get("msg") == "digests sent"]


def test_opting_out_and_in_again_is_the_person_s_own_choice(mailing_access: Access):
    access = mailing_access
    headers = access.issuer.headers(RESPONSIBLE, email=address(RESPONSIBLE))
    out = access.client.put("/v1/me/notifications", json={"enabled": False}, headers=headers)
    assert out.json() == {"enabled": False, "email": address(RESPONSIBLE)}
    assert access.client.get("/v1/me/notifications", headers=headers).json()["enabled"] is False
    back = access.client.put("/v1/me/notifications", json={"enabled": True}, headers=headers)
    assert back.json()["enabled"] is True
    no_address = access.client.put(
        "/v1/me/notifications", json={"enabled": True}, headers=access.issuer.headers(WORKER)
    )
    assert no_address.status_code == 409
    network = access.client.get("/v1/me/notifications", headers=access.network("steunpunt-noord"))
    assert network.status_code == 403


def test_iris_dev_keeps_the_e_mail_it_sends_in_a_folder(tmp_path):
    import smtplib
    from email.message import EmailMessage

    from iris.dev import Stack

    said: list[str] = []
    stack = Stack(tmp_path, env={}, say=said.append)
    env: dict[str, str] = {}
    stack._start_mail(env)
    try:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "iris@test", "someone@test", "IRIS"
        mail.set_content("There is something for you to see.")
        with smtplib.SMTP(env["IRIS_SMTP_HOST"], int(env["IRIS_SMTP_PORT"])) as smtp:
            smtp.send_message(mail)
        inbox = tmp_path / "mail" / "new"
        wait_until(lambda: inbox.is_dir() and any(inbox.iterdir()), message="the mail kept")
        assert "There is something for you to see." in next(inbox.iterdir()).read_text()
        assert any(str(inbox) in line for line in said)
    finally:
        stack.stop()


def test_a_person_turns_the_digest_off_and_on_on_a_page_in_their_language(
    mailing_access: Access, smtp
):
    inbox, _port = smtp
    access = mailing_access
    school = world(access)
    headers = {
        **access.issuer.headers(RESPONSIBLE, email=address(RESPONSIBLE), school_admin_of=[school]),
        "Accept": "text/html",
        "Accept-Language": "nl",
    }
    page = access.client.get("/me/notifications", headers=headers)
    assert page.status_code == 200
    assert "Meldingen per e-mail" in page.text and address(RESPONSIBLE) in page.text
    assert "U ontvangt de dagelijkse e-mail." in page.text

    stopped = access.client.post("/me/notifications", data={"enabled": "false"}, headers=headers)
    assert stopped.status_code == 200 and "De e-mails zijn stopgezet." in stopped.text
    assert "U ontvangt de dagelijkse e-mail niet." in stopped.text
    sessions = make_sessionmaker(make_engine(access.settings.database_url_for("access")))
    send_digests(access.settings, sessions, TODAY)
    assert inbox.to(address(RESPONSIBLE)) == []

    english = {**headers, "Accept-Language": "en"}
    again = access.client.post("/me/notifications", data={"enabled": "true"}, headers=english)
    assert "You will receive the e-mails again." in again.text
    assert "You receive the daily e-mail." in again.text
    assert send_digests(access.settings, sessions, TODAY + timedelta(days=1)) >= 1
    assert len(inbox.to(address(RESPONSIBLE))) == 1

    nobody = make_insz("1995-01-01", 66)
    nameless = {**access.issuer.headers(nobody), "Accept": "text/html", "Accept-Language": "en"}
    without = access.client.get("/me/notifications", headers=nameless)
    assert "Your sign-in gives no e-mail address" in without.text
    network = access.client.get(
        "/me/notifications", headers={**access.network("steunpunt-noord"), "Accept": "text/html"}
    )
    assert network.status_code == 403
