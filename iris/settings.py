"""Settings shared by every service: `IRIS_`-prefixed environment variables.

Defaults suit the embedded stack (`iris dev`); production refuses the
development issuer and keys.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_ISSUER_PORT = 8100
SERVICE_PORTS = {"enrolment": 8101, "reports": 8102, "access": 8103, "viewer": 8104}
DEFAULT_AUDIENCE = "iris"
INTERNAL_AUDIENCE = "iris-internal"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IRIS_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".iris")

    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_idempotence: bool = False
    topic_partitions: int | None = None  # override the registry's counts (embedded broker)
    redis_url: str = "redis://127.0.0.1:16379/0"
    database_url: str | None = None  # default: SQLite file per service under data_dir

    oidc_issuer: str = f"http://127.0.0.1:{DEV_ISSUER_PORT}"
    oidc_jwks_url: str | None = None  # default: <issuer>/jwks.json
    # The access service issues school-software client tokens; trusted for clients only.
    client_issuer: str | None = f"http://127.0.0.1:{SERVICE_PORTS['access']}"
    audience: str = DEFAULT_AUDIENCE
    internal_audience: str = INTERNAL_AUDIENCE

    # viewer: the reports service's internal API, the viewer's service token for it
    # (minted from the development issuer when unset outside production), and the
    # school-software origins that may frame /embed pages.
    reports_url: str = f"http://127.0.0.1:{SERVICE_PORTS['reports']}"
    service_token: str | None = None
    embed_origins: list[str] = []

    outbox_relay: bool = True
    outbox_poll_seconds: float = 0.2
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_production(self) -> Settings:
        if self.env == "production":
            if self.oidc_issuer.startswith(f"http://127.0.0.1:{DEV_ISSUER_PORT}"):
                raise ValueError(
                    "IRIS_OIDC_ISSUER must name the production issuer when IRIS_ENV=production"
                )
            if self.database_url is None or self.database_url.startswith("sqlite"):
                raise ValueError("IRIS_DATABASE_URL must name a server database in production")
        return self

    @property
    def jwks_url(self) -> str:
        return self.oidc_jwks_url or self.oidc_issuer.rstrip("/") + "/jwks.json"

    def database_url_for(self, service: str) -> str:
        """`IRIS_<SERVICE>_DATABASE_URL`, else `IRIS_DATABASE_URL`, else a SQLite file."""
        own = os.environ.get(f"IRIS_{service.upper()}_DATABASE_URL")
        if own:
            return own
        if self.database_url:
            return self.database_url
        path = (self.data_dir / f"{service}.sqlite3").resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
