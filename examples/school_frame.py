"""How school software that works in a browser shows IRIS reports inside its own pages.

Copy the parts you need; it uses the Python standard library only. Your server, never the
browser, holds the client id and secret your school responsible registered for you
(`POST /v1/schools/{school}/clients` at the access service, or its pages) and:

1. exchanges them for a short-lived token (`POST /v1/token`, OAuth2 client credentials);
2. asks the viewer which enrolled pupils have a current report
   (`GET /v1/schools/{school}/pupils-with-report`: names and kinds, never content);
3. when a user opens a pupil, asks the access service for a single-use launch ticket for
   that pupil (`POST /v1/schools/{school}/launch-tickets`) and puts the `embed_url` it
   answers in an `<iframe>`. The URL holds no INSZ; it works once, within a minute.

The person in the frame signs in as themselves (itsme or eID, in a popup the frame opens)
and sees the report only when the school granted them access. The frame shows only on the
origins your school responsible named for this client
(`PUT /v1/schools/{school}/clients/{client_id}/frame-origins`). See docs/integration.md.

With the local stack (`iris dev`), after registering a client and naming the origin
`http://localhost:8300` for it:

    IRIS_CLIENT_ID=… IRIS_CLIENT_SECRET=… python examples/school_frame.py --school 031112

then open http://localhost:8300 (localhost: another site than the viewer's 127.0.0.1).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Iris:
    """The calls school software makes, server to server, with its client credentials."""

    def __init__(self, access: str, viewer: str, school: str, client_id: str, secret: str):
        self.access, self.viewer = access.rstrip("/"), viewer.rstrip("/")
        self.school, self.client_id, self.secret = school, client_id, secret
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """A client token, fetched again shortly before it expires (not per request)."""
        with self._lock:
            if self._token is None or time.monotonic() > self._token[1]:
                form = urllib.parse.urlencode(
                    {
                        "grant_type": "client_credentials",
                        "client_id": self.client_id,
                        "client_secret": self.secret,
                    }
                ).encode()
                answer = self._call("POST", f"{self.access}/v1/token", form, form=True)
                renew_at = time.monotonic() + 0.75 * int(answer["expires_in"])
                self._token = (str(answer["access_token"]), renew_at)
            return self._token[0]

    def pupils_with_report(self) -> list[dict[str, Any]]:
        url = f"{self.viewer}/v1/schools/{self.school}/pupils-with-report"
        return list(self._call("GET", url)["pupils"])

    def embed_url(self, pupil_id: str) -> str:
        """The frame's URL for one pupil: a new single-use launch ticket each time."""
        url = f"{self.access}/v1/schools/{self.school}/launch-tickets"
        body = json.dumps({"pupil_id": pupil_id}).encode()
        return str(self._call("POST", url, body)["embed_url"])

    def _call(self, method: str, url: str, body: bytes | None = None, form: bool = False) -> Any:
        headers = {"Accept": "application/json"}
        if form:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            headers["Authorization"] = f"Bearer {self.token()}"
            if body is not None:
                headers["Content-Type"] = "application/json"
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"not an http(s) URL: {url}")
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return json.load(answer)


def pupils_page(iris: Iris) -> str:
    items = "".join(
        f'<li><a href="/pupils/{html.escape(p["pupil_id"])}">'
        f"{html.escape(p.get('display_name') or p['pupil_id'])}</a> ({html.escape(p['kind'])})</li>"
        for p in iris.pupils_with_report()
    )
    return f"<h1>Pupils with a report</h1><ul>{items}</ul>"


def pupil_page(iris: Iris, pupil_id: str) -> str:
    frame = html.escape(iris.embed_url(pupil_id), quote=True)
    return (
        '<h1>Pupil file</h1><p><a href="/">All pupils</a></p>'
        f'<iframe id="iris" title="IRIS report" src="{frame}" width="900" height="700"></iframe>'
    )


def server(iris: Iris, port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """The school software's two pages: the pupils with a report, and one pupil's file."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/":
                body = pupils_page(iris)
            elif path.startswith("/pupils/"):
                body = pupil_page(iris, path.removeprefix("/pupils/"))
            else:
                self.send_error(404)
                return
            data = f"<!doctype html><html lang='en'><title>School software</title>{body}</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data.encode())

        def log_message(self, *args: object) -> None:
            pass

    return ThreadingHTTPServer((host, port), Pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--access", default="http://127.0.0.1:8103")
    parser.add_argument("--viewer", default="http://127.0.0.1:8104")
    parser.add_argument("--school", required=True)
    parser.add_argument("--port", type=int, default=8300)
    args = parser.parse_args()
    client_id, secret = os.environ.get("IRIS_CLIENT_ID"), os.environ.get("IRIS_CLIENT_SECRET")
    if not client_id or not secret:
        parser.error("set IRIS_CLIENT_ID and IRIS_CLIENT_SECRET (your registered client)")
    iris = Iris(args.access, args.viewer, args.school, client_id, secret)
    print(f"school software at http://localhost:{args.port} (name it as a frame origin)")
    server(iris, args.port).serve_forever()


if __name__ == "__main__":
    main()
