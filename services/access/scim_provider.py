"""What the access service's SCIM 2.0 endpoint serves (RFC 7643/7644), for a school's user
management (*gebruikersbeheer*): the User and Group schemas cut down to what IRIS keeps,
the capabilities it announces, and how a group's name says the school and the role its
members are granted.

A User's `userName` is the person's INSZ (the number they sign in with); IRIS keeps their
name, display name, e-mail addresses and whether they are active, nothing else. A Group's
`displayName` reads `<anything> — <role> — <school number>`, for example
`IRIS-platform gebruiker — leraar — 031112`."""

from __future__ import annotations

import re
from functools import cache

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ETag,
    External,
    Filter,
    Patch,
    Reference,
    ResourceType,
    Schema,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
)
from scim2_server.utils import load_default_resource_types, load_default_schemas

from iris.insz import is_valid_insz
from services.access.domain import AccessRuleBroken, Role

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
USER_ATTRIBUTES = ("userName", "name", "displayName", "active", "emails")
MAX_RESULTS = 200

ROLE_NAMES: dict[str, Role] = {
    "leraar": "teacher",
    "leerkracht": "teacher",
    "teacher": "teacher",
    "zorgcoördinator": "care_coordinator",
    "zorgcoordinator": "care_coordinator",
    "care coordinator": "care_coordinator",
    "care_coordinator": "care_coordinator",
    "leerlingbegeleider": "pupil_counsellor",
    "pupil counsellor": "pupil_counsellor",
    "pupil_counsellor": "pupil_counsellor",
    "ondersteuner": "support_worker",
    "support worker": "support_worker",
    "support_worker": "support_worker",
}
"""A group's role as its name spells it (Dutch or English, any case) → IRIS's role."""

_PARTS = re.compile(r"\s+[\u2014\u2013-]\s+")  # an em dash, an en dash or a hyphen
_SCHOOL = re.compile(r"^[0-9]{6}$")


def group_grant(display_name: str) -> tuple[str, Role]:
    """The school number and the role a group's name says, else a rule broken naming
    `displayName`."""
    parts = _PARTS.split(display_name.strip())
    role = ROLE_NAMES.get(parts[-2].strip().casefold()) if len(parts) >= 3 else None
    school = parts[-1].strip() if len(parts) >= 3 else ""
    if role is None or not _SCHOOL.match(school):
        raise AccessRuleBroken(
            "displayName",
            "displayName: a group is named '<name> — <role> — <school number>', the role "
            "one of "
            "leraar, zorgcoördinator, leerlingbegeleider, ondersteuner",
            code="group_name",
        )
    return school, role


def person_of(user_name: str | None) -> str:
    """The INSZ a User's userName holds, else a rule broken naming `userName`."""
    value = (user_name or "").strip()
    if not is_valid_insz(value):
        raise AccessRuleBroken(
            "userName", "userName: the person's INSZ, 11 digits", code="user_name_insz"
        )
    return value


def _config() -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="OAuth 2.0 client credentials",
                description="A bearer token from POST /v1/token, for a client registered "
                "with `iris clients add --scim`",
                spec_uri=Reference[External]("https://datatracker.ietf.org/doc/html/rfc6750"),
                primary=True,
            )
        ],
    )


def schemas() -> list[Schema]:
    """The User schema with only what IRIS keeps, and the Group schema."""
    defaults = load_default_schemas()
    user = defaults[USER_SCHEMA]
    kept = [a for a in user.attributes or [] if a.name in USER_ATTRIBUTES]
    return [user.model_copy(update={"attributes": kept}), defaults[GROUP_SCHEMA]]


@cache
def provider() -> ScimProvider:
    types = load_default_resource_types()
    resource_types: list[ResourceType] = [
        types["User"].model_copy(update={"schema_extensions": None}),
        types["Group"],
    ]
    return ScimProvider.from_discovery(schemas(), resource_types, config=_config())
