"""`iris clients` and `iris notify`: the access service's clients and e-mail digests."""

from __future__ import annotations

import argparse
import sys

from iris import startup
from iris.cli.common import Subparsers
from iris.settings import Settings


def cmd_clients(args: argparse.Namespace) -> int:
    from services.access import service_clients

    if args.action == "revoke" and not args.client_id:
        print("iris clients revoke: name the client to revoke", file=sys.stderr)
        return 2
    if args.action == "add" and args.scim and not args.school:
        print("iris clients add --scim: name its schools with --school", file=sys.stderr)
        return 2
    startup.check("migrate", "access")
    url = Settings().database_url_for("access")
    scim = (args.scim, args.school) if args.scim else None
    try:
        return service_clients.command(
            args.action, args.service, args.client_id, url, args.support_network, scim
        )
    except (LookupError, ValueError) as exc:
        print(f"iris clients: {exc}", file=sys.stderr)
        return 2


def cmd_notify(args: argparse.Namespace) -> int:
    from services.access import notifications

    startup.check("migrate", "access")
    try:
        if args.every:
            return notifications.every(Settings(), args.every)
        return notifications.command(Settings())
    except RuntimeError as exc:
        print(f"iris notify: {exc}", file=sys.stderr)
        return 2


def add_clients(sub: Subparsers) -> None:
    cli = sub.add_parser(
        "clients", help="service and support-network clients of the access service"
    )
    cli.add_argument("action", choices=["add", "list", "revoke"])
    cli.add_argument("client_id", nargs="?", help="revoke: the client to revoke")
    cli.add_argument("--service", default="viewer", help="add: the service (default viewer)")
    cli.add_argument(
        "--support-network",
        metavar="N",
        help="add: a client for support network N's software (list: only N's)",
    )
    cli.add_argument(
        "--scim",
        metavar="DIRECTORY",
        help="add: a client for a school's user management (SCIM at /scim/v2), keeping "
        "the users and groups of DIRECTORY",
    )
    cli.add_argument(
        "--school",
        action="append",
        default=[],
        metavar="NUMBER",
        help="add --scim: a school whose grants it keeps (repeat for each school)",
    )
    cli.set_defaults(func=cmd_clients)


def add_notify(sub: Subparsers) -> None:
    notify = sub.add_parser("notify", help="send today's e-mail digests (access database)")
    notify.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="keep running, once every SECONDS (one digest a person a day still holds)",
    )
    notify.set_defaults(func=cmd_notify)
