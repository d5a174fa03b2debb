"""The origins whose pages may frame the viewer's `/embed` pages, kept per school-software
client: the school responsible names them; the viewer asks for a school's origins on its
internal route and uses them as the `frame-ancestors` of that school's frames. The routes
are in routes/frame_origins.py, the page in pages/frame_origins.py."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.access import service
from services.access.models import ClientRow
from services.access.repository import SqlAccessRepository

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
DEFAULT_PORTS = {"https": 443, "http": 80}


def normal_origin(value: str) -> str:
    """`scheme://host[:port]` in lower case, without path or default port; https, or http on
    a loopback host (development)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("an origin is https://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("an origin has no path, query, fragment or user")
    host = parts.netloc.rsplit("@", 1)[-1].lower()
    if ":" in host and not host.endswith("]"):
        host = host.rsplit(":", 1)[0]
    if parts.scheme == "http" and host not in LOOPBACK:
        raise ValueError("an origin outside this machine must be https")
    port = parts.port
    suffix = "" if port in (None, DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{suffix}"


def origins_of(row: ClientRow) -> list[str]:
    return list(json.loads(row.frame_origins)) if row.frame_origins else []


def set_frame_origins(
    session: Session, school_id: str, client_id: str, origins: list[str], actor: str
) -> ClientRow:
    repo = SqlAccessRepository(session)
    row = service.client_row(repo, school_id, client_id, lock=True)
    before = origins_of(row)
    after = sorted(set(origins))
    if before != after:
        row.frame_origins = json.dumps(after) if after else None
        service.audit(
            repo,
            school_id,
            actor,
            "client.frame_origins",
            client_id,
            None,
            {"frame_origins": before},
            {"frame_origins": after},
        )
        session.flush()
    return row


def school_frame_origins(session: Session, school_id: str) -> list[str]:
    """The origins of the school's active clients together."""
    rows = session.scalars(
        select(ClientRow).where(ClientRow.school_id == school_id, ClientRow.status == "active")
    )
    return sorted({origin for row in rows for origin in origins_of(row)})
