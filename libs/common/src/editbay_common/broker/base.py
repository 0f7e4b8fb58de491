"""The broker interface every service codes against, and what both implementations share.

Two kinds of traffic:

* **work queues** (``render``, ``training``): one consumer takes each message; quorum queues
  with a dead-letter queue ``<name>.dead``; ``enqueue`` puts a message on one;
* **events** (``take.ingested``, ``render.succeeded``, ...): published to the topic exchange
  ``editbay.events``; every subscriber queue bound with a matching key gets a copy.

Consumer semantics (the same on RabbitMQ and in process): the handler returns -> ack; it raises
:class:`Reject` -> dead-lettered at once; it raises anything else -> requeued and delivered again
until ``max_deliveries`` deliveries have happened, then dead-lettered with the error text.
"""

from __future__ import annotations

import json
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from editbay_common.tracing import consumer_span, mark_current_span_failed

log = logging.getLogger(__name__)

EVENTS_EXCHANGE = "editbay.events"
DEAD_LETTER_EXCHANGE = "editbay.dlx"
# Events that matched no subscriber end up here (bounded), so they are never lost silently.
UNROUTED_EXCHANGE = "editbay.unrouted"
UNROUTED_QUEUE = "editbay.unrouted"
UNROUTED_MAX_LENGTH = 10_000
DEAD_SUFFIX = ".dead"
CONTENT_TYPE = "application/json"

# Headers a dead letter carries (set by the consumer that dead-lettered it).
DEAD_REASON_HEADER = "x-editbay-dead-reason"  # "rejected" | "delivery-limit"
DEAD_ERROR_HEADER = "x-editbay-error"  # the handler's error text
DEAD_QUEUE_HEADER = "x-editbay-queue"  # the queue it died in
# Its original routing key; kept on replay, where the message is re-sent straight to its queue.
DEAD_ROUTING_KEY_HEADER = "x-editbay-routing-key"
DEAD_DELIVERIES_HEADER = "x-editbay-deliveries"  # how many deliveries it had
MAX_ERROR_CHARS = 2_000


class DeadReason(StrEnum):
    REJECTED = "rejected"
    DELIVERY_LIMIT = "delivery-limit"


def dead_letter_queue(queue: str) -> str:
    """The name of the dead-letter queue of ``queue``."""
    return queue + DEAD_SUFFIX


class BrokerError(Exception):
    """The broker refused or could not take a message or a command."""


class UnroutableError(BrokerError):
    """A message could not be routed: the work queue does not exist."""


class QueueNotFound(BrokerError):
    """The named queue does not exist."""


@dataclass
class Delivery:
    payload: dict[str, Any]
    headers: dict[str, Any]
    routing_key: str
    message_id: str
    delivery_count: int  # 1 on the first delivery

    @property
    def dead_reason(self) -> str | None:
        """Why a dead letter died (``rejected`` / ``delivery-limit``); None for live messages."""
        return self.headers.get(DEAD_REASON_HEADER)

    @property
    def error(self) -> str | None:
        """The error text recorded when the message was dead-lettered."""
        return self.headers.get(DEAD_ERROR_HEADER)


