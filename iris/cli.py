"""The `iris` command.

iris dev                      run the whole platform on embedded defaults
iris token --sub INSZ …       print a JWT from the development issuer
iris schemas [--out DIR]      write the JSON Schema of every event
iris republish SERVICE        re-emit a service's current state from its database
iris migrate SERVICE          alembic upgrade head for a service's database
iris topics                   create the topics with their partitions and compaction
iris clients add|list|revoke  the access service's service clients (the viewer's credentials)
                              and support networks' clients (--support-network N)
iris notify                   send today's e-mail digests (run it daily)
iris api SERVICE              run a service's HTTP API
iris worker SERVICE           run a service's faust worker
iris probe [URL]              exit 0 when URL (default $IRIS_HEALTH_URL) answers 2xx
iris schools import FILE.csv  load the register of schools (docs/ARCHITECTURE.md: column layout)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from iris import logs, startup
from iris.registry import SERVICES
from iris.settings import DEFAULT_AUDIENCE, INTERNAL_AUDIENCE, Settings


def _service(name: str) -> str:
    if name not in SERVICES:
        raise argparse.ArgumentTypeError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return name


def cmd_dev(args: argparse.Namespace) -> int:
    from iris.dev import Stack, run

    data_dir = Path(args.data_dir) if args.data_dir else Settings().data_dir
    return run(Stack(data_dir), seed=not args.no_seed)


def cmd_stage(args: argparse.Namespace) -> int:
    from iris.dev import run
    from iris.stage import Stage

    data_dir = Path(args.data_dir) if args.data_dir else Settings().data_dir
    return run(Stage(data_dir), seed=not args.no_seed, what="the production topology")


def cmd_kafka_acls(args: argparse.Namespace) -> int:
    from iris import kafka_acls

    for rule in kafka_acls.plan():
        print(rule.kafka_acls_line(args.bootstrap))
    return 0


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


def cmd_schemas(args: argparse.Namespace) -> int:
    from iris.contracts import dumps_schema, json_schemas

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
    deadline = time.monotonic() + args.wait
    while True:
        try:
            upgrade(spec.migrations_dir, url)
            break
        except OperationalError as exc:  # the database server is not accepting connections yet
            if time.monotonic() >= deadline:
                print(f"iris migrate: database unreachable: {exc.orig!r}", file=sys.stderr)
                return 1
            print("iris migrate: waiting for the database", file=sys.stderr)
            time.sleep(1)
    print(f"{spec.name}: database at the newest migration")
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    import os
    import urllib.request

    url = args.url or os.environ.get("IRIS_HEALTH_URL")
    if not url:
        return 0  # one-shot jobs have nothing to probe
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:  # noqa: S310
            return 0 if 200 <= response.status < 300 else 1
    except OSError as exc:
        print(f"iris probe: {url}: {exc}", file=sys.stderr)
        return 1


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


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    spec = SERVICES[args.service]
    startup.check("api", spec.name)
    settings = Settings()
    logs.configure(spec.name, settings.log_level)
    app = spec.load("api", "create_app")(settings)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port or spec.port,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        access_log=False,
    )
    return 0


def cmd_serve_issuer(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings()
    logs.configure("issuer", settings.log_level)
    from iris.issuer import create_app

    uvicorn.run(
        create_app(settings), host=args.host, port=args.port, log_config=None, access_log=False
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from faust.worker import Worker

    spec = SERVICES[args.service]
    startup.check("worker", spec.name)
    settings = Settings()
    logs.configure(f"{spec.name}-worker", settings.log_level)
    app = spec.load("worker", "app")
    worker = Worker(
        app,
        loglevel=settings.log_level.lower(),
        quiet=True,
        redirect_stdouts=False,
        logging_config=logs.dict_config(f"{spec.name}-worker", settings.log_level),
    )
    worker.execute_from_commandline()
    return 0


def cmd_bench_generate(args: argparse.Namespace) -> int:
    from bench.dataset import generate

    data = generate(args.scale, args.seed)
    data.write(Path(args.out))
    print(f"wrote the data set at scale {args.scale:g} to {args.out}: {data.counts()}")
    return 0


def cmd_bench_run(args: argparse.Namespace) -> int:
    from bench.run import RESULTS, main

    main(
        args.scale,
        Path(args.out) if args.out else RESULTS,
        args.seed,
        http_seconds=args.http_seconds,
        revocations=args.revocations,
        only=args.only,
        stack_kind=args.stack,
    )
    return 0


def cmd_clients(args: argparse.Namespace) -> int:
    from services.access import service_clients

    if args.action == "revoke" and not args.client_id:
        print("iris clients revoke: name the client to revoke", file=sys.stderr)
        return 2
    startup.check("migrate", "access")
    url = Settings().database_url_for("access")
    try:
        return service_clients.command(
            args.action, args.service, args.client_id, url, args.support_network
        )
    except (LookupError, ValueError) as exc:
        print(f"iris clients: {exc}", file=sys.stderr)
        return 2


def cmd_notify(_args: argparse.Namespace) -> int:
    from services.access import notifications

    startup.check("migrate", "access")
    try:
        return notifications.command(Settings())
    except RuntimeError as exc:
        print(f"iris notify: {exc}", file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="iris", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the whole platform on embedded defaults")
    dev.add_argument("--data-dir", help="state and logs (default: $IRIS_DATA_DIR or ./.iris)")
    dev.add_argument("--no-seed", action="store_true", help="start without the demo world")
    dev.set_defaults(func=cmd_dev)

    stage = sub.add_parser(
        "stage", help="run the production topology on this machine (Apache Kafka x3, ...)"
    )
    stage.add_argument("--data-dir", help="state and logs (default: $IRIS_DATA_DIR or ./.iris)")
    stage.add_argument("--no-seed", action="store_true", help="start without the demo world")
    stage.set_defaults(func=cmd_stage)

    acls = sub.add_parser("kafka-acls", help="print the broker ACLs each principal needs")
    acls.add_argument("--bootstrap", default="$BOOTSTRAP")
    acls.set_defaults(func=cmd_kafka_acls)

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

    sch = sub.add_parser("schemas", help="write the JSON Schema of every event")
    sch.add_argument("--out", default="schemas")
    sch.add_argument("--check", action="store_true", help="fail if the files are out of date")
    sch.set_defaults(func=cmd_schemas)

    for name, func, text in (
        ("republish", cmd_republish, "re-emit a service's current state from its database"),
        ("migrate", cmd_migrate, "alembic upgrade head for a service's database"),
        ("worker", cmd_worker, "run a service's faust worker"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("service", type=_service)
        if name == "migrate":
            cmd.add_argument(
                "--wait", type=float, default=60.0, help="seconds to wait for the database"
            )
        cmd.set_defaults(func=func)

    probe = sub.add_parser("probe", help="exit 0 when a health URL answers 2xx")
    probe.add_argument("url", nargs="?", help="default: $IRIS_HEALTH_URL")
    probe.add_argument("--timeout", type=float, default=3.0)
    probe.set_defaults(func=cmd_probe)

    api = sub.add_parser("api", help="run a service's HTTP API")
    api.add_argument("service", type=_service)
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int)
    api.set_defaults(func=cmd_api)

    iss = sub.add_parser("serve-issuer", help="run the development OIDC issuer")
    iss.add_argument("--host", default="127.0.0.1")
    iss.add_argument("--port", type=int, default=8100)
    iss.set_defaults(func=cmd_serve_issuer)

    bench = sub.add_parser("bench", help="benchmarks at the scale of Flanders")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    gen = bench_sub.add_parser("generate", help="write the seeded data set to a folder")
    gen.add_argument("--scale", type=float, default=1.0)
    gen.add_argument("--seed", type=int, default=20261128)
    gen.add_argument("--out", default="bench/data")
    gen.set_defaults(func=cmd_bench_generate)
    brun = bench_sub.add_parser("run", help="run every benchmark (quick: --scale 0.05)")
    brun.add_argument("--scale", type=float, default=0.05)
    brun.add_argument("--seed", type=int, default=20261128)
    brun.add_argument("--out", help="results folder (default bench/results)")
    brun.add_argument(
        "--http-seconds", type=float, help="seconds of HTTP load per endpoint (5, or 15 at 0.5+)"
    )
    brun.add_argument("--revocations", type=int, default=200, help="revoke-to-deny samples")
    brun.add_argument(
        "--only",
        choices=["ingestion", "platform"],
        help="run one part alone: ingestion, or platform (every measurement but ingestion)",
    )
    brun.add_argument(
        "--stack",
        choices=["dev", "stage"],
        default="dev",
        help="the platform measured: iris dev (default) or iris stage",
    )
    brun.set_defaults(func=cmd_bench_run)

    schools = sub.add_parser("schools", help="the register of schools (access service)")
    schools_sub = schools.add_subparsers(dest="schools_command", required=True)
    imp = schools_sub.add_parser(
        "import", help="load schools from a CSV file: institution_number,name,kind,address,clb_id"
    )
    imp.add_argument("file", metavar="FILE.csv")
    imp.set_defaults(func=cmd_schools_import)

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
    cli.set_defaults(func=cmd_clients)

    notify = sub.add_parser("notify", help="send today's e-mail digests (access database)")
    notify.set_defaults(func=cmd_notify)

    top = sub.add_parser("topics", help="create the topics")
    top.set_defaults(func=cmd_topics)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
