"""Broker semantics, written once and run against the in-process broker and RabbitMQ."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from editbay_common.broker import (
    UNROUTED_QUEUE,
    Broker,
    Delivery,
    QueueNotFound,
    Reject,
    UnroutableError,
)
from editbay_common.broker.base import UNROUTED_EXCHANGE
from editbay_common.broker.rabbitmq import RabbitMQBroker


def payload() -> dict:
    return {"job": uuid.uuid4().hex, "n": 1, "text": "héllo"}


async def test_handled_message_is_acked(broker: Broker, queue_name: str, eventually) -> None:
    await broker.declare_work_queue(queue_name)
    sent = payload()
    await broker.enqueue(queue_name, sent, message_id="m-ack")
    seen: list[Delivery] = []

    async def handler(delivery: Delivery) -> None:
        seen.append(delivery)

    consumer = await broker.consume(queue_name, handler)
    await eventually(lambda: len(seen) == 1)
    await consumer.cancel()  # an unacked message would go back to the queue now

    assert seen[0].payload == sent
    assert seen[0].message_id == "m-ack"
    assert seen[0].routing_key == queue_name
    assert seen[0].delivery_count == 1
    assert await broker.queue_depth(queue_name) == 0
    assert await broker.dead_letters(queue_name) == []


async def test_message_id_is_generated_when_missing(
    broker: Broker, queue_name: str, eventually
) -> None:
    await broker.declare_work_queue(queue_name)
    await broker.enqueue(queue_name, payload())
    await broker.enqueue(queue_name, payload())
    seen: list[Delivery] = []

    async def handler(delivery: Delivery) -> None:
        seen.append(delivery)

    consumer = await broker.consume(queue_name, handler)
    await eventually(lambda: len(seen) == 2)
    await consumer.cancel()
    ids = [d.message_id for d in seen]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert ids[0] != ids[1]


async def test_failure_is_redelivered_with_increasing_count(
    broker: Broker, queue_name: str, eventually
) -> None:
    await broker.declare_work_queue(queue_name, max_deliveries=3)
    await broker.enqueue(queue_name, payload())
    counts: list[int] = []
    done = asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        counts.append(delivery.delivery_count)
        if delivery.delivery_count < 3:
            raise RuntimeError("transient")
        done.set()

    consumer = await broker.consume(queue_name, handler)
    await asyncio.wait_for(done.wait(), 20)
    await consumer.cancel()
    assert counts == [1, 2, 3]
    assert await broker.queue_depth(queue_name) == 0
    assert await broker.dead_letters(queue_name) == []


async def test_dead_lettered_after_max_deliveries_with_the_error(
    broker: Broker, queue_name: str, eventually
) -> None:
    await broker.declare_work_queue(queue_name, max_deliveries=3)
    sent = payload()
    await broker.enqueue(queue_name, sent, message_id="m-dead", headers={"job-id": "j1"})
    counts: list[int] = []

    async def handler(delivery: Delivery) -> None:
        counts.append(delivery.delivery_count)
        raise RuntimeError(f"boom on {delivery.delivery_count}")

    consumer = await broker.consume(queue_name, handler)

    async def one_dead_letter() -> bool:
        return len(await broker.dead_letters(queue_name)) == 1

    await eventually(one_dead_letter)
    await consumer.cancel()

    assert counts == [1, 2, 3]
    [dead] = await broker.dead_letters(queue_name)
    assert dead.payload == sent
    assert dead.message_id == "m-dead"
    assert dead.dead_reason == "delivery-limit"
    assert dead.error == "RuntimeError: boom on 3"
    assert dead.delivery_count == 3
    assert dead.headers["job-id"] == "j1"
    assert await broker.queue_depth(queue_name) == 0
    # Peeking does not consume.
    assert [d.message_id for d in await broker.dead_letters(queue_name)] == ["m-dead"]


async def test_reject_dead_letters_at_once(broker: Broker, queue_name: str, eventually) -> None:
    await broker.declare_work_queue(queue_name, max_deliveries=3)
    await broker.enqueue(queue_name, payload(), message_id="m-poison")
    counts: list[int] = []

    async def handler(delivery: Delivery) -> None:
        counts.append(delivery.delivery_count)
        raise Reject("not a render job")

    consumer = await broker.consume(queue_name, handler)

    async def dead() -> bool:
        return await broker.queue_depth(queue_name + ".dead") == 1

    await eventually(dead)
    await consumer.cancel()
    assert counts == [1]
    [letter] = await broker.dead_letters(queue_name)
    assert letter.dead_reason == "rejected"
    assert letter.error == "not a render job"
    assert letter.message_id == "m-poison"
    assert letter.delivery_count == 1


async def test_replay_moves_dead_letters_back(broker: Broker, queue_name: str, eventually) -> None:
    await broker.declare_work_queue(queue_name, max_deliveries=1)
    sent = [payload(), payload()]
    for item in sent:
        await broker.enqueue(queue_name, item)
    healthy = False
    handled: list[Delivery] = []

    async def handler(delivery: Delivery) -> None:
        if not healthy:
            raise RuntimeError("dependency down")
        handled.append(delivery)

    consumer = await broker.consume(queue_name, handler)

    async def both_dead() -> bool:
        return await broker.queue_depth(queue_name + ".dead") == 2

    await eventually(both_dead)
    healthy = True
    assert await broker.replay_dead_letters(queue_name) == 2
    await eventually(lambda: len(handled) == 2)
    await consumer.cancel()

    assert sorted(d.payload["job"] for d in handled) == sorted(p["job"] for p in sent)
    assert [d.delivery_count for d in handled] == [1, 1]
    assert all(d.dead_reason is None and d.error is None for d in handled)
    assert await broker.dead_letters(queue_name) == []
    assert await broker.replay_dead_letters(queue_name) == 0


async def test_topic_routing_with_wildcards(broker: Broker, eventually) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    queues = {name: f"test.broker.{prefix}.{name}" for name in ("take", "render", "failed")}
    patterns = {
        "take": [f"{prefix}.take.*"],
        "render": [f"{prefix}.render.#"],
        "failed": [f"{prefix}.*.failed"],
    }
    got: dict[str, list[str]] = {name: [] for name in queues}

    def collector(name: str):
        async def handler(delivery: Delivery) -> None:
            got[name].append(delivery.routing_key.removeprefix(prefix + "."))

        return handler

    consumers = [
        await broker.subscribe(queues[name], patterns[name], collector(name)) for name in queues
    ]
    try:
        keys = ["take.ingested", "take.a.b", "render", "render.progress.chunk", "render.failed"]
        for key in keys:
            await broker.publish(f"{prefix}.{key}", {"key": key})
        expected = {
            "take": ["take.ingested"],
            "render": ["render", "render.failed", "render.progress.chunk"],
            "failed": ["render.failed"],
        }
        await eventually(lambda: sum(map(len, got.values())) == 5)
        for consumer in consumers:
            await consumer.cancel()
        assert {name: sorted(keys) for name, keys in got.items()} == expected
    finally:
        for name in queues.values():
            await broker.delete_queue(name)


async def test_unmatched_event_is_kept_as_unrouted(broker: Broker, eventually) -> None:
    key = f"nobody.listens.{uuid.uuid4().hex}"
    if isinstance(broker, RabbitMQBroker):
        # The shared unrouted queue may hold many old events: watch the alternate exchange
        # through a private queue bound to it instead of reading the shared queue.
        import aio_pika

        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
        channel = await connection.channel()
        tap = await channel.declare_queue(exclusive=True, auto_delete=True)
        await tap.bind(UNROUTED_EXCHANGE)
        try:
            await broker.publish(key, {"lost": False}, message_id="m-unrouted")
            message = await tap.get(timeout=10)
            assert message.routing_key == key
            assert message.message_id == "m-unrouted"
            assert await broker.queue_depth(UNROUTED_QUEUE) >= 1
        finally:
            await connection.close()
    else:
        await broker.publish(key, {"lost": False}, message_id="m-unrouted")
        [kept] = [d for d in await broker.peek(UNROUTED_QUEUE) if d.routing_key == key]
        assert kept.payload == {"lost": False}
        assert kept.message_id == "m-unrouted"


async def test_enqueue_to_missing_queue_raises(broker: Broker) -> None:
    with pytest.raises(UnroutableError):
        await broker.enqueue(f"test.broker.missing.{uuid.uuid4().hex}", payload())
    # The broker still works afterwards.
    name = f"test.broker.{uuid.uuid4().hex[:12]}"
    await broker.declare_work_queue(name)
    try:
        await broker.enqueue(name, payload())
        assert await broker.queue_depth(name) == 1
    finally:
        await broker.delete_queue(name)


async def test_missing_queue_inspection_raises(broker: Broker) -> None:
    with pytest.raises(QueueNotFound):
        await broker.queue_depth(f"test.broker.missing.{uuid.uuid4().hex}")


async def test_payload_must_be_a_json_object(broker: Broker, queue_name: str) -> None:
    await broker.declare_work_queue(queue_name)
    with pytest.raises(TypeError):
        await broker.enqueue(queue_name, ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await broker.enqueue(queue_name, {"when": object()})
    assert await broker.queue_depth(queue_name) == 0


async def test_cancelled_consumer_requeues_unacked_message(
    broker: Broker, queue_name: str, eventually
) -> None:
    await broker.declare_work_queue(queue_name, max_deliveries=3)
    await broker.enqueue(queue_name, payload(), message_id="m-held")
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow(delivery: Delivery) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    consumer = await broker.consume(queue_name, slow)
    await asyncio.wait_for(started.wait(), 20)
    assert await broker.queue_depth(queue_name) == 0  # held by the consumer
    await consumer.cancel()
    assert cancelled.is_set()

    async def back() -> bool:
        return await broker.queue_depth(queue_name) == 1

    await eventually(back)
    again: list[Delivery] = []

    async def handler(delivery: Delivery) -> None:
        again.append(delivery)

    consumer = await broker.consume(queue_name, handler)
    await eventually(lambda: len(again) == 1)
    await consumer.cancel()
    assert again[0].message_id == "m-held"
    assert again[0].delivery_count == 2


async def test_handler_errors_do_not_stop_the_consumer(
    broker: Broker, queue_name: str, eventually
) -> None:
    await broker.declare_work_queue(queue_name, max_deliveries=1)
    for i in range(4):
        await broker.enqueue(queue_name, {"i": i})
    handled: list[int] = []

    async def handler(delivery: Delivery) -> None:
        if delivery.payload["i"] % 2:
            raise ValueError("odd")
        handled.append(delivery.payload["i"])

    consumer = await broker.consume(queue_name, handler, prefetch=2)

    async def settled() -> bool:
        return len(handled) == 2 and await broker.queue_depth(queue_name + ".dead") == 2

    await eventually(settled)
    await consumer.cancel()
    assert sorted(handled) == [0, 2]
    errors = sorted(d.error or "" for d in await broker.dead_letters(queue_name))
    assert errors == ["ValueError: odd", "ValueError: odd"]


async def test_prefetch_allows_concurrent_handlers(
    broker: Broker, queue_name: str, eventually
) -> None:
    await broker.declare_work_queue(queue_name)
    for i in range(3):
        await broker.enqueue(queue_name, {"i": i})
    running = 0
    peak = 0
    release = asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    consumer = await broker.consume(queue_name, handler, prefetch=2)
    await eventually(lambda: peak == 2)
    assert await broker.queue_depth(queue_name) == 1  # the third waits for a free slot
    release.set()

    async def drained() -> bool:
        return running == 0 and await broker.queue_depth(queue_name) == 0

    await eventually(drained)
    await consumer.cancel()
    assert peak == 2


async def test_trace_context_travels_in_headers(
    broker: Broker, queue_name: str, eventually
) -> None:
    await broker.declare_work_queue(queue_name)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("producer") as span:
        producer = span.get_span_context()
        await broker.enqueue(queue_name, payload())
    seen: list[tuple[Delivery, int]] = []

    async def handler(delivery: Delivery) -> None:
        seen.append((delivery, trace.get_current_span().get_span_context().trace_id))

    consumer = await broker.consume(queue_name, handler)
    await eventually(lambda: len(seen) == 1)
    await consumer.cancel()
    delivery, trace_id = seen[0]
    assert delivery.headers["traceparent"].split("-")[1] == format(producer.trace_id, "032x")
    assert trace_id == producer.trace_id


async def test_subscriber_replay_keeps_the_event_key(broker: Broker, eventually) -> None:
    queue = f"test.broker.{uuid.uuid4().hex[:12]}"
    key = f"k{uuid.uuid4().hex[:8]}.render.failed"
    failing = True
    seen: list[Delivery] = []

    async def handler(delivery: Delivery) -> None:
        if failing:
            raise Reject("bad event")
        seen.append(delivery)

    consumer = await broker.subscribe(queue, [key], handler, max_deliveries=2)
    try:
        await broker.publish(key, {"job": "j"})

        async def dead() -> bool:
            return await broker.queue_depth(queue + ".dead") == 1

        await eventually(dead)
        [letter] = await broker.dead_letters(queue)
        assert letter.routing_key == key
        failing = False
        assert await broker.replay_dead_letters(queue) == 1
        await eventually(lambda: len(seen) == 1)
        assert seen[0].routing_key == key
        assert seen[0].payload == {"job": "j"}
    finally:
        await consumer.cancel()
        await broker.delete_queue(queue)
