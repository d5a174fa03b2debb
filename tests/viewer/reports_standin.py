"""A stand-in for the reports service's internal content API, for tests of the viewer
alone: `GET /internal/reports/{report_id}` with a viewer service token answers the
report as JSON, 404 when the report is not (or no longer) current, 401 without a
valid service token. The end-to-end tests use the real reports service."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from iris.auth import AuthError, TokenVerifier, TrustedIssuer
from iris.settings import INTERNAL_AUDIENCE


class ReportsStandIn:
    def __init__(self, issuer: str, jwks_url: str) -> None:
        self.reports: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        verifier = TokenVerifier([TrustedIssuer(issuer, jwks_url)], INTERNAL_AUDIENCE)
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                standin.requests.append(self.path)
                scheme, _, token = self.headers.get("Authorization", "").partition(" ")
                try:
                    principal = verifier.verify(token) if scheme == "Bearer" else None
                except AuthError:
                    principal = None
                if principal is None or principal.service != "viewer":
                    return self._answer(401, {"detail": "service token required"})
                prefix = "/internal/reports/"
                report = standin.reports.get(self.path.removeprefix(prefix))
                if not self.path.startswith(prefix) or report is None:
                    return self._answer(404, {"detail": "no such current report"})
                return self._answer(200, report)

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, event: Any, **content: str) -> None:
        """Serve the content of a `ReportIssued` event as current."""
        self.reports[str(event.report_id)] = {
            "report_id": str(event.report_id),
            "pupil_id": event.pupil_id,
            "version": event.version,
            "kind": event.kind,
            "clb_id": event.clb_id,
            "valid_from": event.valid_from.isoformat(),
            "issued_at": event.issued_at.isoformat(),
            "type": "7",
            "opleidingsvorm": None,
            "level": None,
            "content": {
                "needs": content.get("needs", "Needs a quiet place to work."),
                "advice": content.get("advice", "Give extra time for tests."),
                "measures_taken": content.get("measures_taken", "Speech therapy twice a week."),
                "reasoning": content.get("reasoning", "Observed over two school years."),
            },
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
