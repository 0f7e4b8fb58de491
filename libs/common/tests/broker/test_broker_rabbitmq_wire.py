"""What RabbitMQ actually receives: message properties, confirms, topology."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest

from editbay_common.broker import BrokerError, Delivery, open_broker
from editbay_common.broker.rabbitmq import RabbitMQBroker

pytestmark = pytest.mark.rabbitmq

URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
async def rabbit() -> AsyncIterator[RabbitMQBroker]:
    broker = open_broker(URL)
    assert isinstance(broker, RabbitMQBroker)
    await broker.start()
    yield broker
    await broker.close()


@pytest.fixture
async def raw_channel() -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(URL)
    yield await connection.channel()
    await connection.close()


async def test_messages_are_persistent_json_with_an_id(
    rabbit: RabbitMQBroker, raw_channel: aio_pika.abc.AbstractChannel
) -> None:
    name = f"test.broker.{uuid.uuid4().hex[:12]}"
    await rabbit.declare_work_queue(name)
    try:
        await rabbit.enqueue(name, {"scene": 2, "title": "Ünïcode"}, headers={"job-id": "j7"})
        queue = await raw_channel.get_queue(name)
        message = await queue.get(timeout=10)
        await message.ack()
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert message.content_type == "application/json"
        assert json.loads(message.body.decode("utf-8")) == {"scene": 2, "title": "Ünïcode"}
        assert message.message_id and len(message.message_id) == 32
        assert message.headers["job-id"] == "j7"
    finally:
        await rabbit.delete_queue(name)


async def test_work_queue_is_a_quorum_queue_with_dead_lettering(
    rabbit: RabbitMQBroker, raw_channel: aio_pika.abc.AbstractChannel
) -> None:
    name = f"test.broker.{uuid.uuid4().hex[:12]}"
    await rabbit.declare_work_queue(name, max_deliveries=3)
    try:
        # Declaring again with the same arguments is accepted (a mismatch would close the
        # channel with PRECONDITION_FAILED); so is a second broker declaring it.
        await rabbit.declare_work_queue(name, max_deliveries=3)
        await raw_channel.declare_queue(
            name,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": "editbay.dlx",
                "x-dead-letter-routing-key": name,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
                "x-delivery-limit": 2,
            },
        )
    finally:
        await rabbit.delete_queue(name)


async def test_publisher_confirms_surface_a_broker_refusal(
    rabbit: RabbitMQBroker, raw_channel: aio_pika.abc.AbstractChannel
) -> None:
    # A full queue with reject-publish nacks the publish; only a confirmed publish notices.
    name = f"test.broker.{uuid.uuid4().hex[:12]}"
    await raw_channel.declare_queue(
        name,
        durable=True,
        arguments={"x-max-length": 1, "x-overflow": "reject-publish"},  # classic: exact limit
    )
    try:
        await rabbit.enqueue(name, {"first": True})
        with pytest.raises(BrokerError):
            await rabbit.enqueue(name, {"second": True})
        assert await rabbit.queue_depth(name) == 1
        # The publishing channel survives the refusal.
        await rabbit.publish(f"nobody.{uuid.uuid4().hex}", {"still": "working"})
    finally:
        await rabbit.delete_queue(name)


async def test_broker_dead_letters_a_message_whose_consumer_keeps_dying(
    rabbit: RabbitMQBroker,
) -> None:
    """The quorum delivery limit is the safety net when no consumer ever settles a message:
    max_deliveries=2 -> the third return dead-letters it, reported as delivery-limit."""
    name = f"test.broker.{uuid.uuid4().hex[:12]}"
    await rabbit.declare_work_queue(name, max_deliveries=2)
    try:
        await rabbit.enqueue(name, {"crash": True}, message_id="m-crash")
        for _ in range(2):
            connection = await aio_pika.connect(URL)
            channel = await connection.channel()
            queue = await channel.get_queue(name)
            # The previous holder's return reaches the queue asynchronously: wait for it.
            message = await _get_eventually(queue)
            assert message.message_id == "m-crash"
            await connection.close()  # dies holding it: back to the queue, counted
        letters: list[Delivery] = []
        async with asyncio.timeout(20):
            while not letters:
                letters = await rabbit.dead_letters(name)
                await asyncio.sleep(0.02)
        assert [d.message_id for d in letters] == ["m-crash"]
        assert letters[0].dead_reason == "delivery-limit"
        assert letters[0].delivery_count == 2
        assert await rabbit.queue_depth(name) == 0
    finally:
        await rabbit.delete_queue(name)


async def _get_eventually(
    queue: aio_pika.abc.AbstractQueue,
) -> aio_pika.abc.AbstractIncomingMessage:
    async with asyncio.timeout(20):
        while (message := await queue.get(fail=False)) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    return message


async def test_undecodable_message_is_dead_lettered_not_retried(
    rabbit: RabbitMQBroker, raw_channel: aio_pika.abc.AbstractChannel
) -> None:
    name = f"test.broker.{uuid.uuid4().hex[:12]}"
    await rabbit.declare_work_queue(name, max_deliveries=3)
    handled: list[Delivery] = []

    async def handler(delivery: Delivery) -> None:
        handled.append(delivery)

    try:
        await raw_channel.default_exchange.publish(
            aio_pika.Message(b"\xff not json", message_id="m-garbage"), routing_key=name
        )
        consumer = await rabbit.consume(name, handler)
        async with asyncio.timeout(20):
            while await rabbit.queue_depth(name + ".dead") == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        await consumer.cancel()
        [letter] = await rabbit.dead_letters(name)
        assert letter.message_id == "m-garbage"
        assert letter.dead_reason == "rejected"
        assert "undecodable body" in (letter.error or "")
        assert handled == []
        assert letter.payload == {}
        assert letter.headers["x-editbay-raw-body"].endswith("not json")
    finally:
        await rabbit.delete_queue(name)


async def test_redeclaring_with_other_settings_is_a_clear_error(rabbit: RabbitMQBroker) -> None:
    name = f"test.broker.{uuid.uuid4().hex[:12]}"
    await rabbit.declare_work_queue(name, max_deliveries=3)
    try:
        with pytest.raises(BrokerError, match="other arguments"):
            await rabbit.declare_work_queue(name, max_deliveries=5)
        # The broker is still usable.
        await rabbit.enqueue(name, {"ok": True})
        assert await rabbit.queue_depth(name) == 1
    finally:
        await rabbit.delete_queue(name)


async def test_a_cancelled_consumer_shutdown_leaves_the_connection_usable(
    rabbit: RabbitMQBroker,
) -> None:
    """Shutting a consumer down closes its channel. If the task doing that is cancelled half
    way (a service stopping), the close must still finish: a channel the client forgot while
    the server still has it open makes the server close the whole connection when the number
    is reused ("CHANNEL_ERROR - expected 'channel.open'")."""
    name = f"test.broker.{uuid.uuid4().hex[:12]}"
    await rabbit.declare_work_queue(name)

    async def handler(delivery: Delivery) -> None:
        return None

    try:
        for step in range(40):  # cancel at moments from 0 to 4 ms into the shutdown
            consumer = await rabbit.consume(name, handler)
            stopping = asyncio.create_task(consumer.cancel())
            await asyncio.sleep(step / 10_000)
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopping
            # new channels reuse the freed numbers: each must open on a live connection
            await rabbit.declare_work_queue(name)
            await rabbit.enqueue(name, {"step": step})
    finally:
        await rabbit.delete_queue(name)
