"""Erasure on request (`iris erase --pupil INSZ` / `--person INSZ`; docs/privacy.md).

Where the law allows it (a pupil record created by mistake, a person who should never have
been granted), an operator erases one pupil's or person's data in every service. Each
service's `services/<service>/erasure.py` deletes or scrubs, in its database, what names
the INSZ, and queues in its outbox what the others must forget: tombstones of the keys
that held the pupil or person on the compacted topics, or a newer version of a record that
named them beside others (a grant limited to several pupils). The services' relays publish
them, the consumers forget, and the broker's compaction removes the older messages.

What stays is one audit entry per school concerned (the access service's audit trail,
action `erasure`), naming the request's reference, never the INSZ.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any, Literal

from sqlalchemy import String, cast, delete, func, or_, update
from sqlalchemy.orm import Session

from iris.db import make_engine, make_sessionmaker, transaction
from iris.insz import is_valid_insz
from iris.settings import Settings

Role = Literal["pupil", "person"]
ERASED = "erased"  # what stands where an erased INSZ stood in a record that stays


def scrub(session: Session, model: Any, columns: list[str], insz: str) -> int:
    """Replace the INSZ by `erased` in these text columns of every row that holds it."""
    changed = 0
    for name in columns:
        column = getattr(model, name)
        result = session.execute(
            update(model)
            .where(column.contains(insz))
            .values({name: func.replace(column, insz, ERASED)})
            .execution_options(synchronize_session=False)
        )
        changed += int(getattr(result, "rowcount", 0) or 0)
    return changed


def drop_outbox(session: Session, outbox: Any, insz: str) -> int:
    """Delete the outbox rows that hold the INSZ, sent or not: an event not yet sent about
    an erased pupil or person must not be sent any more."""
    result = session.execute(
        delete(outbox)
        .where(or_(outbox.key.contains(insz), cast(outbox.payload, String).contains(insz)))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def erasure_of(service: str) -> Callable[..., dict[str, int]] | None:
    name = f"services.{service}.erasure"
    try:
        if importlib.util.find_spec(name) is None:
            return None
    except ModuleNotFoundError:
        return None
    return importlib.import_module(name).erase  # type: ignore[no-any-return]


def erase(
    services: list[str], role: Role, insz: str, reference: str, settings: Settings
) -> dict[str, dict[str, int]]:
    """Erase in each service, one transaction each; returns what each removed, by kind.
    The access service goes last: it records the erasure in the schools' audit trails."""
    if not is_valid_insz(insz):
        raise ValueError("not a valid INSZ")
    done: dict[str, dict[str, int]] = {}
    for service in sorted(services, key=lambda s: s == "access"):
        erase_in = erasure_of(service)
        if erase_in is None:
            continue
        engine = make_engine(settings.database_url_for(service))
        try:
            with transaction(make_sessionmaker(engine)) as session:
                done[service] = erase_in(session, role, insz, reference)
        finally:
            engine.dispose()
    return done


def command(
    services: list[str],
    role: Role,
    insz: str,
    reference: str,
    settings: Settings,
    out: Callable[[str], None] = print,
) -> int:
    try:
        done = erase(services, role, insz, reference, settings)
    except ValueError as exc:
        out(f"iris erase: {exc}")
        return 2
    for service, counts in done.items():
        for kind, count in counts.items():
            if count:
                out(f"{service}: erased {count} {kind}")
    out(f"erasure {reference!r} recorded; the services publish what the others must forget")
    return 0
