"""Topic matching and broker URLs: pure functions, no server."""

from __future__ import annotations

import pytest

from editbay_common.broker import open_broker
from editbay_common.broker.memory import InProcessBroker
from editbay_common.broker.rabbitmq import RabbitMQBroker, work_queue_arguments
from editbay_common.broker.topic import topic_matches


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("take.ingested", "take.ingested", True),
        ("take.ingested", "take.ingestedx", False),
        ("take.*", "take.ingested", True),
        ("take.*", "take", False),
        ("take.*", "take.a.b", False),
        ("*.failed", "render.failed", True),
        ("render.#", "render", True),
        ("render.#", "render.progress.chunk", True),
        ("render.#", "renderer.progress", False),
        ("#", "anything.at.all", True),
        ("#.failed", "failed", True),
        ("#.failed", "a.b.failed", True),
        ("a.#.z", "a.z", True),
        ("a.#.z", "a.b.c.z", True),
        ("a.#.z", "a.b.c", False),
        ("*.*", "a", False),
    ],
)
def test_topic_matches(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern, key) is expected


async def test_open_broker_picks_the_implementation() -> None:
    assert isinstance(open_broker("amqp://guest:guest@127.0.0.1:5672/"), RabbitMQBroker)
    assert isinstance(open_broker("amqps://user:pw@rabbit.example:5671/vh"), RabbitMQBroker)
    shared = open_broker("memory://url-test")
    assert isinstance(shared, InProcessBroker)
    # Every service in the process gets the same in-process broker.
    assert open_broker("memory://url-test") is shared
    assert open_broker("memory://other-url-test") is not shared
    await shared.start()
    await shared.close()
    assert open_broker("memory://url-test") is not shared  # released after the last close


def test_open_broker_rejects_other_schemes() -> None:
    with pytest.raises(ValueError, match="'redis'"):
        open_broker("redis://localhost:6379/0")


def test_quorum_delivery_limit_is_one_less_than_max_deliveries() -> None:
    args = work_queue_arguments("render", 3)
    assert args["x-delivery-limit"] == 2
    assert args["x-queue-type"] == "quorum"
    assert args["x-dead-letter-strategy"] == "at-least-once"
    assert args["x-overflow"] == "reject-publish"
