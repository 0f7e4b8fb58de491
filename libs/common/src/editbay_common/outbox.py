"""The transactional outbox: a state change and the messages it causes commit together.

A service never publishes from inside a unit of work. It adds the messages to its ``outbox``
table in the same transaction as its state change (:func:`add_to_outbox`); a relay
(:class:`OutboxRelay`) publishes committed rows with publisher confirms and marks them sent.
So nothing rolled back is ever sent, and nothing committed is lost: if the broker is down, the
rows wait. Delivery is at least once (a crash between the confirm and the commit that marks the
row sends it again); messages carry their row id as ``message_id`` so consumers can drop repeats.
A running relay also deletes rows sent longer ago than its retention (a week by default), so the
table does not grow for ever.

On PostgreSQL the relay claims rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` and marks them in
the same transaction, so several relays (one per replica) never send a row twice. SQLite (the
all-in-one mode) has one process and no row locks: the relay reads in one short transaction and
marks in another, so it never holds the database's write lock while waiting for the broker.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Insert,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import registry

from editbay_common.broker.base import Broker, UnroutableError
from editbay_common.tracing import inject_context

log = logging.getLogger(__name__)

KIND_EVENT = "event"  # target is a routing key on the events exchange
KIND_WORK = "work"  # target is a work queue
KINDS = (KIND_EVENT, KIND_WORK)
MAX_ERROR_CHARS = 2_000
MAX_BACKOFF_S = 30.0
SENT_RETENTION = timedelta(days=7)  # sent rows are kept this long, for inspection
PURGE_INTERVAL_S = 3600.0


def outbox_table(metadata: MetaData, name: str = "outbox") -> Table:
    """The outbox table in ``metadata`` (add it to the service's migrations)."""
    table = Table(
        name,
        metadata,
        Column("id", String(128), primary_key=True),  # also the message_id
        Column("kind", String(16), nullable=False),
        Column("target", String(255), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
    )
    # The relay's query: pending rows, oldest first. Partial where the dialect supports it.
    pending = table.c.sent_at.is_(None)
    Index(
        f"ix_{name}_pending",
        table.c.created_at,
        postgresql_where=pending,
        sqlite_where=pending,
    )
    return table


class _OutboxRow:
    """The ORM face of an outbox row: lets ``add_to_outbox`` stay synchronous, like
    ``session.add``, with the row flushed in the caller's transaction (savepoints included)."""

    def __init__(self, **values: Any) -> None:
        for key, value in values.items():
            setattr(self, key, value)


_registry = registry()
_row_classes: dict[Table, type[_OutboxRow]] = {}


def _row_class(table: Table) -> type[_OutboxRow]:
    cls = _row_classes.get(table)
    if cls is None:
        cls = type(f"OutboxRow_{table.name}_{len(_row_classes)}", (_OutboxRow,), {})
        _registry.map_imperatively(cls, table)
        _row_classes[table] = cls
    return cls


def outbox_values(
    *,
    kind: str,
    target: str,
    payload: dict[str, Any],
    headers: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """The column values of a new outbox row, with the current trace context in its headers."""
    if kind not in KINDS:
        raise ValueError(f"outbox kind must be one of {KINDS}, got {kind!r}")
    if not isinstance(payload, dict):
        raise TypeError("an outbox payload must be a JSON object (dict)")
    return {
        "id": message_id or uuid.uuid4().hex,
        "kind": kind,
        "target": target,
        "payload": payload,
        "headers": inject_context(headers),
        "created_at": datetime.now(UTC),
        "sent_at": None,
        "attempts": 0,
        "last_error": None,
    }


def add_to_outbox(
    session: AsyncSession,
    table: Table,
    *,
    kind: str,
    target: str,
    payload: dict[str, Any],
    headers: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> None:
    """Add a message to send when ``session``'s transaction commits (and only then).

    ``kind`` is ``"event"`` (``target``: routing key) or ``"work"`` (``target``: work queue).
    The current trace context is stored with the row, so the consumer's span joins this trace.
    Like ``session.add``, this is synchronous: the row is flushed with the session.
    """
    values = outbox_values(
        kind=kind, target=target, payload=payload, headers=headers, message_id=message_id
    )
    session.add(_row_class(table)(**values))


def outbox_insert(
    table: Table,
    *,
    kind: str,
    target: str,
    payload: dict[str, Any],
    headers: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> Insert:
    """The same as :func:`add_to_outbox` for code that works on a Core connection:
    ``await conn.execute(outbox_insert(table, kind="event", target=..., payload=...))``."""
    return insert(table).values(
        outbox_values(
            kind=kind, target=target, payload=payload, headers=headers, message_id=message_id
        )
    )


class OutboxRelay:
    """Publishes committed outbox rows; run one per process (several are safe on PostgreSQL)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        table: Table,
        broker: Broker,
        *,
        poll_interval_s: float = 0.5,
        batch_size: int = 100,
        sent_retention: timedelta = SENT_RETENTION,
        purge_interval_s: float = PURGE_INTERVAL_S,
    ) -> None:
        self._sessions = sessions
        self._table = table
        self._broker = broker
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._sent_retention = sent_retention
        self._purge_interval_s = purge_interval_s
        self._next_purge = 0.0  # loop time; the first pass purges
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Publish soon (call after committing a transaction that added messages)."""
        self._wake.set()

    async def run(self) -> None:
        """Publish pending rows until cancelled; database and broker errors are logged and
        retried with a growing pause, never raised."""
        delay = self._poll_interval_s
        while True:
            self._wake.clear()
            try:
                await self.flush()
                delay = self._poll_interval_s
            except Exception:
                log.exception("outbox relay: publishing failed; retrying in %.1fs", delay)
                await self._sleep(delay)
                delay = min(max(delay, 0.1) * 2, MAX_BACKOFF_S)
                continue
            await self._purge_when_due()
            await self._sleep(self._poll_interval_s, wakeable=True)

    async def _purge_when_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._next_purge:
            return
        self._next_purge = now + self._purge_interval_s
        try:
            purged = await self.purge_sent(self._sent_retention)
        except Exception:
            log.warning("outbox relay: could not purge sent rows", exc_info=True)
            return
        if purged:
            log.info("outbox relay: purged %d sent rows", purged)

    async def _sleep(self, seconds: float, *, wakeable: bool = False) -> None:
        if not wakeable:
            await asyncio.sleep(seconds)
            return
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            pass

    async def flush(self) -> int:
        """Publish everything pending once; how many were sent.

        Raises the broker's error when publishing fails (after marking what was sent and
        recording the error on the row that failed, which stays pending).
        """
        total = 0
        while True:
            sent, full = await self._flush_batch()
            total += sent
            if not full:
                return total

    async def _flush_batch(self) -> tuple[int, bool]:
        """One batch; returns (rows sent, whether the batch was full so more may wait)."""
        async with self._sessions() as session:
            if session.get_bind().dialect.name == "postgresql":
                async with session.begin():
                    rows = await self._pending(session, lock=True)
                    outcome = await self._publish(rows)
                    await self._record(session, outcome)
            else:
                async with session.begin():
                    rows = await self._pending(session, lock=False)
                outcome = await self._publish(rows)
                async with session.begin():
                    await self._record(session, outcome)
        if outcome.fatal is not None:
            raise outcome.fatal
        return len(outcome.sent), len(rows) == self._batch_size and not outcome.failed

    async def _pending(self, session: AsyncSession, *, lock: bool) -> Sequence[Row[Any]]:
        c = self._table.c
        query = (
            select(c.id, c.kind, c.target, c.payload, c.headers)
            .where(c.sent_at.is_(None))
            .order_by(c.created_at, c.id)
            .limit(self._batch_size)
        )
        if lock:
            query = query.with_for_update(skip_locked=True)
        return (await session.execute(query)).all()

    async def _publish(self, rows: Sequence[Row[Any]]) -> _BatchOutcome:
        outcome = _BatchOutcome()
        for row in rows:
            try:
                await self._send(row)
            except (UnroutableError, TypeError, ValueError) as exc:
                # This message's own problem (a queue not declared yet, a bad payload): keep it
                # pending and go on, so one bad row does not hold up the others.
                log.error("outbox row %s to %s not sent: %s", row.id, row.target, exc)
                outcome.failed[row.id] = f"{type(exc).__name__}: {exc}"
            except Exception as exc:
                # The broker is unreachable or refusing: stop here, retry the rest later.
                outcome.failed[row.id] = f"{type(exc).__name__}: {exc}"
                outcome.fatal = exc
                break
            else:
                outcome.sent.append(row.id)
        return outcome

    async def _send(self, row: Row[Any]) -> None:
        headers = dict(row.headers or {})
        if row.kind == KIND_WORK:
            await self._broker.enqueue(row.target, row.payload, headers=headers, message_id=row.id)
        elif row.kind == KIND_EVENT:
            await self._broker.publish(row.target, row.payload, headers=headers, message_id=row.id)
        else:
            raise ValueError(f"unknown outbox kind {row.kind!r}")

    async def _record(self, session: AsyncSession, outcome: _BatchOutcome) -> None:
        c = self._table.c
        if outcome.sent:
            await session.execute(
                update(self._table)
                .where(c.id.in_(outcome.sent), c.sent_at.is_(None))
                .values(sent_at=datetime.now(UTC))
            )
        for row_id, error in outcome.failed.items():
            await session.execute(
                update(self._table)
                .where(c.id == row_id)
                .values(attempts=c.attempts + 1, last_error=error[:MAX_ERROR_CHARS])
            )

    async def pending_count(self) -> int:
        """How many rows wait to be sent (a health and metrics signal)."""
        async with self._sessions() as session:
            query = select(func.count()).where(self._table.c.sent_at.is_(None))
            return int((await session.execute(query)).scalar_one())

    async def purge_sent(self, older_than: timedelta) -> int:
        """Delete rows sent more than ``older_than`` ago; how many."""
        cutoff = datetime.now(UTC) - older_than
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(self._table).where(self._table.c.sent_at < cutoff)
            )
            return int(result.rowcount or 0)


class _BatchOutcome:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.failed: dict[str, str] = {}
        self.fatal: Exception | None = None
