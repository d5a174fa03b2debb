"""`iris purge [--dry-run] [SERVICE…]`: what the purge deletes now (docs/privacy.md).

With `--dry-run` it counts, per service and kind, the rows past their retention period and
deletes nothing; without, it runs one purge round at once (the APIs also purge by
themselves). It prints counts only, never the data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from iris.db import make_engine, make_sessionmaker
from iris.retention import Periods, kinds_of, purge_once, utc_now, would_purge
from iris.settings import Settings


def command(
    services: list[str],
    dry_run: bool,
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    out: Callable[[str], None] = print,
) -> int:
    periods = Periods.of(settings)
    now = clock()
    for service in services:
        if not kinds_of(service):
            continue
        engine = make_engine(settings.database_url_for(service))
        try:
            sessions = make_sessionmaker(engine)
            if dry_run:
                counts = would_purge(service, sessions, periods, now)
            else:
                counts = purge_once(service, sessions, periods, now, settings.purge_batch_size)
        finally:
            engine.dispose()
        verb = "would delete" if dry_run else "deleted"
        for kind, count in counts.items():
            out(f"{service}: {verb} {count} {kind}")
    return 0
