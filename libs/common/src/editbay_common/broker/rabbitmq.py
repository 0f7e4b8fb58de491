"""The broker over RabbitMQ (aio-pika, a robust connection that reconnects by itself).

Topology (all durable, declared idempotently by whoever starts first):

* ``editbay.events``: topic exchange for events; its alternate exchange ``editbay.unrouted``
  (fanout) sends events no subscriber matched to the bounded queue ``editbay.unrouted``;
* ``editbay.dlx``: direct exchange for dead letters; queue ``<q>.dead`` is bound with key ``<q>``;
* work and subscriber queues: quorum queues dead-lettering to ``editbay.dlx`` with routing key
  ``<q>``, at-least-once (``x-dead-letter-strategy`` + ``x-overflow: reject-publish``), with a
  delivery limit as a safety net.

The consumer counts deliveries itself (the quorum queue's ``x-delivery-count`` header) and
dead-letters on the last failed delivery by publishing a copy that carries the reason and the
error text to ``editbay.dlx`` (confirmed) before acking the original. The broker's own delivery
limit (``max_deliveries - 1``: a quorum limit of N allows N+1 deliveries) only acts when a
consumer dies or is cancelled holding a message on its last delivery.

Publishing: one channel with publisher confirms and ``on_return_raises``; persistent messages;
``mandatory`` so an enqueue to a missing queue raises instead of vanishing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from editbay_common.broker.base import (
    CONTENT_TYPE,
    DEAD_DELIVERIES_HEADER,
    DEAD_ERROR_HEADER,
    DEAD_LETTER_EXCHANGE,
    DEAD_REASON_HEADER,
    DEAD_ROUTING_KEY_HEADER,
    EVENTS_EXCHANGE,
    MAX_ERROR_CHARS,
    UNROUTED_EXCHANGE,
    UNROUTED_MAX_LENGTH,
    UNROUTED_QUEUE,
    Broker,
    BrokerError,
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
from editbay_common.tracing import inject_context

log = logging.getLogger(__name__)

DELIVERY_COUNT_HEADER = "x-delivery-count"
RAW_BODY_HEADER = "x-editbay-raw-body"  # set by peek on a message whose body is not JSON
_BROKER_DEATH_REASONS = {
    "delivery_limit": DeadReason.DELIVERY_LIMIT,
    "rejected": DeadReason.REJECTED,
}


def work_queue_arguments(name: str, max_deliveries: int) -> dict[str, Any]:
    """Arguments of a work or subscriber queue (they must never change once declared)."""
    return {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": name,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        # A quorum queue's limit N allows N+1 deliveries.
        "x-delivery-limit": max_deliveries - 1,
    }


def _delivery_count(headers: dict[str, Any]) -> int:
    # x-delivery-count counts the previous deliveries; absent (or 0) on the first one.
    return int(headers.get(DELIVERY_COUNT_HEADER) or 0) + 1


def _to_delivery(message: AbstractIncomingMessage, *, lenient: bool = False) -> Delivery:
    """The Delivery of ``message``; a body that is not a JSON object raises ValueError, or with
    ``lenient`` (inspection) gives an empty payload and the body's text in a header."""
    headers = dict(message.headers or {})
    count = _delivery_count(headers)
    headers.pop(DELIVERY_COUNT_HEADER, None)
    try:
        payload = decode_payload(message.body)
    except ValueError:
        if not lenient:
            raise
        payload = {}
        headers[RAW_BODY_HEADER] = message.body.decode("utf-8", "replace")[:MAX_ERROR_CHARS]
    return Delivery(
        payload=payload,
        headers=headers,
        routing_key=str(headers.get(DEAD_ROUTING_KEY_HEADER) or message.routing_key or ""),
        message_id=message.message_id or "",
        delivery_count=count,
    )


