"""CLB staff find a pupil by the name the school registered, among the pupils of the
schools their CLB serves (the access service's API; the page is in tests/reports)."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from iris.contracts import EnrolmentChanged
from iris.db import make_engine, make_sessionmaker, transaction
from iris.settings import Settings
from services.access import enrolments, schools
from services.access.api import create_app
from tests.access.conftest import Clock, access_settings, pupil
from tests.support import Issuer

CLB, OTHER_CLB = "113001", "105270"
OUR_SCHOOL, THEIR_SCHOOL = "31112", "47597"
NOOR, NOOR_ELSEWHERE, NOOR_LEFT, LIAM = pupil(91), pupil(92), pupil(93), pupil(94)


def fill(settings: Settings) -> None:
    """The register of schools and the copy of the enrolment register, as the worker folds it."""
    registered = [
        (NOOR, OUR_SCHOOL, "Noor Peeters", None),
        (NOOR_ELSEWHERE, THEIR_SCHOOL, "Noor Janssens", None),
        (NOOR_LEFT, OUR_SCHOOL, "Noor Maes", date(2026, 6, 30)),
        (LIAM, OUR_SCHOOL, "Liam Peeters", None),
    ]
    engine = make_engine(settings.database_url_for("access"))
    with transaction(make_sessionmaker(engine)) as session:
        schools.import_schools(
            session,
            [
                schools.School(OUR_SCHOOL, "De Regenboog", "mainstream", None, CLB),
                schools.School(THEIR_SCHOOL, "Sint-Jozef", "mainstream", None, OTHER_CLB),
            ],
        )
        enrolments.fold(
            session,
            [
                EnrolmentChanged(
                    pupil_id=who,
                    school_id=school,
                    start_date=date(2024, 9, 1),
                    end_date=end,
                    display_name=name,
                    version=1,
                )
                for who, school, name, end in registered
            ],
        )
    engine.dispose()


def test_clb_staff_find_the_pupils_of_their_schools_by_name(make_settings, issuer: Issuer):
    settings = access_settings(make_settings)
    fill(settings)
    with TestClient(create_app(settings, clock=Clock())) as client:
        staff = issuer.headers("80041200150", clb_staff_of=[CLB])
        found = client.get(f"/v1/clbs/{CLB}/pupils", params={"name": "noor"}, headers=staff)
        assert found.status_code == 200, found.text
        assert [(p["pupil_id"], p["display_name"], p["school_name"]) for p in found.json()] == [
            (NOOR, "Noor Peeters", "De Regenboog")
        ]
        both_words = client.get(
            f"/v1/clbs/{CLB}/pupils", params={"name": "PEETERS liam"}, headers=staff
        )
        assert [p["pupil_id"] for p in both_words.json()] == [LIAM]
        other = client.get(f"/v1/clbs/{OTHER_CLB}/pupils", params={"name": "noor"}, headers=staff)
        assert other.status_code == 403
        school_staff = issuer.headers("80041200150", school_admin_of=[OUR_SCHOOL])
        assert (
            client.get(
                f"/v1/clbs/{CLB}/pupils", params={"name": "noor"}, headers=school_staff
            ).status_code
            == 403
        )
        short = client.get(f"/v1/clbs/{CLB}/pupils", params={"name": "n"}, headers=staff)
        assert short.status_code == 422 and "name" in short.text


def test_clb_staff_see_where_their_schools_registered_a_number_and_nothing_elsewhere(
    make_settings, issuer: Issuer
):
    settings = access_settings(make_settings)
    fill(settings)
    with TestClient(create_app(settings, clock=Clock())) as client:
        staff = issuer.headers("80041200150", clb_staff_of=[CLB])

        def registered(pupil_id: str) -> list[tuple[str, str, str]]:
            answer = client.get(f"/v1/clbs/{CLB}/pupils/{pupil_id}", headers=staff)
            assert answer.status_code == 200, answer.text
            return [(p["display_name"], p["school_id"], p["school_name"]) for p in answer.json()]

        assert registered(NOOR) == [("Noor Peeters", OUR_SCHOOL, "De Regenboog")]
        assert registered(NOOR_ELSEWHERE) == []  # another CLB's school
        assert registered(NOOR_LEFT) == []  # the enrolment has ended
        assert registered(pupil(95)) == []  # nobody registered
        wrong = client.get(f"/v1/clbs/{CLB}/pupils/12345678901", headers=staff)
        assert wrong.status_code == 422 and "pupil_id" in wrong.text
        other = client.get(f"/v1/clbs/{OTHER_CLB}/pupils/{NOOR}", headers=staff)
        assert other.status_code == 403
