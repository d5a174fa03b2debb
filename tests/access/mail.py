"""What a real SMTP server (aiosmtpd, started by tests/access/conftest.py's `smtp`)
received, and people signing up for the digest."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if m["To"] == address]


def address(person: str) -> str:
    return f"p{person[-4:]}@school.test"


def sign_up(access: Any, person: str, enabled: bool = True, **claims: Any) -> None:
    """The person's token carries their e-mail address, as a sign-in's does."""
    answer = access.client.put(
        "/v1/me/notifications",
        json={"enabled": enabled},
        headers=access.issuer.headers(person, email=address(person), **claims),
    )
    assert answer.status_code == 200, answer.text
