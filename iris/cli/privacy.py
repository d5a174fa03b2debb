"""`iris purge` and `iris erase`: retention and erasure on request (docs/privacy.md)."""

from __future__ import annotations

import argparse

from iris import startup
from iris.cli.common import Subparsers, service_name
from iris.registry import SERVICES
from iris.settings import Settings


def cmd_purge(args: argparse.Namespace) -> int:
    from iris.purge_command import command

    services = args.services or list(SERVICES)
    for service in services:
        startup.check("migrate", service)
    return command(services, args.dry_run, Settings())


def cmd_erase(args: argparse.Namespace) -> int:
    from iris import erasure

    for service in SERVICES:
        startup.check("migrate", service)
    role: erasure.Role = "pupil" if args.pupil else "person"
    insz = args.pupil or args.person
    return erasure.command(list(SERVICES), role, insz, args.reference, Settings())


def add_purge(sub: Subparsers) -> None:
    purge = sub.add_parser("purge", help="delete what is past its retention period")
    purge.add_argument("services", nargs="*", type=service_name, metavar="SERVICE")
    purge.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")
    purge.set_defaults(func=cmd_purge)


def add_erase(sub: Subparsers) -> None:
    erase = sub.add_parser("erase", help="erase one pupil's or person's data (docs/privacy.md)")
    whom = erase.add_mutually_exclusive_group(required=True)
    whom.add_argument("--pupil", metavar="INSZ")
    whom.add_argument("--person", metavar="INSZ")
    erase.add_argument(
        "--reference", required=True, help="the request's reference, for the audit trail"
    )
    erase.set_defaults(func=cmd_erase)
