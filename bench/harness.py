"""Results of a benchmark run: each figure beside its baseline from the same run."""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "n": len(ordered),
        "p50": at(0.50),
        "p99": at(0.99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


@dataclass
class Result:
    key: str
    title: str
    figure: str  # what `value` measures, with its unit
    value: float
    baseline: str
    baseline_value: float
    ratio: float  # value / baseline_value
    target: str
    met: bool | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    scale: float
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    machine: dict[str, Any] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    infrastructure: dict[str, str] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)
    series: dict[str, Any] = field(default_factory=dict)  # raw samples for the plots
    only: str | None = None  # the part measured alone (`iris bench run --only`), else all
    stack: str = "dev"  # `iris dev` or `iris stage` (`iris bench run --stack`)

    def add(self, result: Result, **series: Any) -> None:
        self.results.append(result)
        self.series.update({f"{result.key}.{k}": v for k, v in series.items()})
        mark = {True: "met", False: "MISSED", None: "-"}[result.met]
        print(
            f"  {result.title}: {result.value:,.3f} {result.figure} vs {result.baseline} "
            f"{result.baseline_value:,.3f} (ratio {result.ratio:.2f}; target {result.target}: "
            f"{mark})",
            flush=True,
        )


def describe_machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) // 1024
    except OSError:
        pass
    import os

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mib": memory,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "git": _git_revision(),
    }


def _git_revision() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def markdown(run: Run) -> str:
    lines = [
        f"Benchmarks at scale {run.scale} on iris {run.stack} — {run.started} — "
        f"{run.machine.get('cpu')}, {run.machine.get('cores')} cores, "
        f"{run.machine.get('memory_mib', 0) // 1024} GiB",
        "",
        ", ".join(f"{k}: {v}" for k, v in run.infrastructure.items()),
        "",
        "| measurement | figure | baseline (same run) | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in run.results:
        met = {True: "yes", False: "**no**", None: "n/a"}[r.met]
        lines.append(
            f"| {r.title} | {r.value:,.3f} {r.figure} | {r.baseline_value:,.3f} {r.baseline} "
            f"| {r.ratio:.2f} | {r.target} | {met} |"
        )
    return "\n".join(lines) + "\n"


def write(run: Run, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = run.started.replace(":", "").replace("-", "")[:15]
    # a partial run and a run on another stack than `iris dev` keep names of their own
    suffix = (f"-{run.only}" if run.only else "") + (f"-{run.stack}" if run.stack != "dev" else "")
    name = f"{stamp}-scale{run.scale:g}{suffix}"
    body = asdict(run)
    series = body.pop("series")
    (folder / f"{name}.json").write_text(json.dumps(body, indent=2))
    (folder / f"{name}.series.json").write_text(json.dumps(series))
    (folder / f"{name}.md").write_text(markdown(run))
    tag = ("latest-full" if run.scale >= 1 else "latest-quick") + suffix
    (folder / f"{tag}.json").write_text(json.dumps(body, indent=2))
    (folder / f"{tag}.md").write_text(markdown(run))
    plot(run, series, folder / f"{tag}")
    return folder / f"{name}.json"


def plot(run: Run, series: dict[str, Any], prefix: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    latency = {k: v for k, v in series.items() if k.endswith("_ms") and isinstance(v, list)}
    if latency:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for label, samples in latency.items():
            ordered = sorted(samples)
            if not ordered:
                continue
            ys = [i / len(ordered) for i in range(len(ordered))]
            ax.plot(ordered, ys, label=label.replace("_ms", ""))
        ax.set_xscale("log")
        ax.set_xlabel("latency (ms, log scale)")
        ax.set_ylabel("cumulative share of requests")
        ax.set_title(f"Latency distributions, scale {run.scale:g}, iris {run.stack}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = prefix.with_name(prefix.name + "-latency.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)
    curves = {k: v for k, v in series.items() if k.endswith("_curve")}
    if curves:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for label, points in curves.items():
            if points:
                ax.plot(
                    [x for x, _ in points],
                    [y for _, y in points],
                    label=label.replace("_curve", ""),
                )
        ax.set_xlabel("seconds")
        ax.set_ylabel("events applied")
        ax.set_title(f"Rebuild and ingestion progress, scale {run.scale:g}, iris {run.stack}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = prefix.with_name(prefix.name + "-progress.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)
    return made
