"""Behind the TLS proxy or ingress: an API in production believes the forwarded headers of
the addresses IRIS_FORWARDED_ALLOW_IPS names, so the sign-in redirect URI is https."""

from __future__ import annotations

import functools
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from iris.settings import Settings
from tests.deploy.conftest import _QuietHandler
from tests.deploy.stack import free_port
from tests.support import Issuer, iris_process, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def discovery(tmp_path: Path, issuer: Issuer) -> Iterator[str]:
    """An issuer published over HTTP with its discovery document (name: localhost)."""
    folder = tmp_path / "issuer"
    (folder / ".well-known").mkdir(parents=True)
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder))
    )
    url = f"http://localhost:{server.server_address[1]}"
    (folder / "jwks.json").write_text(issuer.jwks_path.read_text())
    document = {
        "issuer": url,
        "authorization_endpoint": f"{url}/authorize",
        "token_endpoint": f"{url}/token",
        "jwks_uri": f"{url}/jwks.json",
    }
    (folder / ".well-known" / "openid-configuration").write_text(json.dumps(document))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def sign_in_redirect(port: int) -> str:
    answer = httpx.get(
        f"http://127.0.0.1:{port}/auth/login",
        headers={
            "Host": "reports.iris.test",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.9",
        },
        timeout=10,
    )
    assert answer.status_code in (302, 303, 307), answer.text
    return parse_qs(urlparse(answer.headers["location"]).query)["redirect_uri"][0]


@pytest.mark.parametrize(
    "allowed, scheme", [("*", "https"), ("127.0.0.1", "https"), ("192.0.2.10", "http")]
)
def test_the_sign_in_redirect_is_https_when_the_proxy_is_believed(
    make_settings: Callable[..., Settings],
    discovery: str,
    tmp_path: Path,
    allowed: str,
    scheme: str,
) -> None:
    settings = make_settings("reports")
    port = free_port()
    env = {
        "IRIS_ENV": "production",
        "IRIS_SECRETS_DIR": str(tmp_path / "no-secrets"),
        "IRIS_DATA_DIR": str(tmp_path / "data"),
        "IRIS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "IRIS_DATABASE_URL": settings.database_url_for("reports"),
        "IRIS_OIDC_ISSUER": discovery,
        "IRIS_SESSION_SECRET": secrets.token_urlsafe(32),
        "IRIS_ACCESS_URL": "https://access.iris.test",
        "IRIS_VIEWER_URL": "https://viewer.iris.test",
        "IRIS_FORWARDED_ALLOW_IPS": allowed,
    }
    log = tmp_path / "reports.log"
    with iris_process(["api", "reports", "--port", str(port)], env, log) as api:

        def up() -> bool:
            assert api.poll() is None, log.read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).is_success
            except httpx.HTTPError:
                return False

        wait_until(up, timeout=60, interval=0.3, message="the reports API")
        assert sign_in_redirect(port) == f"{scheme}://reports.iris.test/auth/callback"
