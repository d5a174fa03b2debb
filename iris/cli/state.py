"""The platform's state and set-up: `iris migrate`, `iris topics`, `iris republish`,
`iris schemas`, `iris schools import`, `iris clients` and `iris kafka-acls`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from iris import startup
from iris.cli.common import Subparsers, add_service_command
from iris.registry import SERVICES
from iris.settings import Settings


def cmd_kafka_acls(args: argparse.Namespace) -> int:
    from iris import kafka_acls

    for rule in kafka_acls.plan():
        print(rule.kafka_acls_line(args.bootstrap))
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    from iris.event_schemas import dumps_schema, json_schemas

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, schema in json_schemas().items():
        path = out / f"{name}.v1.json"
        text = dumps_schema(schema)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)} (run: iris schemas --out {out})", file=sys.stderr)
        return 1
    if not args.check:
        print(f"wrote {len(json_schemas())} schemas to {out}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    import time

    from sqlalchemy.exc import OperationalError

    from iris.db import upgrade

    spec = SERVICES[args.service]
    startup.check("migrate", spec.name)
    url = Settings().database_url_for(spec.name)
    deadline: float | None = None  # `--wait` seconds from the first refusal
    while True:
        try:
            upgrade(spec.migrations_dir, url)
            break
        except OperationalError as exc:  # the database server is not accepting connections yet
            deadline = deadline or time.monotonic() + args.wait
            if time.monotonic() >= deadline:
                print(f"iris migrate: database unreachable: {exc.orig!r}", file=sys.stderr)
                return 1
            print("iris migrate: waiting for the database", file=sys.stderr)
            time.sleep(1)
    print(f"{spec.name}: database at the newest migration")
    return 0


def cmd_topics(_args: argparse.Namespace) -> int:
    from iris.kafka import ensure_topics, wait_for_broker

    startup.check("topics")

    async def create() -> list[str]:
        settings = Settings()
        await wait_for_broker(settings)
        return await ensure_topics(settings)

    created = asyncio.run(create())
    print(f"created: {', '.join(created) or 'nothing, all topics exist'}")
    return 0


def cmd_republish(args: argparse.Namespace) -> int:
    spec = SERVICES[args.service]
    if not spec.has("republish"):
        print(f"{spec.name} keeps no state to republish", file=sys.stderr)
        return 2
    count = spec.load("republish", "republish")(Settings())
    print(f"{spec.name}: queued {count} events for publishing")
    return 0


def cmd_schools_import(args: argparse.Namespace) -> int:
    from iris.store import in_one_transaction
    from services.access.schools import SchoolFileError, import_schools, parse_schools

    try:
        schools = parse_schools(Path(args.file).read_text(encoding="utf-8-sig"))
    except (OSError, SchoolFileError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    count = in_one_transaction("access", Settings(), lambda s: import_schools(s, schools))
    special = sum(school.kind == "special" for school in schools)
    print(f"access: {count} schools in the register ({special} special)")
    return 0


def add_kafka_acls(sub: Subparsers) -> None:
    acls = sub.add_parser("kafka-acls", help="print the broker ACLs each principal needs")
    acls.add_argument("--bootstrap", default="$BOOTSTRAP")
    acls.set_defaults(func=cmd_kafka_acls)


def add_schemas(sub: Subparsers) -> None:
    sch = sub.add_parser("schemas", help="write the JSON Schema of every event")
    sch.add_argument("--out", default="schemas")
    sch.add_argument("--check", action="store_true", help="fail if the files are out of date")
    sch.set_defaults(func=cmd_schemas)


def add_republish(sub: Subparsers) -> None:
    text = "re-emit a service's current state from its database"
    add_service_command(sub, "republish", text, cmd_republish)


def add_migrate(sub: Subparsers) -> None:
    text = "alembic upgrade head for a service's database"
    cmd = add_service_command(sub, "migrate", text, cmd_migrate)
    cmd.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the database")


def add_schools(sub: Subparsers) -> None:
    schools = sub.add_parser("schools", help="the register of schools (access service)")
    schools_sub = schools.add_subparsers(dest="schools_command", required=True)
    imp = schools_sub.add_parser(
        "import", help="load schools from a CSV file: institution_number,name,kind,address,clb_id"
    )
    imp.add_argument("file", metavar="FILE.csv")
    imp.set_defaults(func=cmd_schools_import)


def add_topics(sub: Subparsers) -> None:
    top = sub.add_parser("topics", help="create the topics")
    top.set_defaults(func=cmd_topics)
