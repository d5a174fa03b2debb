"""`iris token`: a JWT from the development issuer."""

from __future__ import annotations

import argparse
import sys

from iris.cli.common import Subparsers
from iris.settings import DEFAULT_AUDIENCE, INTERNAL_AUDIENCE, Settings


def token_lifetime(args: argparse.Namespace, settings: Settings) -> int:
    """`--ttl`, else an hour; a school client's token lives no longer than the enrolment
    worker accepts for a Kafka submission."""
    if args.ttl is not None:
        return int(args.ttl)
    if args.school_client:
        return settings.submission_token_max_lifetime_seconds
    return 3600


def cmd_token(args: argparse.Namespace) -> int:
    from iris.auth import dev_issuer_key, mint

    settings = Settings()
    claims: dict[str, object] = {
        "name": args.name,
        "amr": [args.amr],
        "school_admin_of": args.school_admin_of,
        "clb_staff_of": args.clb_staff_of,
        "parent_of": args.parent_of,
        "school_id": args.school_client,
        "support_network": args.support_network,
        "service": args.service,
    }
    audience = args.audience or (INTERNAL_AUDIENCE if args.service else DEFAULT_AUDIENCE)
    subject = args.sub or (f"service:{args.service}" if args.service else None)
    if subject is None:
        print("iris token: --sub is required (the person's INSZ)", file=sys.stderr)
        return 2
    token = mint(
        dev_issuer_key(settings),
        settings.oidc_issuer,
        subject,
        audience,
        ttl_seconds=token_lifetime(args, settings),
        **claims,
    )
    print(token)
    return 0


def add_token(sub: Subparsers) -> None:
    tok = sub.add_parser("token", help="print a JWT from the development issuer")
    tok.add_argument("--sub", help="the person's INSZ")
    tok.add_argument("--name")
    tok.add_argument("--amr", default="itsme", choices=["itsme", "eid"])
    tok.add_argument("--school-admin-of", action="append", default=[], metavar="SCHOOL")
    tok.add_argument("--clb-staff-of", action="append", default=[], metavar="CLB")
    tok.add_argument("--parent-of", action="append", default=[], metavar="PUPIL")
    tok.add_argument("--school-client", metavar="SCHOOL", help="a school-software client token")
    tok.add_argument("--support-network", metavar="NETWORK")
    tok.add_argument("--service", choices=["viewer"], help="a service identity")
    tok.add_argument("--audience")
    tok.add_argument(
        "--ttl", type=int, help="seconds (default 3600; a school client's: what submissions allow)"
    )
    tok.set_defaults(func=cmd_token)
