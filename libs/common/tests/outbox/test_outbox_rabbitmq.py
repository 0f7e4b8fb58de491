"""The outbox relayed to the real RabbitMQ from PostgreSQL: confirmed, persistent, once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import insert

from editbay_common.broker import Delivery, open_broker
from editbay_common.outbox import OutboxRelay, add_to_outbox

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


async def test_committed_rows_reach_rabbitmq_consumers_once(pg_db) -> None:
    db = pg_db
    broker = open_broker("amqp://guest:guest@127.0.0.1:5672/")
    await broker.start()
    queue = f"test.outbox.{uuid.uuid4().hex[:12]}"
    subscriber = f"test.outbox.{uuid.uuid4().hex[:12]}"
    key = f"o{uuid.uuid4().hex[:8]}.take.ingested"
    received: list[Delivery] = []
    both = asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        received.append(delivery)
        if len(received) == 2:
            both.set()

    try:
        await broker.declare_work_queue(queue)
        consumers = [
            await broker.consume(queue, handler),
            await broker.subscribe(subscriber, [key], handler),
        ]
        async with db.sessions() as session, session.begin():
            await session.execute(insert(db.things).values(name="take"))
            add_to_outbox(session, db.outbox, kind="work", target=queue, payload={"job": "w"})
            add_to_outbox(session, db.outbox, kind="event", target=key, payload={"take": "t"})
        relays = [OutboxRelay(db.sessions, db.outbox, broker) for _ in range(2)]
        assert sum(await asyncio.gather(*(r.flush() for r in relays))) == 2
        await asyncio.wait_for(both.wait(), 20)
        for consumer in consumers:
            await consumer.cancel()
        assert sorted(str(d.payload) for d in received) == ["{'job': 'w'}", "{'take': 't'}"]
        assert {d.routing_key for d in received} == {queue, key}
        assert all(d.delivery_count == 1 for d in received)
        assert await relays[0].pending_count() == 0
        assert await broker.queue_depth(queue) == 0
    finally:
        await broker.delete_queue(queue)
        await broker.delete_queue(subscriber)
        await broker.close()
