"""Settings shared by every service: `IRIS_`-prefixed environment variables.

Defaults suit the embedded stack (`iris dev`); production refuses the
development issuer and keys.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

DEV_ISSUER_PORT = 8100
SERVICE_PORTS = {"enrolment": 8101, "reports": 8102, "access": 8103, "viewer": 8104}
DEFAULT_AUDIENCE = "iris"
INTERNAL_AUDIENCE = "iris-internal"


def secrets_dir() -> Path | None:
    """Where secrets are files named like their variable (`IRIS_SESSION_SECRET`, …):
    `IRIS_SECRETS_DIR`, else /run/secrets when it exists (Compose and Kubernetes mounts)."""
    named = os.environ.get("IRIS_SECRETS_DIR")
    if named:
        return Path(named)
    default = Path("/run/secrets")
    return default if default.is_dir() else None


def local_port(name: str, default: int) -> int:
    """The local port of a part of the embedded stack (`IRIS_<NAME>_PORT` overrides it)."""
    return int(os.environ.get(f"IRIS_{name.upper()}_PORT", default))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IRIS_", extra="ignore")
    _service_database_urls: dict[str, str] = PrivateAttr(default_factory=dict)

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".iris")

    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_idempotence: bool = False
    # How long a worker's fetch may wait at the broker for data. Apache Kafka answers a
    # waiting fetch as soon as data arrives, so its own default (500 ms) costs no latency;
    # the embedded Tansu answers only when the wait ends, so `iris dev` sets 100 ms on it.
    # (Faust fixes 1,500 ms, which would hold every change on Tansu that long.)
    kafka_fetch_max_wait_ms: int = 500
    # How every Kafka client in IRIS connects: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL;
    # SASL with PLAIN or SCRAM-SHA-256/512; TLS trusting `kafka_ssl_cafile` (and a client
    # certificate for mTLS). See docs/operations.md.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    topic_partitions: int | None = None  # override the registry's counts (embedded broker)
    topic_replication_factor: int = 1  # 3 on a production Kafka cluster
    # min.insync.replicas of the topics IRIS creates (2 beside a replication factor of 3)
    topic_min_insync_replicas: int | None = None
    redis_url: str = "redis://127.0.0.1:16379/0"
    database_url: str | None = None  # default: SQLite file per service under data_dir

    oidc_issuer: str = Field(
        default_factory=lambda: f"http://127.0.0.1:{local_port('issuer', DEV_ISSUER_PORT)}"
    )
    # The issuer's JWKS: this URL when set, else the `jwks_uri` of the issuer's OIDC
    # discovery document (<issuer>/.well-known/openid-configuration).
    oidc_jwks_url: str | None = None
    # How long fetched signing keys are trusted before the JWKS is fetched again: a key
    # the issuer removed is refused at most this long after its removal.
    jwks_refresh_seconds: float = 300.0
    # Clock skew tolerated on `exp`, `nbf` and `iat` (seconds); never more than a minute.
    token_leeway_seconds: int = Field(default=5, ge=0, le=60)
    # How a person must have signed in (`amr`): person tokens without one are refused.
    accepted_amr: list[str] = ["itsme", "eid"]
    # A submission on Kafka is replayable while its token lives: its token may live at
    # most this long (exp - iat) and must carry `iat`.
    submission_token_max_lifetime_seconds: int = Field(default=900, ge=1)
    # Every service refuses a request body larger than this (413).
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # The access service issues school-software client tokens; trusted for clients only.
    client_issuer: str | None = Field(
        default_factory=lambda: f"http://127.0.0.1:{local_port('access', SERVICE_PORTS['access'])}"
    )
    # `iris stage` only: production settings beside the local development issuer
    allow_local_issuer: bool = False
    audience: str = DEFAULT_AUDIENCE
    internal_audience: str = INTERNAL_AUDIENCE
    # Pages: the OIDC client a service signs people in as, and the secret that signs
    # session cookies (production refuses the development default; see iris.ui.session).
    oidc_client_id: str | None = None  # default: the service's name
    oidc_client_secret: str | None = None  # none: a public client with PKCE
    session_secret: str = "iris-development-session-secret"  # noqa: S105

    # The access service: its client-token signing key (default: under data_dir), the lifetime
    # of client tokens, and how often it looks for grants whose period has passed.
    access_signing_key_file: Path | None = None
    access_client_token_ttl_seconds: int = 900
    access_expiry_period_seconds: float = 30.0
    # POST /v1/token: attempts per source address per minute, and failed attempts per
    # client id (or per source) before that client id (or source) is locked out for
    # `token_lockout_seconds`; both answer 429 with Retry-After.
    token_attempts_per_minute: int = Field(default=60, ge=1)
    token_failures_before_lockout: int = Field(default=5, ge=1)
    token_lockout_seconds: float = Field(default=300.0, gt=0)

    # The enrolment register: how many school years after the current one a registration
    # may start (1: until 31 August of the next school year). Sight starts at registration.
    enrolment_school_years_ahead: int = Field(1, ge=0, le=5)

    # viewer: the reports service's internal API, the viewer's service token for it
    # (minted from the development issuer when unset outside production), and the
    # school-software origins that may frame /embed pages.
    reports_url: str = Field(
        default_factory=lambda: (
            f"http://127.0.0.1:{local_port('reports', SERVICE_PORTS['reports'])}"
        )
    )
    service_token: str | None = None
    # ... or, in production, the viewer's client credentials at the access service, which
    # it exchanges for a token at `IRIS_SERVICE_TOKEN_URL` (default `<client issuer>/v1/token`)
    service_client_id: str | None = None
    service_client_secret: str | None = None
    service_token_url: str | None = None
    # origins that may frame every school's /embed pages, beside the origins each school
    # names per school-software client (docs/integration.md)
    embed_origins: list[str] = []
    # access: how long a launch ticket for the viewer's frame may wait to be used (once)
    launch_ticket_ttl_seconds: int = Field(default=60, ge=5, le=600)
    # e-mail (`iris notify`, services/access/notifications.py): the SMTP server, its
    # credentials, STARTTLS, and the sender
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "IRIS <no-reply@iris.invalid>"
    # access: the people (INSZ) who may register support networks' clients over HTTP
    # (services/access/routes/network_clients.py); operators can always use `iris clients`
    platform_admins: list[str] = []
    # viewer: the freshness lease's TTL, and how far behind the topics the viewer worker's
    # agents may be (in seconds of arrivals) while it still renews the lease
    # (services/viewer/freshness.py).
    viewer_lease_seconds: float = 3.0
    viewer_max_lag_seconds: float = 3.0

    # where people find the pages of the access service and the viewer (links between them)
    access_url: str = Field(
        default_factory=lambda: f"http://127.0.0.1:{local_port('access', SERVICE_PORTS['access'])}"
    )
    viewer_url: str = Field(
        default_factory=lambda: f"http://127.0.0.1:{local_port('viewer', SERVICE_PORTS['viewer'])}"
    )

    # addresses whose X-Forwarded-* headers uvicorn believes (the TLS proxy or ingress), so
    # that redirect URIs are https behind it; a comma-separated list, or "*"
    forwarded_allow_ips: str = "127.0.0.1"

    # Privacy: how long each kind of personal data is kept (days), counted from when it
    # stopped serving its purpose; docs/privacy.md gives each default's reason and who may
    # change it. The purge (iris/retention.py) runs in every service every
    # `purge_period_seconds` and deletes at most `purge_batch_size` rows per transaction.
    retention_views_days: int = Field(default=730, ge=1)
    retention_ended_enrolment_days: int = Field(default=730, ge=1)
    retention_closed_grant_days: int = Field(default=1825, ge=1)
    retention_closed_request_days: int = Field(default=1825, ge=1)
    retention_audit_days: int = Field(default=1825, ge=1)
    retention_replaced_report_days: int = Field(default=3650, ge=1)
    retention_outbox_days: int = Field(default=7, ge=1)
    retention_intake_days: int = Field(default=7, ge=1)
    purge_period_seconds: float = Field(default=3600.0, gt=0)
    purge_batch_size: int = Field(default=1000, ge=1)

    outbox_relay: bool = True
    outbox_poll_seconds: float = 0.2
    log_level: str = "INFO"

    # A faust worker serves /metrics, /healthz and /readyz on this port when set.
    worker_metrics_port: int | None = None
    worker_metrics_interval: float = 5.0  # seconds between consumer-lag measurements

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the secrets folder is looked up when settings are made, not when this is imported
        files = SecretsSettingsSource(settings_cls, secrets_dir=secrets_dir())
        return init_settings, env_settings, dotenv_settings, files

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_production(self) -> Settings:
        if self.env == "production":
            if self.oidc_issuer.startswith("http://127.0.0.1:") and not self.allow_local_issuer:
                raise ValueError(
                    "IRIS_OIDC_ISSUER must name the production issuer when IRIS_ENV=production"
                )
            if self.database_url is not None and self.database_url.startswith("sqlite"):
                raise ValueError("IRIS_DATABASE_URL must name a server database in production")
        return self

    def model_post_init(self, _context: object) -> None:
        self._service_database_urls = {
            name.upper().removeprefix("IRIS_").removesuffix("_DATABASE_URL").lower(): value
            for name, value in {**secret_files(), **os.environ}.items()
            if name.upper().startswith("IRIS_")
            and name.upper().endswith("_DATABASE_URL")
            and value
            and name.upper() != "IRIS_DATABASE_URL"
        }

    @property
    def token_url(self) -> str | None:
        """Where the viewer exchanges its client credentials for a token."""
        if self.service_token_url:
            return self.service_token_url
        return self.client_issuer.rstrip("/") + "/v1/token" if self.client_issuer else None

    @property
    def jwks_url(self) -> str | None:
        """The explicit JWKS URL; None means: find it by OIDC discovery."""
        return self.oidc_jwks_url or None

    def database_url_for(self, service: str) -> str:
        """`IRIS_<SERVICE>_DATABASE_URL`, else `IRIS_DATABASE_URL`, else a SQLite file."""
        url = self._service_database_urls.get(service) or self.database_url
        if self.env == "production" and (not url or url.startswith("sqlite")):
            raise ValueError(
                f"IRIS_{service.upper()}_DATABASE_URL or IRIS_DATABASE_URL must name a server "
                "database in production"
            )
        if url:
            return url
        path = (self.data_dir / f"{service}.sqlite3").resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"


def secret_files() -> dict[str, str]:
    """The secrets folder's files by name, each file's text without the final newline."""
    folder = secrets_dir()
    if folder is None or not folder.is_dir():
        return {}
    return {
        p.name: p.read_text().rstrip("\n")
        for p in folder.iterdir()
        if p.is_file() and p.name.upper().startswith("IRIS_")
    }
