"""A small demo world for `iris dev`, so a new user sees a working platform at once."""

from __future__ import annotations

from typing import Any


def seed_demo_world(stack: Any) -> None:
    """Seed what the running services support; each service adds its part as it lands."""
    return None
