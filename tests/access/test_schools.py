"""The register of schools: loaded from CSV by `iris schools import`; a special school
gives no support worker sight."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from iris.insz import make_insz
from tests.access.conftest import Access, person, pupil, school_id
from tests.access.test_support_requests import NETWORK, register_pupil, send
from tests.conftest import settings_env

WORKER = make_insz("1988-02-02", 70)


def import_file(access: Access, tmp_path: Any, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "scholen.csv"
    path.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "iris.cli", "schools", "import", str(path)],
        env={**os.environ, **settings_env(access.settings)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_special_school_from_the_csv_gives_no_support_worker_sight(access: Access, tmp_path):
    special, mainstream = school_id(), school_id()
    loaded = import_file(
        access,
        tmp_path,
        "institution_number,name,kind,address\n"
        f"{special},BuSO De Brug,special,Kerkstraat 1 9000 Gent\n"
        f"{mainstream},Basisschool Klim-op,gewoon,\n",
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "2 schools" in loaded.stdout

    refused = access.grant(
        special, person_id=WORKER, role="support_worker", valid_from="2026-11-28"
    )
    assert refused.status_code == 422
    assert refused.json()["fields"] == ["school_id"]
    assert "mainstream" in refused.json()["detail"][0]["msg"]
    teacher = access.grant(special, person_id=person(71), role="teacher", valid_from="2026-11-28")
    assert teacher.status_code == 200, "other roles are granted at any school"
    granted = access.grant(
        mainstream, person_id=WORKER, role="support_worker", valid_from="2026-11-28"
    )
    assert granted.status_code == 200, granted.text

    filed = access.client.post(
        f"/v1/schools/{special}/access-requests",
        json={
            "person_id": WORKER,
            "pupil_ids": [pupil(71)],
            "support_network": NETWORK,
            "motivation": "ondersteuning in de klas",
        },
        headers=access.network(NETWORK),
    )
    approved = access.client.post(
        f"/v1/schools/{special}/access-requests/{filed.json()['request_id']}/approve",
        json={},
        headers=access.responsible(special),
    )
    assert approved.status_code == 422 and approved.json()["fields"] == ["school_id"]

    register_pupil(access, special, pupil(72))
    asked = send(access, special, pupil(72), access.responsible(special))
    assert asked.status_code == 422 and asked.json()["fields"] == ["school_id"]


def test_a_file_that_does_not_fit_the_layout_is_refused_naming_the_line(access: Access, tmp_path):
    loaded = import_file(access, tmp_path, "institution_number,name,kind\n12345,School,kleuter\n")
    assert loaded.returncode == 2
    assert "line 2" in loaded.stderr and "kind" in loaded.stderr


def test_the_viewer_reads_the_names_of_the_schools_it_shows_and_no_one_else_may(
    access: Access, tmp_path
):
    named, unknown = school_id(), school_id()
    loaded = import_file(
        access, tmp_path, f"institution_number,name,kind,address\n{named},Atheneum Brugge,gewoon,\n"
    )
    assert loaded.returncode == 0, loaded.stderr
    asked = {"school_id": [named, unknown]}
    answer = access.client.get(
        "/internal/school-names", params=asked, headers=access.issuer.service("viewer")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"names": {named: "Atheneum Brugge"}}
    for other in (access.issuer.service("reports"), access.issuer.headers(WORKER)):
        refused = access.client.get("/internal/school-names", params=asked, headers=other)
        assert refused.status_code in (401, 403), refused.text
    not_a_number = access.client.get(
        "/internal/school-names",
        params={"school_id": ["not-a-school"]},
        headers=access.issuer.service("viewer"),
    )
    assert not_a_number.status_code == 422
    assert "school_id" in not_a_number.text
