"""What each part needs in production, checked before it starts: one message naming every
missing variable, instead of a failure on the first one an operator then fixes alone.

A variable counts as given when it is in the environment or is a file of that name in the
secrets folder (`IRIS_SECRETS_DIR`, /run/secrets). The values themselves are checked by
`Settings` (no development issuer, no SQLite in production).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from iris.settings import secret_files

# parts with pages: people sign in there and follow links between the services
PAGES = {"reports", "access", "viewer"}
PAGE_SETTINGS = ("IRIS_SESSION_SECRET", "IRIS_ACCESS_URL", "IRIS_VIEWER_URL")


class MissingSettings(SystemExit):
    """The production settings a part needs and was not given."""

    def __init__(self, part: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"iris {part}: IRIS_ENV=production needs these settings, which are not set "
            f"(as variables or as files in the secrets folder): {', '.join(missing)}"
        )


def required(command: str, service: str | None) -> list[tuple[str, ...]]:
    """Each entry is satisfied by any one of its names."""
    # every part: `Settings` refuses the development issuer in production
    needs: list[tuple[str, ...]] = [("IRIS_OIDC_ISSUER",)]
    if command in ("api", "worker", "topics"):
        needs.append(("IRIS_KAFKA_BOOTSTRAP",))
    # every part of a service keeps its state in the service's database, but the viewer's
    # worker, whose state is the authorisation cache in Redis
    stateless = (service, command) == ("viewer", "worker")
    if service and command in ("api", "worker", "migrate") and not stateless:
        needs.append(("IRIS_DATABASE_URL", f"IRIS_{service.upper()}_DATABASE_URL"))
    if command == "api":
        needs.append(("IRIS_FORWARDED_ALLOW_IPS",))
        if service in PAGES:
            needs += [(name,) for name in PAGE_SETTINGS]
    if service == "access" and command == "api":
        needs += [("IRIS_ACCESS_SIGNING_KEY_FILE",), ("IRIS_CLIENT_ISSUER",)]
    if service == "viewer" and command in ("api", "worker"):
        needs.append(("IRIS_REDIS_URL",))
    if service == "viewer" and command == "api":
        needs += [
            ("IRIS_REPORTS_URL",),
            ("IRIS_SERVICE_CLIENT_ID", "IRIS_SERVICE_TOKEN"),
            ("IRIS_SERVICE_CLIENT_SECRET", "IRIS_SERVICE_TOKEN"),
        ]
    return needs


def missing(
    command: str,
    service: str | None,
    environ: Mapping[str, str] | None = None,
    files: Mapping[str, str] | None = None,
) -> list[str]:
    environ = os.environ if environ is None else environ
    given = {k.upper() for k, v in environ.items() if v}
    given |= {k.upper() for k, v in (secret_files() if files is None else files).items() if v}
    return [" or ".join(names) for names in required(command, service) if given.isdisjoint(names)]


def check(command: str, service: str | None = None) -> None:
    """Raise `MissingSettings` (exit with its message) when production lacks a setting."""
    if os.environ.get("IRIS_ENV", "").lower() != "production":
        return
    absent = missing(command, service)
    if absent:
        part = f"{command} {service}" if service else command
        raise MissingSettings(part, absent)
