"""What the `iris` command's groups share."""

from __future__ import annotations

import argparse
from typing import Any

from iris.registry import SERVICES

Subparsers = Any  # argparse's _SubParsersAction, which it does not export


def service_name(name: str) -> str:
    if name not in SERVICES:
        raise argparse.ArgumentTypeError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return name
