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
iris purge [--dry-run] [SVC]  delete what is past its retention period (docs/privacy.md)
iris erase --pupil|--person INSZ --reference REF   erase one pupil's or person's data
"""

from __future__ import annotations

import argparse

from iris.cli import access, bench, privacy, run, state, tokens

ADDERS = (
    run.add_dev,
    run.add_stage,
    state.add_kafka_acls,
    tokens.add_token,
    state.add_schemas,
    state.add_republish,
    state.add_migrate,
    run.add_worker,
    run.add_probe,
    run.add_api,
    run.add_issuer,
    bench.add_bench,
    state.add_schools,
    access.add_clients,
    access.add_notify,
    privacy.add_purge,
    privacy.add_erase,
    state.add_topics,
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="iris", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    for add in ADDERS:
        add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args) or 0)
