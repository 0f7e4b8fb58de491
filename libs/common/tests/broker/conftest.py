"""Fixtures running every broker semantics test against both implementations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from editbay_common.broker import Broker, open_broker

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("rabbitmq", id="rabbitmq", marks=pytest.mark.rabbitmq),
    ]
)
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    url = f"memory://{uuid.uuid4().hex}" if request.param == "memory" else RABBITMQ_URL
    instance = open_broker(url)
    await instance.start()
    try:
        yield instance
    finally:
        await instance.close()


@pytest.fixture
async def queue_name(broker: Broker) -> AsyncIterator[str]:
    """A unique queue name; the queue and its dead-letter queue are deleted afterwards."""
    name = f"test.broker.{uuid.uuid4().hex[:12]}"
    yield name
    await broker.delete_queue(name)


async def _eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], *, within: float = 20.0
) -> None:
    """Wait until ``check()`` holds (the timeout only keeps a broken test from hanging)."""
    async with asyncio.timeout(within):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)


@pytest.fixture
def eventually() -> Callable[..., Awaitable[None]]:
    return _eventually
