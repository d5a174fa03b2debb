"""The targets the project sets for each measurement, written once: the text the results
show and the rule that says whether a figure meets it. They hold on both stacks; the
figures they judge are taken beside a baseline of the same run (bench/measure.py)."""

from __future__ import annotations

MiB = 2**20

INGESTION = ">= 10,000 events/s per worker"
REBUILD = "Flanders <= 30 s and >= 35% of plain"
MEMORY = "<= 128 MiB at full scale"
CHECK = "<= 1.2x PING at p99"
REPORT_PAGE = ">= 30% of trivial, p99 <= 25 ms"
REVOKE = "p99 <= 50 ms"


def ingestion_met(events_per_second: float, workers: int) -> bool:
    return events_per_second / max(workers, 1) >= 10_000


def rebuild_met(ratio: float, full_scale_seconds: float) -> bool:
    return ratio >= 0.35 and full_scale_seconds <= 30


def memory_met(full_scale_bytes: float) -> bool:
    return full_scale_bytes <= 128 * MiB


def check_met(check_p99_ms: float, ping_p99_ms: float) -> bool:
    return check_p99_ms <= 1.2 * ping_p99_ms


def report_page_met(ratio: float, p99_ms: float) -> bool:
    return ratio >= 0.3 and p99_ms <= 25


def revoke_met(p99_ms: float, late: int) -> bool:
    return p99_ms <= 50 and late == 0
