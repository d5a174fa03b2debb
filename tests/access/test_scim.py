"""A school's user management provisions access over SCIM 2.0, as it would in production:
its own client's token from POST /v1/token, a User per person (userName: the INSZ) and a
Group per school and role. Membership grants and is published on `iris.access.grants`
with source "scim"; leaving the group, deactivating or deleting the user revokes. The
school responsible sees those grants and cannot change them; SCIM never touches theirs."""

from __future__ import annotations

from typing import Any

import pytest

from services.access import service_clients
from tests.access.conftest import Access, person, published, school_id

SCIM_JSON = {"Content-Type": "application/scim+json"}
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Idm:
    """The user management's side: its client, its token, its requests."""

    def __init__(self, access: Access, schools: list[str]) -> None:
        self.client = access.client
        row, secret = access.deps.store.write(
            lambda s: service_clients.register(s, "", None, ("idm-test", schools))
        )
        form = {"grant_type": "client_credentials", "client_id": row.client_id}
        answer = self.client.post("/v1/token", data={**form, "client_secret": secret})
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}", **SCIM_JSON}

    def send(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        answer = self.client.request(method, f"/scim/v2/{path}", json=body, headers=self.headers)
        assert answer.status_code == status, answer.text
        return answer.json() if answer.content else None

    def user(self, insz: str, active: bool = True) -> str:
        body = {
            "schemas": [USER],
            "userName": insz,
            "displayName": "Sofie Lambrechts",
            "emails": [{"value": "sofie@school.test", "primary": True}],
            "active": active,
        }
        return str(self.send("POST", "Users", body, 201)["id"])

    def group(self, name: str, *members: str) -> str:
        body = {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]}
        return str(self.send("POST", "Groups", body, 201)["id"])

    def patch(self, path: str, *operations: dict[str, Any]) -> None:
        """A PATCH, answered without a body (204) as RFC 7644 §3.5.2 allows."""
        self.send("PATCH", path, {"schemas": [PATCH], "Operations": list(operations)}, 204)


def scim_grant(access: Access, school: str, teacher: str) -> dict[str, Any]:
    [grant] = [g for g in access.grants(school) if g["person_id"] == teacher]
    return grant


def test_membership_grants_leaving_revokes_and_iris_cannot_change_it(access, grants_topic):
    school, teacher = school_id()[:6].rjust(6, "1"), person(41)
    idm = Idm(access, [school])
    user_id = idm.user(teacher)
    group_id = idm.group(f"IRIS-platform gebruiker — leraar — {school}", user_id)

    [granted] = published(grants_topic, school, 1)
    assert (granted["person_id"], granted["role"], granted["status"], granted["source"]) == (
        teacher,
        "teacher",
        "active",
        "scim",
    )
    grant = scim_grant(access, school, teacher)
    assert (grant["source"], grant["pupil_ids"]) == ("scim", None)

    # the responsible sees it, cannot change or revoke it, page nor API
    listing = access.client.get(
        f"/schools/{school}/grants", headers={**access.responsible(school), "Accept": "text/html"}
    )
    assert (
        "Sofie Lambrechts" in listing.text and "Beheerd door het gebruikersbeheer" in listing.text
    )
    edit = access.client.post(
        f"/schools/{school}/grants/{grant['grant_id']}/edit",
        data={"role": "care_coordinator", "valid_from": "2026-11-28", "valid_until": ""},
        headers={**access.responsible(school), "Accept": "text/html"},
    )
    assert edit.status_code == 409
    assert "gebruikersbeheer" in edit.text
    revoke = access.client.post(
        f"/v1/schools/{school}/grants/{grant['grant_id']}/revoke",
        headers=access.responsible(school),
    )
    assert revoke.status_code == 409
    assert revoke.json()["detail"][0]["field"] == "grant_id"
    assert "user management" in revoke.json()["detail"][0]["msg"]

    # the user management takes the teacher out of the group: the grant is revoked
    idm.patch(
        f"Groups/{group_id}",
        {"op": "remove", "path": f'members[value eq "{user_id}"]'},
    )
    events = published(grants_topic, school, 2)
    assert [(e["status"], e["source"]) for e in events] == [("active", "scim"), ("revoked", "scim")]
    assert scim_grant(access, school, teacher)["status"] == "revoked"
    assert idm.send("GET", f"Groups/{group_id}").get("members") in (None, [])


