"""The in-process broker of the all-in-one mode: RabbitMQ's semantics without a server.

Every service running in the process shares one instance (``open_broker("memory://")``).
Messages live in memory only: they do not survive the process, which is what a single creator's
machine running everything in one process expects. Payloads are serialised to JSON on the way
in, so a handler never shares (or mutates) the producer's objects and a non-JSON payload fails
the same way it would against RabbitMQ.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from editbay_common.broker.base import (
    DEAD_DELIVERIES_HEADER,
    DEAD_ROUTING_KEY_HEADER,
    UNROUTED_MAX_LENGTH,
    UNROUTED_QUEUE,
    Broker,
    DeadReason,
    Delivery,
    Handler,
    Outcome,
    QueueNotFound,
    UnroutableError,
    dead_letter_headers,
    dead_letter_queue,
    decode_payload,
    encode_payload,
    new_message_id,
    run_handler,
    strip_dead_letter_headers,
)
from editbay_common.broker.topic import topic_matches
from editbay_common.tracing import inject_context

log = logging.getLogger(__name__)


@dataclass
class _Envelope:
    body: bytes
    headers: dict[str, Any]
    routing_key: str
    message_id: str
    deliveries: int = 0  # how many times it was handed to a consumer

    def delivery(self, *, count: int | None = None) -> Delivery:
        return Delivery(
            payload=decode_payload(self.body),
            headers=dict(self.headers),
            routing_key=self.routing_key,
            message_id=self.message_id,
            delivery_count=self.deliveries if count is None else count,
        )


@dataclass
class _Queue:
    """A FIFO of ready messages that consumers wait on."""

    name: str
    max_deliveries: int | None = None  # None: a dead-letter (or unrouted) queue
    max_length: int | None = None
    bindings: set[str] = field(default_factory=set)
    ready: deque[_Envelope] = field(default_factory=deque)
    _waiters: deque[asyncio.Future[None]] = field(default_factory=deque)

    def put(self, envelope: _Envelope) -> None:
        self.ready.append(envelope)
        if self.max_length is not None:
            while len(self.ready) > self.max_length:
                self.ready.popleft()  # drop-head, like x-overflow=drop-head
        self._wake_one()

    async def get(self) -> _Envelope:
        while not self.ready:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # we were woken but leave: pass the wake-up on
                raise
        return self.ready.popleft()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


class _MemoryConsumer:
    """Takes messages from one queue, at most ``prefetch`` at a time, each in its own task."""

    def __init__(
        self, broker: InProcessBroker, queue: _Queue, handler: Handler, prefetch: int
    ) -> None:
        self._broker = broker
        self._queue = queue
        self._handler = handler
        self._slots = asyncio.Semaphore(max(1, prefetch))
        self._inflight: dict[asyncio.Task[None], _Envelope] = {}
        self._loop_task = asyncio.create_task(self._run(), name=f"consume {queue.name}")

    async def _run(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                envelope = await self._queue.get()
            except asyncio.CancelledError:
                self._slots.release()
                raise
            envelope.deliveries += 1
            task = asyncio.create_task(self._handle(envelope))
            self._inflight[task] = envelope
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.pop(task, None)
        self._slots.release()

    async def _handle(self, envelope: _Envelope) -> None:
        queue = self._queue
        max_deliveries = queue.max_deliveries or 1
        try:
            result = await run_handler(
                self._handler, envelope.delivery(), queue=queue.name, max_deliveries=max_deliveries
            )
        except asyncio.CancelledError:
            self._broker._return(queue, envelope, error="consumer cancelled")
            raise
        if result.outcome is Outcome.REQUEUE:
            self._broker._return(queue, envelope, error=result.error)
        elif result.outcome is Outcome.DEAD_LETTER:
            assert result.reason is not None
            self._broker._dead_letter(queue, envelope, result.reason, result.error)

    async def cancel(self) -> None:
        """Stop taking messages; handlers still running are cancelled and their messages go back."""
        self._loop_task.cancel()
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(self._loop_task, *self._inflight, return_exceptions=True)
        self._broker._consumers.discard(self)


class InProcessBroker(Broker):
    """The broker of the all-in-one mode (one instance per process and name)."""

    _instances: ClassVar[dict[str, InProcessBroker]] = {}

    def __init__(self, name: str = "default") -> None:
        self.name = name
        self._queues: dict[str, _Queue] = {}
        self._consumers: set[_MemoryConsumer] = set()
        self._users = 0
        self._queues[UNROUTED_QUEUE] = _Queue(UNROUTED_QUEUE, max_length=UNROUTED_MAX_LENGTH)

    @classmethod
    def shared(cls, name: str = "default") -> InProcessBroker:
        """The process-wide instance called ``name`` (made on first use)."""
        instance = cls._instances.get(name)
        if instance is None:
            instance = cls._instances[name] = cls(name)
        return instance

    async def start(self) -> None:
        # Each service sharing the instance starts and closes it; the last close stops it.
        self._users += 1

    async def close(self) -> None:
        self._users = max(0, self._users - 1)
        if self._users:
            return
        for consumer in list(self._consumers):
            await consumer.cancel()
        if InProcessBroker._instances.get(self.name) is self:
            del InProcessBroker._instances[self.name]

    # ---- declarations -------------------------------------------------------------------------

    def _declare(self, name: str, max_deliveries: int) -> _Queue:
        if max_deliveries < 1:
            raise ValueError("max_deliveries must be at least 1")
        queue = self._queues.get(name)
        if queue is None:
            queue = self._queues[name] = _Queue(name, max_deliveries=max_deliveries)
        else:
            queue.max_deliveries = max_deliveries
        dead = dead_letter_queue(name)
        self._queues.setdefault(dead, _Queue(dead))
        return queue

    def _queue(self, name: str) -> _Queue:
        queue = self._queues.get(name)
        if queue is None:
            raise QueueNotFound(f"queue {name!r} does not exist")
        return queue

    async def declare_work_queue(self, name: str, *, max_deliveries: int = 3) -> None:
        self._declare(name, max_deliveries)

    async def delete_queue(self, queue: str) -> None:
        for name in (queue, dead_letter_queue(queue)):
            self._queues.pop(name, None)

    # ---- producing ----------------------------------------------------------------------------

    @staticmethod
    def _envelope(
        routing_key: str,
        payload: dict[str, Any],
        headers: dict[str, Any] | None,
        message_id: str | None,
    ) -> _Envelope:
        return _Envelope(
            body=encode_payload(payload),
            headers=inject_context(headers),
            routing_key=routing_key,
            message_id=new_message_id(message_id),
        )

    async def enqueue(
        self,
        queue: str,
        payload: dict[str, Any],
        *,
        headers: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> None:
        target = self._queues.get(queue)
        if target is None:
            raise UnroutableError(f"no queue {queue!r}: declare it before enqueueing")
        target.put(self._envelope(queue, payload, headers, message_id))

    async def publish(
        self,
        routing_key: str,
        payload: dict[str, Any],
        *,
        headers: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> None:
        envelope = self._envelope(routing_key, payload, headers, message_id)
        targets = [
            q
            for q in self._queues.values()
            if any(topic_matches(b, routing_key) for b in q.bindings)
        ]
        if not targets:
            targets = [self._queues[UNROUTED_QUEUE]]
        for target in targets:
            # Each queue gets its own copy, as RabbitMQ does.
            target.put(
                _Envelope(envelope.body, dict(envelope.headers), routing_key, envelope.message_id)
            )

    # ---- consuming ----------------------------------------------------------------------------

    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 1) -> _MemoryConsumer:
        target = self._queue(queue)
        if target.max_deliveries is None:
            target.max_deliveries = 1
        consumer = _MemoryConsumer(self, target, handler, prefetch)
        self._consumers.add(consumer)
        return consumer

    async def subscribe(
        self,
        queue: str,
        routing_keys: Sequence[str],
        handler: Handler,
        *,
        prefetch: int = 16,
        max_deliveries: int = 5,
    ) -> _MemoryConsumer:
        target = self._declare(queue, max_deliveries)
        target.bindings.update(routing_keys)
        return await self.consume(queue, handler, prefetch=prefetch)

    def _return(self, queue: _Queue, envelope: _Envelope, *, error: str | None) -> None:
        """A message went back unacknowledged (failure or cancellation)."""
        if self._queues.get(queue.name) is not queue:
            return  # the queue was deleted meanwhile
        if envelope.deliveries >= (queue.max_deliveries or 1):
            # What RabbitMQ's delivery limit does to a message returned once too often.
            self._dead_letter(queue, envelope, DeadReason.DELIVERY_LIMIT, error)
        else:
            queue.put(envelope)

    def _dead_letter(
        self, queue: _Queue, envelope: _Envelope, reason: DeadReason, error: str | None
    ) -> None:
        dead = self._queues.get(dead_letter_queue(queue.name))
        if dead is None:
            log.error(
                "dead-letter queue of %s is gone; dropping %s", queue.name, envelope.message_id
            )
            return
        headers = dead_letter_headers(
            envelope.headers,
            queue=queue.name,
            routing_key=envelope.routing_key,
            deliveries=envelope.deliveries,
            reason=reason,
            error=error,
        )
        dead.put(_Envelope(envelope.body, headers, queue.name, envelope.message_id, 0))

    # ---- inspection ---------------------------------------------------------------------------

    async def peek(self, queue: str, *, limit: int = 100) -> list[Delivery]:
        result = []
        for envelope in list(self._queue(queue).ready)[:limit]:
            count = envelope.headers.get(DEAD_DELIVERIES_HEADER, envelope.deliveries)
            delivery = envelope.delivery(count=count)
            delivery.routing_key = envelope.headers.get(
                DEAD_ROUTING_KEY_HEADER, delivery.routing_key
            )
            result.append(delivery)
        return result

    async def replay_dead_letters(self, queue: str) -> int:
        target = self._queue(queue)
        dead = self._queue(dead_letter_queue(queue))
        moved = 0
        while dead.ready:
            envelope = dead.ready.popleft()
            target.put(
                _Envelope(
                    envelope.body,
                    strip_dead_letter_headers(envelope.headers),
                    envelope.headers.get(DEAD_ROUTING_KEY_HEADER, queue),
                    envelope.message_id,
                )
            )
            moved += 1
        return moved

    async def queue_depth(self, queue: str) -> int:
        return len(self._queue(queue).ready)
