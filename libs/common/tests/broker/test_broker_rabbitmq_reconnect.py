"""The robust connection: after the server drops it, publishing and consuming resume."""

from __future__ import annotations

import asyncio
import shutil
import uuid

import pytest

from editbay_common.broker import BrokerError, Delivery
from editbay_common.broker.rabbitmq import RabbitMQBroker

pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl"),
]


async def _rabbitmqctl(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "rabbitmqctl", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def _close_connections_named(name: str) -> int:
    listing = await _rabbitmqctl(
        "list_connections", "-q", "--no-table-headers", "pid", "client_properties"
    )
    marker = f'{{"connection_name","{name}"}}'
    pids = [line.split("\t", 1)[0] for line in listing.splitlines() if marker in line]
    for pid in pids:
        await _rabbitmqctl("close_connection", pid, "test: simulated network failure")
    return len(pids)


async def test_consumer_and_publisher_recover_after_the_connection_drops() -> None:
    name = f"test-reconnect-{uuid.uuid4().hex[:8]}"
    broker = RabbitMQBroker(
        "amqp://guest:guest@127.0.0.1:5672/?reconnect_interval=0.5", connection_name=name
    )
    await broker.start()
    queue = f"test.broker.{uuid.uuid4().hex[:12]}"
    got: list[Delivery] = []
    try:
        await broker.declare_work_queue(queue)

        async def handler(delivery: Delivery) -> None:
            got.append(delivery)

        consumer = await broker.consume(queue, handler)
        await broker.enqueue(queue, {"before": True})
        async with asyncio.timeout(20):
            while not got:  # noqa: ASYNC110
                await asyncio.sleep(0.02)

        assert await _close_connections_named(name) == 1

        async with asyncio.timeout(30):
            while True:
                try:
                    await broker.enqueue(queue, {"after": True})
                    break
                except BrokerError:
                    await asyncio.sleep(0.2)  # still reconnecting
            while len(got) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        await consumer.cancel()
        assert [d.payload for d in got] == [{"before": True}, {"after": True}]
    finally:
        await broker.delete_queue(queue)
        await broker.close()