def test_deactivating_or_deleting_the_user_revokes(access, grants_topic):
    school, teacher, counsellor = school_id()[:6].rjust(6, "2"), person(42), person(43)
    idm = Idm(access, [school])
    teacher_id, counsellor_id = idm.user(teacher), idm.user(counsellor)
    idm.group(f"IRIS — leerlingbegeleider — {school}", teacher_id, counsellor_id)
    published(grants_topic, school, 2)

    idm.patch(f"Users/{teacher_id}", {"op": "replace", "path": "active", "value": False})
    idm.send("DELETE", f"Users/{counsellor_id}", status=204)
    events = published(grants_topic, school, 4)
    revoked = {e["person_id"] for e in events if e["status"] == "revoked"}
    assert revoked == {teacher, counsellor}
    found = idm.send("GET", f'Users?filter=userName eq "{teacher}"')
    assert found["totalResults"] == 1 and found["Resources"][0]["active"] is False


def test_scim_leaves_a_grant_made_in_iris_as_it_is(access, grants_topic):
    school, teacher = school_id()[:6].rjust(6, "3"), person(44)
    made = access.grant(school, person_id=teacher, role="care_coordinator", valid_from="2026-11-28")
    assert made.status_code == 200, made.text
    idm = Idm(access, [school])
    user_id = idm.user(teacher)
    idm.group(f"IRIS — leraar — {school}", user_id)
    idm.send("DELETE", f"Users/{user_id}", status=204)
    grant = scim_grant(access, school, teacher)
    assert (grant["role"], grant["status"], grant["source"], grant["version"]) == (
        "care_coordinator",
        "active",
        "iris",
        1,
    )


def test_bad_values_are_refused_naming_the_attribute(access):
    school, other = school_id()[:6].rjust(6, "4"), "999999"
    idm = Idm(access, [school])
    bad_user = idm.send("POST", "Users", {"schemas": [USER], "userName": "sofie"}, 400)
    assert "userName" in bad_user["detail"]
    user_id = idm.user(person(45))
    taken = idm.send("POST", "Users", {"schemas": [USER], "userName": person(45)}, 409)
    assert taken["scimType"] == "uniqueness"
    bad_name = idm.send("POST", "Groups", {"schemas": [GROUP], "displayName": "Leraars"}, 400)
    assert "displayName" in bad_name["detail"]
    not_ours = {"schemas": [GROUP], "displayName": f"IRIS — leraar — {other}"}
    assert "displayName" in idm.send("POST", "Groups", not_ours, 403)["detail"]
    stranger = {
        "schemas": [GROUP],
        "displayName": f"IRIS — leraar — {school}",
        "members": [{"value": "no-such-user"}],
    }
    assert "members" in idm.send("POST", "Groups", stranger, 400)["detail"]
    assert idm.send("GET", f"Users/{user_id}")["userName"] == person(45)


@pytest.mark.parametrize("where", ["/v1/schools/031112/grants", "/v1/schools/031112/clients"])
def test_a_scim_token_is_good_for_scim_alone(access, where):
    idm = Idm(access, ["031112"])
    answer = access.client.get(where, headers={"Authorization": f"Bearer {idm.token}"})
    assert answer.status_code == 401


def test_other_tokens_are_refused_by_scim(access):
    school = "031112"
    for headers in (access.responsible(school), access.network("ondersteuningsnetwerk-x")):
        answer = access.client.get("/scim/v2/Users", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["status"] == "401"
    assert access.client.get("/scim/v2/Users").status_code == 401
    # the service provider configuration is for anyone to read
    config = access.client.get("/scim/v2/ServiceProviderConfig")
    assert config.status_code == 200 and config.json()["patch"]["supported"] is True
