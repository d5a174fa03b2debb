"""What the `iris` command's groups share."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from iris.registry import SERVICES

Subparsers = Any  # argparse's _SubParsersAction, which it does not export


def service_name(name: str) -> str:
    if name not in SERVICES:
        raise argparse.ArgumentTypeError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return name


def add_service_command(
    sub: Subparsers, name: str, text: str, func: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    """A command that names one service of the registry."""
    cmd: argparse.ArgumentParser = sub.add_parser(name, help=text)
    cmd.add_argument("service", type=service_name)
    cmd.set_defaults(func=func)
    return cmd
