"""Client-streaming uploads over a real socket: the handshake, the bounded drain, cancellation.

Without them, grpcio's asyncio client reports a server's early answer as INTERNAL in a few
percent of calls (a write fails after the server has ended the stream)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay.catalog.v1 import catalog_service_pb2_grpc as pb_grpc
from editbay_common import errors, upload_calls
from editbay_common.runtime import Servicer, ServiceUnit, start_server
from editbay_common.upload_calls import UploadCall, send_upload, serve_upload

SERVICE = pb.DESCRIPTOR.services_by_name["CatalogService"].full_name
CHUNK = 64 * 1024
CHUNKS = 64  # 4 MiB: a client streaming without waiting has most of it in flight
LIMIT = 2 * 1024 * 1024
MISSING = "shows/s/episodes/missing"
STORE_S = 0.5


class Uploads(pb_grpc.CatalogServiceServicer):
    """Refuses an unknown episode, answers a known request id at once, takes the rest whole."""

    def __init__(self) -> None:
        self.chunks_read = 0  # every chunk message the server took off the wire, drained or not
        self.cancelled = asyncio.Event()
        self.completed = 0

    async def UploadTake(self, request_iterator, context):
        return await serve_upload(self._count(request_iterator), context, self._upload)

    async def _count(self, requests) -> AsyncIterator[pb.UploadTakeRequest]:
        async for message in requests:
            self.chunks_read += message.HasField("chunk")
            yield message

    async def _upload(self, call: UploadCall) -> pb.Take:
        first = await call.first()
        if first.metadata.parent == MISSING:
            raise errors.not_found("episode", MISSING, domain="catalog.editbay.dev")
        if first.metadata.request_id == "seen":
            return pb.Take(name=f"{first.metadata.parent}/takes/earlier")
        await call.accept()
        size = 0
        try:
            async for message in call:
                size += len(message.chunk)
                if size > LIMIT:
                    raise errors.invalid_argument("chunk", "too large")
            # A real service now checks and stores the file. A grpc.aio server sees a client's
            # cancel first as the end of the request stream; the cancel itself lands here.
            await asyncio.sleep(STORE_S)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        self.completed += 1
        return pb.Take(name=f"{first.metadata.parent}/takes/new", size_bytes=size)


@pytest.fixture
async def served():
    uploads = Uploads()
    unit = ServiceUnit(
        "catalog",
        servicers=[Servicer(pb_grpc.add_CatalogServiceServicer_to_server, uploads, SERVICE)],
    )
    running = await start_server([unit], port=0)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield uploads, pb_grpc.CatalogServiceStub(channel)
    await running.stop()


def first(parent: str = "shows/s/episodes/e", request_id: str = "") -> pb.UploadTakeRequest:
    metadata = pb.TakeUploadMetadata(parent=parent, filename="a.mp4", request_id=request_id)
    return pb.UploadTakeRequest(metadata=metadata)


def chunks(count: int = CHUNKS) -> list[pb.UploadTakeRequest]:
    return [pb.UploadTakeRequest(chunk=bytes([i % 256]) * CHUNK) for i in range(count)]


async def test_an_accepted_upload_arrives_whole(served):
    uploads, stub = served
    take = await send_upload(stub.UploadTake, first(), chunks(20))
    assert take.size_bytes == 20 * CHUNK
    assert uploads.chunks_read == 20


async def test_a_refused_upload_is_answered_before_any_chunk_is_sent(served):
    uploads, stub = served
    for _ in range(20):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await send_upload(stub.UploadTake, first(MISSING), chunks())
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert uploads.chunks_read == 0


async def test_an_early_answer_returns_without_sending_the_file(served):
    uploads, stub = served
    take = await send_upload(stub.UploadTake, first(request_id="seen"), chunks())
    assert take.name.endswith("/takes/earlier")
    assert uploads.chunks_read == 0


async def test_a_client_streaming_without_waiting_gets_the_servers_answer(served):
    """Any gRPC client: the server drains what is in flight, so no write fails."""
    uploads, stub = served
    codes = []
    for _ in range(60):
        try:
            await stub.UploadTake(iter([first(MISSING), *chunks()]))
        except grpc.aio.AioRpcError as error:
            codes.append(error.code())
        take = await stub.UploadTake(iter([first(request_id="seen"), *chunks()]))
        assert take.name.endswith("/takes/earlier")
    assert codes == [grpc.StatusCode.NOT_FOUND] * 60
    assert uploads.chunks_read == 120 * CHUNKS


async def test_an_upload_refused_midway_keeps_its_status(served):
    uploads, stub = served
    for _ in range(20):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await send_upload(stub.UploadTake, first(), chunks())
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.details() == "chunk: too large"
    assert uploads.completed == 0


async def test_a_failing_source_cancels_the_upload(served):
    uploads, stub = served

    async def broken() -> AsyncIterator[pb.UploadTakeRequest]:
        for message in chunks(3):
            yield message
        raise ValueError("the client's body ended early")

    with pytest.raises(ValueError, match="ended early"):
        await send_upload(stub.UploadTake, first(), broken())
    await asyncio.wait_for(uploads.cancelled.wait(), 10)
    assert uploads.completed == 0


async def test_the_drain_is_bounded_in_bytes(served, monkeypatch):
    monkeypatch.setattr(upload_calls, "DRAIN_MAX_BYTES", 4 * CHUNK)
    uploads, stub = served
    with pytest.raises(grpc.aio.AioRpcError):  # NOT_FOUND, or INTERNAL when a write fails
        await stub.UploadTake(iter([first(MISSING), *chunks(10_000)]))  # 640 MiB
    assert uploads.chunks_read < 100


async def test_the_drain_is_bounded_in_time(served, monkeypatch):
    """A client that neither sends nor half-closes still gets its answer."""
    monkeypatch.setattr(upload_calls, "DRAIN_MAX_S", 0.5)
    _, stub = served
    call = stub.UploadTake()
    await call.write(first(MISSING))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(call, 10)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
