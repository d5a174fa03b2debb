from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import Issuer


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def jwks_http_url(issuer: Issuer) -> Iterator[str]:
    """The test issuer's JWKS over HTTP, as child processes fetch it in production."""
    handler = functools.partial(_QuietHandler, directory=str(issuer.jwks_path.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{issuer.jwks_path.name}"
    finally:
        server.shutdown()
        server.server_close()
