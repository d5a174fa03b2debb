"""What the viewer's answers carry to keep report content where it is shown: no caching,
no sniffing, no referrer, a content security policy and framing only by school software
(`IRIS_EMBED_ORIGINS`) for the embedded page."""

from __future__ import annotations

import re

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRICT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'"
)
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'"
)
REPORT_PATH = re.compile(r"^/((embed/)?pupils/[^/]+/report|embed/report)$")
UNGUARDED = ("/docs", "/redoc", "/openapi.json")


def navigation_from_elsewhere(request: Request) -> bool:
    """Whether a browser with the session cookie was sent here by something other than
    an IRIS page: `Sec-Fetch-Site` is cross-site, none (a link opened from an e-mail or
    another program, a bookmark) or missing. A request with a bearer header carries no
    ambient credentials: school software and API clients ask on purpose."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return False
    return request.headers.get("sec-fetch-site") not in ("same-origin", "same-site")


class SecurityHeaders:
    """No-store, nosniff, no referrer and the content security policy on every answer
    (plain ASGI: it sets the headers as the response starts)."""

    def __init__(self, app: ASGIApp, embed_origins: list[str]) -> None:
        self.app = app
        self.embed_ancestors = " ".join(embed_origins) or "'none'"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in UNGUARDED:
            await self.app(scope, receive, send)
            return
        embedded = path.startswith("/embed/")
        # an /embed route may name its frame's ancestors (the school's origins) and a
        # policy of its own (the sign-in page's script); see services/viewer/embed.py
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                ancestors = "'none'"
                if embedded:
                    ancestors = state.get("frame_ancestors") or self.embed_ancestors
                # the report page allows no form at all; the other pages post their forms
                # to this service (sign-out, search) and load nothing from elsewhere
                policy = STRICT_CSP if REPORT_PATH.match(path) else PAGE_CSP
                policy = (state.get("page_policy") if embedded else None) or policy
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = f"{policy}; frame-ancestors {ancestors}"
                headers["Cache-Control"] = "no-store"
                headers["Pragma"] = "no-cache"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if not embedded:
                    headers["X-Frame-Options"] = "DENY"
            await send(message)

        await self.app(scope, receive, send_with_headers)
