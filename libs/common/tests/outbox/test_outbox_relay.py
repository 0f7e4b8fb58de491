"""The transactional outbox on SQLite and PostgreSQL, relayed through the in-process broker."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

import pytest
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import func, insert, select

from editbay_common.broker import BrokerError, Delivery
from editbay_common.outbox import OutboxRelay, add_to_outbox, outbox_insert

QUEUE = "render"


async def _rows(db) -> list[dict]:
    async with db.sessions() as session:
        result = await session.execute(select(db.outbox).order_by(db.outbox.c.created_at))
        return [dict(row._mapping) for row in result]


async def _things(db) -> int:
    async with db.sessions() as session:
        return (await session.execute(select(func.count()).select_from(db.things))).scalar_one()


async def test_rolled_back_transaction_sends_nothing(db, broker) -> None:
    await broker.declare_work_queue(QUEUE)
    relay = OutboxRelay(db.sessions, db.outbox, broker)

    with contextlib.suppress(RuntimeError):
        async with db.sessions() as session, session.begin():
            await session.execute(insert(db.things).values(name="doomed"))
            add_to_outbox(session, db.outbox, kind="work", target=QUEUE, payload={"job": "x"})
            raise RuntimeError("the unit of work failed")

    assert await relay.flush() == 0
    assert await _rows(db) == []
    assert await _things(db) == 0
    assert await broker.queue_depth(QUEUE) == 0


async def test_rolled_back_savepoint_sends_nothing(db, broker) -> None:
    await broker.declare_work_queue(QUEUE)
    relay = OutboxRelay(db.sessions, db.outbox, broker)
    async with db.sessions() as session, session.begin():
        add_to_outbox(session, db.outbox, kind="work", target=QUEUE, payload={"keep": True})
        nested = await session.begin_nested()
        add_to_outbox(session, db.outbox, kind="work", target=QUEUE, payload={"keep": False})
        await nested.rollback()

    assert await relay.flush() == 1
    [delivery] = await broker.peek(QUEUE)
    assert delivery.payload == {"keep": True}


async def test_committed_messages_are_sent_once(db, broker, eventually) -> None:
    await broker.declare_work_queue(QUEUE)
    events: list[Delivery] = []

    async def on_event(delivery: Delivery) -> None:
        events.append(delivery)

    consumer = await broker.subscribe("catalog.events", ["render.*"], on_event)
    relay = OutboxRelay(db.sessions, db.outbox, broker, batch_size=2)

    async with db.sessions() as session, session.begin():
        await session.execute(insert(db.things).values(name="episode"))
        for n in range(3):
            add_to_outbox(
                session, db.outbox, kind="work", target=QUEUE, payload={"n": n}, message_id=f"w{n}"
            )
        add_to_outbox(
            session,
            db.outbox,
            kind="event",
            target="render.succeeded",
            payload={"job": "j"},
            headers={"job-id": "j"},
        )

    assert await relay.flush() == 4  # two full batches
    assert await relay.flush() == 0  # nothing is sent twice
    work = await broker.peek(QUEUE)
    assert sorted(d.message_id for d in work) == ["w0", "w1", "w2"]
    assert sorted(d.payload["n"] for d in work) == [0, 1, 2]
    await eventually(lambda: _true_if(bool(events)))
    await consumer.cancel()
    assert events[0].routing_key == "render.succeeded"
    assert events[0].headers["job-id"] == "j"
    rows = await _rows(db)
    assert all(row["sent_at"] is not None for row in rows)
    assert {row["id"] for row in rows} >= {"w0", "w1", "w2", events[0].message_id}
    assert await relay.pending_count() == 0


async def test_broker_failure_leaves_the_row_pending_until_it_is_sent(db, broker) -> None:
    await broker.declare_work_queue(QUEUE)
    relay = OutboxRelay(db.sessions, db.outbox, broker)
    async with db.sessions() as session, session.begin():
        add_to_outbox(session, db.outbox, kind="work", target=QUEUE, payload={"job": 1})

    broker.failures = 1
    with pytest.raises(BrokerError):
        await relay.flush()
    [row] = await _rows(db)
    assert row["sent_at"] is None
    assert row["attempts"] == 1
    assert "connection to the broker lost" in row["last_error"]
    assert await broker.queue_depth(QUEUE) == 0

    assert await relay.flush() == 1
    [row] = await _rows(db)
    assert row["sent_at"] is not None
    assert [d.payload for d in await broker.peek(QUEUE)] == [{"job": 1}]


async def test_running_relay_survives_failures_and_wakes_on_demand(db, broker, eventually) -> None:
    await broker.declare_work_queue(QUEUE)
    relay = OutboxRelay(db.sessions, db.outbox, broker, poll_interval_s=0.01)
    broker.failures = 3
    task = asyncio.create_task(relay.run())
    try:
        async with db.sessions() as session, session.begin():
            add_to_outbox(session, db.outbox, kind="work", target=QUEUE, payload={"job": 1})
        relay.wake()

        async def sent() -> bool:
            # Marked sent (the mark commits just after the publish).
            return await relay.pending_count() == 0 and await broker.queue_depth(QUEUE) == 1

        await eventually(sent)
        assert not task.done()
        [row] = await _rows(db)
        assert row["attempts"] == 3
        assert row["sent_at"] is not None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_wake_publishes_without_waiting_for_the_poll(db, broker, eventually) -> None:
    await broker.declare_work_queue(QUEUE)
    relay = OutboxRelay(db.sessions, db.outbox, broker, poll_interval_s=3600)

    async def write(n: int) -> None:
        async with db.sessions() as session, session.begin():
            add_to_outbox(session, db.outbox, kind="work", target=QUEUE, payload={"n": n})

    def depth_is(n: int):
        async def check() -> bool:
            return await broker.queue_depth(QUEUE) == n and await relay.pending_count() == 0

        return check

    await write(1)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(depth_is(1))  # the first pass is done: the relay sleeps for an hour
        await write(2)
        relay.wake()
        await eventually(depth_is(2))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _true_if(value: bool) -> bool:
    return value


async def test_unroutable_row_does_not_hold_up_the_others(db, broker) -> None:
    await broker.declare_work_queue(QUEUE)
    relay = OutboxRelay(db.sessions, db.outbox, broker)
    async with db.sessions() as session, session.begin():
        add_to_outbox(session, db.outbox, kind="work", target="no-such-queue", payload={"a": 1})
    async with db.sessions() as session, session.begin():
        add_to_outbox(session, db.outbox, kind="work", target=QUEUE, payload={"b": 2})

    assert await relay.flush() == 1
    rows = {row["target"]: row for row in await _rows(db)}
    assert rows["no-such-queue"]["sent_at"] is None
    assert "UnroutableError" in rows["no-such-queue"]["last_error"]
    assert rows[QUEUE]["sent_at"] is not None

    await broker.declare_work_queue("no-such-queue")  # the consumer shows up later
    assert await relay.flush() == 1
    assert await relay.pending_count() == 0
    await broker.delete_queue("no-such-queue")


async def test_trace_context_is_captured_when_the_row_is_written(db, broker) -> None:
    await broker.declare_work_queue(QUEUE)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("approve plan") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
        async with db.sessions() as session, session.begin():
            add_to_outbox(session, db.outbox, kind="work", target=QUEUE, payload={"job": 1})

    [row] = await _rows(db)
    assert row["headers"]["traceparent"].split("-")[1] == trace_id
    # The relay runs outside that span; the message still carries the writer's context.
    relay = OutboxRelay(db.sessions, db.outbox, broker)
    with tracer.start_as_current_span("relay"):
        await relay.flush()
    [delivery] = await broker.peek(QUEUE)
    assert delivery.headers["traceparent"].split("-")[1] == trace_id


async def test_add_to_outbox_validates_its_input(db) -> None:
    async with db.sessions() as session:
        with pytest.raises(ValueError, match="kind"):
            add_to_outbox(session, db.outbox, kind="email", target="x", payload={})
        with pytest.raises(TypeError):
            add_to_outbox(session, db.outbox, kind="work", target="x", payload=[1])  # type: ignore[arg-type]


async def test_purge_sent_deletes_only_old_sent_rows(db, broker) -> None:
    await broker.declare_work_queue(QUEUE)
    relay = OutboxRelay(db.sessions, db.outbox, broker)
    async with db.sessions() as session, session.begin():
        add_to_outbox(session, db.outbox, kind="work", target=QUEUE, payload={"sent": True})
    await relay.flush()
    async with db.sessions() as session, session.begin():
        add_to_outbox(session, db.outbox, kind="work", target="missing", payload={"sent": False})

    assert await relay.purge_sent(timedelta(hours=1)) == 0
    assert await relay.purge_sent(timedelta(seconds=-1)) == 1
    assert [row["target"] for row in await _rows(db)] == ["missing"]


@pytest.mark.postgres
async def test_concurrent_relays_send_each_row_exactly_once(pg_db, broker) -> None:
    db = pg_db
    await broker.declare_work_queue(QUEUE)
    count = 120
    async with db.sessions() as session, session.begin():
        for n in range(count):
            add_to_outbox(
                session, db.outbox, kind="work", target=QUEUE, payload={"n": n}, message_id=f"m{n}"
            )
    relays = [OutboxRelay(db.sessions, db.outbox, broker, batch_size=10) for _ in range(2)]

    sent = await asyncio.gather(*(relay.flush() for relay in relays))

    assert sum(sent) == count
    assert all(n > 0 for n in sent)  # both took part: the locks were really contended
    ids = [d.message_id for d in await broker.peek(QUEUE, limit=10 * count)]
    assert len(ids) == count
    assert sorted(ids) == sorted(f"m{n}" for n in range(count))
    assert broker.calls == count


@pytest.mark.postgres
async def test_running_relays_on_two_replicas_never_double_send(pg_db, broker, eventually) -> None:
    db = pg_db
    await broker.declare_work_queue(QUEUE)
    relays = [
        OutboxRelay(db.sessions, db.outbox, broker, poll_interval_s=0.01, batch_size=5)
        for _ in range(2)
    ]
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        expected = []
        for batch in range(6):
            async with db.sessions() as session, session.begin():
                for n in range(10):
                    message_id = uuid.uuid4().hex
                    expected.append(message_id)
                    add_to_outbox(
                        session,
                        db.outbox,
                        kind="event" if n % 2 else "work",
                        target="nobody.listens" if n % 2 else QUEUE,
                        payload={"batch": batch, "n": n},
                        message_id=message_id,
                    )
            for relay in relays:
                relay.wake()

        async def drained() -> bool:
            return await relays[0].pending_count() == 0

        await eventually(drained)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert broker.calls == len(expected)
    work = [d.message_id for d in await broker.peek(QUEUE, limit=1000)]
    assert len(work) == len(set(work)) == len(expected) // 2


async def test_core_insert_joins_the_connection_transaction(db, broker) -> None:
    await broker.declare_work_queue(QUEUE)
    relay = OutboxRelay(db.sessions, db.outbox, broker)
    engine = db.sessions.kw["bind"]
    with contextlib.suppress(RuntimeError):
        async with engine.begin() as conn:
            await conn.execute(
                outbox_insert(db.outbox, kind="work", target=QUEUE, payload={"n": 0})
            )
            raise RuntimeError("rolled back")
    async with engine.begin() as conn:
        await conn.execute(outbox_insert(db.outbox, kind="work", target=QUEUE, payload={"n": 1}))

    assert await relay.flush() == 1
    assert [d.payload for d in await broker.peek(QUEUE)] == [{"n": 1}]


async def test_a_running_relay_purges_old_sent_rows(db, broker, eventually) -> None:
    await broker.declare_work_queue(QUEUE)
    relay = OutboxRelay(
        db.sessions,
        db.outbox,
        broker,
        poll_interval_s=0.01,
        sent_retention=timedelta(seconds=-1),  # everything sent is old enough
        purge_interval_s=0.0,
    )
    async with db.sessions() as session, session.begin():
        add_to_outbox(session, db.outbox, kind="work", target=QUEUE, payload={"sent": True})
        add_to_outbox(session, db.outbox, kind="work", target="missing", payload={"sent": False})
    task = asyncio.create_task(relay.run())

    async def only_the_pending_row_is_left() -> bool:
        return [row["target"] for row in await _rows(db)] == ["missing"]

    try:
        await eventually(only_the_pending_row_is_left)
        assert await broker.queue_depth(QUEUE) == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