class Reject(Exception):
    """Raise from a handler to dead-letter the message at once (poison message), with a reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Handler = Callable[[Delivery], Awaitable[None]]


class Consumer(Protocol):
    async def cancel(self) -> None:
        """Stop consuming; messages being handled are cancelled and go back to the queue."""


class Broker(ABC):
    """A message broker connection shared by one service (or by all, in process)."""

    @abstractmethod
    async def start(self) -> None:
        """Connect and declare the exchanges. Idempotent."""

    @abstractmethod
    async def close(self) -> None:
        """Cancel this broker's consumers and disconnect."""

    @abstractmethod
    async def declare_work_queue(self, name: str, *, max_deliveries: int = 3) -> None:
        """Declare a durable work queue with its dead-letter queue ``<name>.dead``. Idempotent."""

    @abstractmethod
    async def enqueue(
        self,
        queue: str,
        payload: dict[str, Any],
        *,
        headers: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> None:
        """Put a message on a work queue, confirmed; raises UnroutableError if it is missing."""

    @abstractmethod
    async def publish(
        self,
        routing_key: str,
        payload: dict[str, Any],
        *,
        headers: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> None:
        """Publish an event to ``editbay.events``, confirmed."""

    @abstractmethod
    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 1) -> Consumer:
        """Consume a declared work queue (see the module docstring for the ack semantics)."""

    @abstractmethod
    async def subscribe(
        self,
        queue: str,
        routing_keys: Sequence[str],
        handler: Handler,
        *,
        prefetch: int = 16,
        max_deliveries: int = 5,
    ) -> Consumer:
        """Bind a durable queue to events matching ``routing_keys`` (``*``/``#``) and consume it."""

    @abstractmethod
    async def peek(self, queue: str, *, limit: int = 100) -> list[Delivery]:
        """Up to ``limit`` ready messages of ``queue``, left in the queue."""

    async def dead_letters(self, queue: str, *, limit: int = 100) -> list[Delivery]:
        """Inspect the dead letters of ``queue`` without consuming them."""
        return await self.peek(dead_letter_queue(queue), limit=limit)

    @abstractmethod
    async def replay_dead_letters(self, queue: str) -> int:
        """Move the dead letters of ``queue`` back to it (fresh delivery count); how many."""

    @abstractmethod
    async def queue_depth(self, queue: str) -> int:
        """How many messages wait in ``queue`` (ready, not being handled)."""

    @abstractmethod
    async def delete_queue(self, queue: str) -> None:
        """Delete a queue and its dead-letter queue (tests, operations)."""

    async def __aenter__(self) -> Broker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# ---- shared by both implementations -------------------------------------------------------


def new_message_id(message_id: str | None) -> str:
    return message_id or uuid.uuid4().hex


def encode_payload(payload: dict[str, Any]) -> bytes:
    if not isinstance(payload, dict):
        raise TypeError(f"a message payload must be a JSON object (dict), not {type(payload)}")
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def decode_payload(body: bytes) -> dict[str, Any]:
    value = json.loads(body.decode())
    if not isinstance(value, dict):
        raise ValueError("message body is not a JSON object")
    return value


class Outcome(StrEnum):
    ACK = "ack"
    REQUEUE = "requeue"
    DEAD_LETTER = "dead-letter"


@dataclass
class HandlerResult:
    outcome: Outcome
    reason: DeadReason | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def run_handler(
    handler: Handler, delivery: Delivery, *, queue: str, max_deliveries: int
) -> HandlerResult:
    """Run ``handler`` in a consumer span and decide what happens to the message.

    CancelledError propagates (the consumer is being cancelled: the message goes back).
    """
    with consumer_span(
        delivery.headers,
        destination=queue,
        message_id=delivery.message_id,
        delivery_count=delivery.delivery_count,
    ):
        try:
            await handler(delivery)
        except Reject as exc:
            mark_current_span_failed(exc, f"rejected: {exc.reason}")
            log.warning("message %s on %s rejected: %s", delivery.message_id, queue, exc.reason)
            return HandlerResult(Outcome.DEAD_LETTER, DeadReason.REJECTED, exc.reason)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            mark_current_span_failed(exc, error)
            if delivery.delivery_count >= max_deliveries:
                log.error(
                    "message %s on %s failed on delivery %d of %d, dead-lettering: %s",
                    delivery.message_id,
                    queue,
                    delivery.delivery_count,
                    max_deliveries,
                    error,
                )
                return HandlerResult(Outcome.DEAD_LETTER, DeadReason.DELIVERY_LIMIT, error)
            log.warning(
                "message %s on %s failed on delivery %d of %d, requeueing: %s",
                delivery.message_id,
                queue,
                delivery.delivery_count,
                max_deliveries,
                error,
                exc_info=True,
            )
            return HandlerResult(Outcome.REQUEUE, error=error)
    return HandlerResult(Outcome.ACK)


def dead_letter_headers(
    headers: Mapping[str, Any],
    *,
    queue: str,
    routing_key: str,
    deliveries: int,
    reason: DeadReason,
    error: str | None,
) -> dict[str, Any]:
    result = dict(headers)
    result[DEAD_REASON_HEADER] = reason.value
    result[DEAD_ERROR_HEADER] = (error or "")[:MAX_ERROR_CHARS]
    result[DEAD_QUEUE_HEADER] = queue
    result[DEAD_ROUTING_KEY_HEADER] = routing_key
    result[DEAD_DELIVERIES_HEADER] = deliveries
    return result


def strip_dead_letter_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """Headers of a dead letter replayed to its queue: without the dead-letter bookkeeping
    (the original routing key stays, so a subscriber still sees the event's key)."""
    dropped = ("x-death", "x-first-death-", "x-last-death-", "x-delivery-count")
    return {
        k: v
        for k, v in headers.items()
        if k == DEAD_ROUTING_KEY_HEADER or not (k.startswith("x-editbay-") or k.startswith(dropped))
    }
