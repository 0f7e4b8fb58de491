"""Messaging: work queues and events over RabbitMQ, or in process in the all-in-one mode."""

from urllib.parse import urlsplit

from editbay_common.broker.base import (
    DEAD_ERROR_HEADER,
    DEAD_LETTER_EXCHANGE,
    DEAD_REASON_HEADER,
    EVENTS_EXCHANGE,
    UNROUTED_QUEUE,
    Broker,
    BrokerError,
    Consumer,
    DeadReason,
    Delivery,
    Handler,
    QueueNotFound,
    Reject,
    UnroutableError,
    dead_letter_queue,
)
from editbay_common.broker.memory import InProcessBroker
from editbay_common.broker.rabbitmq import RabbitMQBroker


def open_broker(url: str) -> Broker:
    """``memory://[name]`` -> the process-wide InProcessBroker of that name;
    ``amqp://`` / ``amqps://`` -> RabbitMQBroker. Not started yet."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return InProcessBroker.shared(urlsplit(url).netloc or "default")
    if scheme in ("amqp", "amqps"):
        return RabbitMQBroker(url)
    raise ValueError(
        f"unsupported broker URL scheme {scheme!r}: use memory://, amqp:// or amqps://"
    )


__all__ = [
    "DEAD_ERROR_HEADER",
    "DEAD_LETTER_EXCHANGE",
    "DEAD_REASON_HEADER",
    "EVENTS_EXCHANGE",
    "UNROUTED_QUEUE",
    "Broker",
    "BrokerError",
    "Consumer",
    "DeadReason",
    "Delivery",
    "Handler",
    "InProcessBroker",
    "QueueNotFound",
    "RabbitMQBroker",
    "Reject",
    "UnroutableError",
    "dead_letter_queue",
    "open_broker",
]