class _RabbitConsumer:
    """One consumer on its own channel (its own prefetch; closing it requeues what it holds)."""

    def __init__(
        self, broker: RabbitMQBroker, queue_name: str, handler: Handler, max_deliveries: int
    ) -> None:
        self._broker = broker
        self._queue_name = queue_name
        self._handler = handler
        self._max_deliveries = max_deliveries
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._inflight: set[asyncio.Task[Any]] = set()

    async def start(self, prefetch: int) -> None:
        self._channel = await self._broker._connection_or_raise().channel()
        await self._channel.set_qos(prefetch_count=max(1, prefetch))
        try:
            self._queue = await self._channel.get_queue(self._queue_name, ensure=True)
        except aiormq.exceptions.ChannelNotFoundEntity as exc:
            await self._close_channel()
            raise QueueNotFound(f"queue {self._queue_name!r} does not exist") from exc
        self._tag = await self._queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._inflight.add(task)
        try:
            await self._process(message)
        except asyncio.CancelledError:
            raise  # cancelled: left unacked, the channel's close puts it back
        except Exception:
            # Never let anything kill the consumer; the message stays unacked and comes back
            # when the channel closes or reconnects.
            log.exception("consumer of %s failed to settle a message", self._queue_name)
        finally:
            self._inflight.discard(task)

    async def _process(self, message: AbstractIncomingMessage) -> None:
        try:
            delivery = _to_delivery(message)
        except ValueError as exc:  # not JSON: a poison message, never retry it
            await self._dead_letter_raw(message, f"undecodable body: {exc}")
            return
        result = await run_handler(
            self._handler, delivery, queue=self._queue_name, max_deliveries=self._max_deliveries
        )
        if result.outcome is Outcome.ACK:
            await message.ack()
        elif result.outcome is Outcome.REQUEUE:
            await message.nack(requeue=True)
        else:
            assert result.reason is not None
            headers = dead_letter_headers(
                delivery.headers,
                queue=self._queue_name,
                routing_key=delivery.routing_key,
                deliveries=delivery.delivery_count,
                reason=result.reason,
                error=result.error,
            )
            await self._send_to_dead_letters(message, headers)

    async def _dead_letter_raw(self, message: AbstractIncomingMessage, error: str) -> None:
        headers = dict(message.headers or {})
        count = _delivery_count(headers)
        headers.pop(DELIVERY_COUNT_HEADER, None)
        headers = dead_letter_headers(
            headers,
            queue=self._queue_name,
            routing_key=message.routing_key or "",
            deliveries=count,
            reason=DeadReason.REJECTED,
            error=error,
        )
        await self._send_to_dead_letters(message, headers)

    async def _send_to_dead_letters(
        self, message: AbstractIncomingMessage, headers: dict[str, Any]
    ) -> None:
        try:
            await self._broker._publish_raw(
                DEAD_LETTER_EXCHANGE,
                self._queue_name,
                message.body,
                headers=headers,
                message_id=message.message_id or new_message_id(None),
            )
        except Exception:
            # Not dead-lettered: put it back; it will come round again (and the broker's own
            # delivery limit still dead-letters it if this keeps failing).
            log.exception("could not dead-letter %s; requeueing", message.message_id)
            await message.nack(requeue=True)
            return
        await message.ack()

    async def cancel(self) -> None:
        """Stop consuming; running handlers are cancelled and their messages go back."""
        if self._queue is not None and self._tag is not None:
            with contextlib.suppress(Exception):
                await self._queue.cancel(self._tag)
        self._tag = None
        for task in list(self._inflight):
            task.cancel()
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        await self._close_channel()
        self._broker._consumers.discard(self)

    async def _close_channel(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            await _close_fully(channel)


async def _close_fully(channel: AbstractChannel) -> None:
    """Close ``channel`` even if the caller is cancelled meanwhile: a close cut short leaves the
    channel open on the server while the client reuses its number, and the server then closes
    the whole connection ("CHANNEL_ERROR - expected 'channel.open'"). The caller still sees its
    cancellation; the close finishes on its own."""
    closing = asyncio.ensure_future(channel.close())
    closing.add_done_callback(lambda done: done.cancelled() or done.exception())
    with contextlib.suppress(Exception):  # a channel the server already closed: nothing to do
        await asyncio.shield(closing)


class RabbitMQBroker(Broker):
    def __init__(
        self, url: str, *, connection_name: str | None = None, publish_timeout_s: float = 30.0
    ) -> None:
        self._url = url
        self._connection_name = connection_name
        # A confirm that never comes (a connection stuck mid-publish) must not hang the caller.
        self._publish_timeout_s = publish_timeout_s
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._consumers: set[_RabbitConsumer] = set()
        self._max_deliveries: dict[str, int] = {}
        self._start_lock = asyncio.Lock()

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        async with self._start_lock:
            if self._connection is not None:
                return
            kwargs: dict[str, Any] = {}
            if self._connection_name:
                kwargs["client_properties"] = {"connection_name": self._connection_name}
            connection = await aio_pika.connect_robust(self._url, **kwargs)
            try:
                channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                await self._declare_exchanges(channel)
            except BaseException:
                await connection.close()
                raise
            self._connection = connection
            self._publish_channel = channel

    async def _declare_exchanges(self, channel: AbstractChannel) -> None:
        unrouted = await channel.declare_exchange(
            UNROUTED_EXCHANGE, aio_pika.ExchangeType.FANOUT, durable=True
        )
        unrouted_queue = await channel.declare_queue(
            UNROUTED_QUEUE,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-max-length": UNROUTED_MAX_LENGTH,
                "x-overflow": "drop-head",
            },
        )
        await unrouted_queue.bind(unrouted)
        self._exchanges[EVENTS_EXCHANGE] = await channel.declare_exchange(
            EVENTS_EXCHANGE,
            aio_pika.ExchangeType.TOPIC,
            durable=True,
            arguments={"alternate-exchange": UNROUTED_EXCHANGE},
        )
        self._exchanges[DEAD_LETTER_EXCHANGE] = await channel.declare_exchange(
            DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
        )
        self._exchanges[""] = channel.default_exchange

    async def close(self) -> None:
        for consumer in list(self._consumers):
            await consumer.cancel()
        if self._connection is not None:
            await self._connection.close()
        self._connection = None
        self._publish_channel = None
        self._exchanges.clear()

    def _connection_or_raise(self) -> AbstractRobustConnection:
        if self._connection is None:
            raise BrokerError("broker not started: call start() first")
        return self._connection

    @contextlib.asynccontextmanager
    async def _admin_channel(self) -> AsyncIterator[AbstractChannel]:
        """A short-lived channel for declarations and inspection: an error the server answers
        with closes only this channel, never the publishing one."""
        channel = await self._connection_or_raise().channel()
        try:
            yield channel
        finally:
            await _close_fully(channel)

    # ---- declarations -------------------------------------------------------------------------

    async def _declare_queue_pair(self, name: str, max_deliveries: int) -> AbstractQueue:
        if max_deliveries < 1:
            raise ValueError("max_deliveries must be at least 1")
        async with self._admin_channel() as channel:
            dlx = await channel.get_exchange(DEAD_LETTER_EXCHANGE)
            dead = await channel.declare_queue(
                dead_letter_queue(name), durable=True, arguments={"x-queue-type": "quorum"}
            )
            await dead.bind(dlx, routing_key=name)
            try:
                queue = await channel.declare_queue(
                    name, durable=True, arguments=work_queue_arguments(name, max_deliveries)
                )
            except aiormq.exceptions.ChannelPreconditionFailed as exc:
                raise BrokerError(
                    f"queue {name!r} exists with other arguments (another max_deliveries, or not "
                    f"a quorum queue); delete it or keep its settings: {exc}"
                ) from exc
        self._max_deliveries[name] = max_deliveries
        return queue

    async def declare_work_queue(self, name: str, *, max_deliveries: int = 3) -> None:
        await self._declare_queue_pair(name, max_deliveries)

    async def delete_queue(self, queue: str) -> None:
        for name in (queue, dead_letter_queue(queue)):
            async with self._admin_channel() as channel:
                await channel.queue_delete(name)
        self._max_deliveries.pop(queue, None)

    # ---- producing ----------------------------------------------------------------------------

    async def _publish_raw(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        headers: dict[str, Any],
        message_id: str,
    ) -> None:
        self._connection_or_raise()
        message = aio_pika.Message(
            body,
            headers=headers,
            content_type=CONTENT_TYPE,
            content_encoding="utf-8",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message_id,
        )
        try:
            # Returns once the broker confirmed; a nack or a return raises.
            await self._exchanges[exchange].publish(
                message, routing_key, mandatory=True, timeout=self._publish_timeout_s
            )
        except aiormq.exceptions.PublishError as exc:
            raise UnroutableError(
                f"message {message_id} to {exchange or 'default exchange'}/{routing_key} "
                f"could not be routed"
            ) from exc
        except aiormq.exceptions.DeliveryError as exc:
            raise BrokerError(f"broker refused message {message_id}: {exc}") from exc
        except Exception as exc:  # connection lost, channel closed, confirm timed out
            raise BrokerError(f"publishing message {message_id} failed: {exc!r}") from exc

    async def enqueue(
        self,
        queue: str,
        payload: dict[str, Any],
        *,
        headers: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> None:
        await self._publish_raw(
            "",
            queue,
            encode_payload(payload),
            headers=inject_context(headers),
            message_id=new_message_id(message_id),
        )

    async def publish(
        self,
        routing_key: str,
        payload: dict[str, Any],
        *,
        headers: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> None:
        await self._publish_raw(
            EVENTS_EXCHANGE,
            routing_key,
            encode_payload(payload),
            headers=inject_context(headers),
            message_id=new_message_id(message_id),
        )

    # ---- consuming ----------------------------------------------------------------------------

    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 1) -> _RabbitConsumer:
        max_deliveries = self._max_deliveries.get(queue)
        if max_deliveries is None:
            raise QueueNotFound(
                f"declare work queue {queue!r} (declare_work_queue) before consuming it"
            )
        consumer = _RabbitConsumer(self, queue, handler, max_deliveries)
        await consumer.start(prefetch)
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
    ) -> _RabbitConsumer:
        await self._declare_queue_pair(queue, max_deliveries)
        async with self._admin_channel() as channel:
            events = await channel.get_exchange(EVENTS_EXCHANGE)
            declared = await channel.get_queue(queue)
            for key in routing_keys:
                await declared.bind(events, routing_key=key)
        return await self.consume(queue, handler, prefetch=prefetch)

    # ---- inspection ---------------------------------------------------------------------------

    async def peek(self, queue: str, *, limit: int = 100) -> list[Delivery]:
        """Fetch up to ``limit`` messages unacknowledged, then close the channel so they all
        go back. On a quorum work queue this counts as a delivery; use it on dead-letter and
        unrouted queues."""
        result: list[Delivery] = []
        async with self._admin_channel() as channel:
            declared = await self._passive(channel, queue)
            for _ in range(limit):
                message = await declared.get(no_ack=False, fail=False)
                if message is None:
                    break
                result.append(self._peeked(queue, message))
        return result

    def _peeked(self, queue: str, message: AbstractIncomingMessage) -> Delivery:
        delivery = _to_delivery(message, lenient=True)
        headers = delivery.headers
        if DEAD_REASON_HEADER not in headers and "x-first-death-reason" in headers:
            # Dead-lettered by the broker itself (delivery limit after a crash or cancel).
            raw = str(headers["x-first-death-reason"])
            reason = _BROKER_DEATH_REASONS.get(raw)
            headers[DEAD_REASON_HEADER] = reason.value if reason else raw
            headers.setdefault(DEAD_ERROR_HEADER, f"dead-lettered by the broker: {raw}")
            origin = queue.removesuffix(".dead")
            if reason is DeadReason.DELIVERY_LIMIT and origin in self._max_deliveries:
                headers[DEAD_DELIVERIES_HEADER] = self._max_deliveries[origin]
        if DEAD_DELIVERIES_HEADER in headers:
            delivery.delivery_count = int(headers[DEAD_DELIVERIES_HEADER])
        return delivery

    async def replay_dead_letters(self, queue: str) -> int:
        moved = 0
        async with self._admin_channel() as channel:
            await self._passive(channel, queue)
            dead = await self._passive(channel, dead_letter_queue(queue))
            # Only what is there now: a replayed message that dies again is not replayed twice.
            for _ in range(dead.declaration_result.message_count or 0):
                message = await dead.get(no_ack=False, fail=False)
                if message is None:
                    break
                headers = strip_dead_letter_headers(message.headers or {})
                headers.setdefault(DEAD_ROUTING_KEY_HEADER, message.routing_key or queue)
                try:
                    await self._publish_raw(
                        "",
                        queue,
                        message.body,
                        headers=headers,
                        message_id=message.message_id or new_message_id(None),
                    )
                except BaseException:
                    await message.nack(requeue=True)
                    raise
                await message.ack()
                moved += 1
        return moved

    async def queue_depth(self, queue: str) -> int:
        async with self._admin_channel() as channel:
            declared = await self._passive(channel, queue)
            return int(declared.declaration_result.message_count or 0)

    @staticmethod
    async def _passive(channel: AbstractChannel, queue: str) -> AbstractQueue:
        try:
            return await channel.declare_queue(queue, passive=True)
        except aiormq.exceptions.ChannelNotFoundEntity as exc:
            raise QueueNotFound(f"queue {queue!r} does not exist") from exc
