"""`iris dev`, `iris stage` and their parts: `iris api`, `iris worker`, `iris serve-issuer`,
and `iris probe` for health checks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from iris import logs, startup
from iris.cli.common import Subparsers, add_service_command, service_name
from iris.registry import SERVICES
from iris.settings import Settings


def cmd_dev(args: argparse.Namespace) -> int:
    from iris.dev import Stack, run

    data_dir = Path(args.data_dir) if args.data_dir else Settings().data_dir
    return run(Stack(data_dir), seed=not args.no_seed)


def cmd_stage(args: argparse.Namespace) -> int:
    from iris.dev import run
    from iris.stage import Stage

    data_dir = Path(args.data_dir) if args.data_dir else Settings().data_dir
    return run(Stage(data_dir), seed=not args.no_seed, what="the production topology")


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


def _add_platform(sub: Subparsers, name: str, text: str, func: Any) -> None:
    cmd = sub.add_parser(name, help=text)
    cmd.add_argument("--data-dir", help="state and logs (default: $IRIS_DATA_DIR or ./.iris)")
    cmd.add_argument("--no-seed", action="store_true", help="start without the demo world")
    cmd.set_defaults(func=func)


def add_dev(sub: Subparsers) -> None:
    _add_platform(sub, "dev", "run the whole platform on embedded defaults", cmd_dev)


def add_stage(sub: Subparsers) -> None:
    text = "run the production topology on this machine (Apache Kafka x3, ...)"
    _add_platform(sub, "stage", text, cmd_stage)


def add_worker(sub: Subparsers) -> None:
    add_service_command(sub, "worker", "run a service's faust worker", cmd_worker)


def add_probe(sub: Subparsers) -> None:
    probe = sub.add_parser("probe", help="exit 0 when a health URL answers 2xx")
    probe.add_argument("url", nargs="?", help="default: $IRIS_HEALTH_URL")
    probe.add_argument("--timeout", type=float, default=3.0)
    probe.set_defaults(func=cmd_probe)


def add_api(sub: Subparsers) -> None:
    api = sub.add_parser("api", help="run a service's HTTP API")
    api.add_argument("service", type=service_name)
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int)
    api.set_defaults(func=cmd_api)


def add_issuer(sub: Subparsers) -> None:
    iss = sub.add_parser("serve-issuer", help="run the development OIDC issuer")
    iss.add_argument("--host", default="127.0.0.1")
    iss.add_argument("--port", type=int, default=8100)
    iss.set_defaults(func=cmd_serve_issuer)
