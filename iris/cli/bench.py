"""`iris bench generate` and `iris bench run`: benchmarks at the scale of Flanders."""

from __future__ import annotations

import argparse
from pathlib import Path

from iris.cli.common import Subparsers


def cmd_bench_generate(args: argparse.Namespace) -> int:
    from bench.dataset import generate

    data = generate(args.scale, args.seed)
    data.write(Path(args.out))
    print(f"wrote the data set at scale {args.scale:g} to {args.out}: {data.counts()}")
    return 0


def cmd_bench_run(args: argparse.Namespace) -> int:
    from bench.measure import Samples
    from bench.run import RESULTS, main

    main(
        args.scale,
        Path(args.out) if args.out else RESULTS,
        args.seed,
        Samples(args.http_seconds, args.revocations, args.checks),
        only=args.only,
        stack_kind=args.stack,
    )
    return 0


def cmd_bench_memory(args: argparse.Namespace) -> int:
    from bench.memory import main
    from bench.run import RESULTS

    main(args.scale, args.seed, Path(args.out) if args.out else RESULTS)
    return 0


def add_bench(sub: Subparsers) -> None:
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
        "--checks", type=int, default=5000, help="authorisation checks timed, quiet and live"
    )
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
    mem = bench_sub.add_parser(
        "memory",
        help="the viewer cache's Redis memory for the data set, folded without the platform",
    )
    mem.add_argument("--scale", type=float, default=1.0)
    mem.add_argument("--seed", type=int, default=20261128)
    mem.add_argument("--out", help="results folder (default bench/results)")
    mem.set_defaults(func=cmd_bench_memory)
