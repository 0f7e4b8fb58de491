"""Both ends of a client-streaming upload RPC (``UploadTake``, ``UploadReferenceVideo``).

A server may end an upload before the client has sent everything: the first message names an
unknown show, a retried upload is answered from its first result, the file is too large. A
client still writing then sees a failed write, and grpcio's asyncio client reports that failure
as ``INTERNAL: Internal error from Core`` instead of the status the server sent, in a few
percent of calls (grpc/grpc#36066). Two measures keep the server's answer intact:

- A handshake. The server reads the first message (the metadata) and, once it will take the
  bytes, sends the initial metadata ``editbay-upload: accepted``. ``send_upload`` writes the
  first message and waits for that answer before it sends any chunk: a refused upload never has
  a write in flight when the server answers.
- A bounded drain. When the server ends the call before the client half-closed, it first reads
  and discards what the client is still sending (up to ``DRAIN_MAX_BYTES`` or
  ``DRAIN_MAX_S``), so that clients which stream without waiting (any other gRPC client) also
  get the server's status. Past that budget the server answers anyway.

Server::

    async def UploadTake(self, requests, context):
        return await serve_upload(requests, context, self.ingest.upload)

    async def upload(self, call: UploadCall) -> pb.Take:
        first = await call.first()
        ...                          # validate the metadata: errors raised here reach the client
        await call.accept()
        async for message in call:   # the chunks
            ...

Client::

    take = await send_upload(stub.UploadTake, first_message, chunk_messages)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

log = logging.getLogger(__name__)

HANDSHAKE_KEY = "editbay-upload"
ACCEPTED = "accepted"
CLOSED = "closed"
DRAIN_MAX_BYTES = 64 * 1024 * 1024
DRAIN_MAX_S = 10.0

Result = TypeVar("Result")


class UploadCall:
    """The server's end of one upload: the request messages and the handshake."""

    def __init__(self, requests: AsyncIterable[Any], context: grpc.aio.ServicerContext) -> None:
        self._requests = aiter(requests)
        self._context = context
        self._answered = False
        self._ended = False

    async def first(self) -> Any | None:
        """The first message, or None when the client sent none."""
        return await anext(self, None)

    async def accept(self) -> None:
        """Tell the client its metadata is accepted: the chunks may come."""
        await self._answer(ACCEPTED)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        if self._ended:
            raise StopAsyncIteration
        try:
            return await anext(self._requests)
        except StopAsyncIteration:
            self._ended = True
            raise

    async def finish(self) -> None:
        """Before the server answers: tell a waiting client not to send more, and read what is
        still in flight (within the drain budget)."""
        if not self._answered:
            with contextlib.suppress(Exception):  # e.g. the client has already gone
                await self._answer(CLOSED)
        if self._ended:
            return
        received = 0
        try:
            async with asyncio.timeout(DRAIN_MAX_S):
                async for message in self:
                    received += message.ByteSize()
                    if received > DRAIN_MAX_BYTES:
                        break
        except (TimeoutError, grpc.aio.AioRpcError, grpc.aio.UsageError):
            pass
        if not self._ended:
            log.info("answering an upload that is still being sent (%d bytes drained)", received)

    async def _answer(self, value: str) -> None:
        if not self._answered:
            self._answered = True
            await self._context.send_initial_metadata(((HANDSHAKE_KEY, value),))


async def serve_upload(
    requests: AsyncIterable[Any],
    context: grpc.aio.ServicerContext,
    handle: Callable[[UploadCall], Awaitable[Result]],
) -> Result:
    """Run ``handle`` on the upload; however it ends (but cancelled), finish the call first."""
    call = UploadCall(requests, context)
    try:
        result = await handle(call)
    except asyncio.CancelledError:
        raise
    except BaseException:
        await call.finish()
        raise
    await call.finish()
    return result


async def send_upload(
    multicallable: Any,
    first: Message,
    rest: AsyncIterable[Message] | Iterable[Message],
    **call_options: Any,
) -> Any:
    """Send ``first``, then, once the server accepts, the messages of ``rest``; return the
    response or raise the call's error. An exception from ``rest`` cancels the call and
    propagates: the server never takes a partial upload as complete."""
    call = multicallable(**call_options)
    try:
        await call.write(first)
        if await _accepted(call):
            await _write_all(call, _as_async(rest))
        await call.done_writing()
    except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
        pass  # the call has ended: awaiting it raises its status
    except asyncio.CancelledError:
        call.cancel()
        raise
    return await call


async def _write_all(call: Any, messages: AsyncIterator[Message]) -> None:
    while not call.done():  # once the server has answered, its status says why
        try:
            message = await anext(messages)
        except StopAsyncIteration:
            return
        except BaseException:
            call.cancel()
            raise
        await call.write(message)


async def _accepted(call: Any) -> bool:
    metadata = await call.initial_metadata()
    return metadata is not None and metadata.get(HANDSHAKE_KEY) == ACCEPTED


async def _as_async(messages: AsyncIterable[Message] | Iterable[Message]) -> AsyncIterator[Message]:
    if isinstance(messages, AsyncIterable):
        async for message in messages:
            yield message
    else:
        for message in messages:
            yield message
