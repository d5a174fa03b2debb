"""Group commit of the audit record: concurrent report views share one transaction.

A request hands its view (or its denial) to the recorder and waits until the
transaction that holds it has committed; only then is the page returned. While
one transaction is being written, the views that arrive queue up and go together
in the next one, so the number of transactions follows the database's pace, not
the number of requests. Nothing waits on a timer, and nothing is dropped: when a
transaction fails, every request in it fails (no page without its record).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from iris.db import transaction
from services.viewer import service
from services.viewer.repository import SqlViewerRepository

Denial = service.Denial
Entry = service.View | service.Denial


class AuditRecorder:
    """Writes views and denials in shared transactions; see the module's docstring."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        notify: Callable[[], None],
        max_batch: int = 500,
    ) -> None:
        self.sessions = sessions
        self.notify = notify
        self.max_batch = max_batch
        self._queue: list[tuple[Entry, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.transactions = 0  # how many transactions were written (for tests and metrics)

    async def view(self, view: service.View) -> bool:
        """Record the view; True when it is new, False when this view id was recorded
        before (a retried request). Returns once the record has been committed."""
        return await self._submit(view)

    async def denial(self, person_id: str, pupil_id: str, reason: str) -> None:
        """Queue `AccessDenied` for the audit topic; returns once committed."""
        await self._submit(Denial(person_id, pupil_id, reason))

    async def _submit(self, entry: Entry) -> bool:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((entry, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        # shield: a request that goes away does not cancel the write of its companions
        return await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
            try:
                results = await asyncio.to_thread(self._write, [entry for entry, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            self.notify()
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)

    def _write(self, entries: list[Entry]) -> list[bool]:
        try:
            with transaction(self.sessions) as session:
                results = self._add(session, entries)
            self.transactions += 1
            return results
        except IntegrityError:
            # another process recorded one of these views in between: one by one
            return [self._write_one(entry) for entry in entries]

    def _write_one(self, entry: Entry) -> bool:
        try:
            with transaction(self.sessions) as session:
                (result,) = self._add(session, [entry])
            self.transactions += 1
            return result
        except IntegrityError:  # the same view recorded by a concurrent retry
            return False

    @staticmethod
    def _add(session: Session, entries: list[Entry]) -> list[bool]:
        results = service.record(SqlViewerRepository(session), entries)
        session.flush()  # a view recorded meanwhile elsewhere fails here, inside the retry
        return results
