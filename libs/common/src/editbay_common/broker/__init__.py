"""Messaging: work queues and events over RabbitMQ, or in process in the all-in-one mode."""

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
    open_broker,
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
    "QueueNotFound",
    "Reject",
    "UnroutableError",
    "dead_letter_queue",
    "open_broker",
]
