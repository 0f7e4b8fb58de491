"""The shared gRPC bootstrap over a real socket: health, reflection, error mapping, shutdown."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay.catalog.v1 import catalog_service_pb2_grpc as pb_grpc
from editbay_common import errors
from editbay_common.runtime import Servicer, ServiceUnit, serve_until_signal, start_server

SERVICE = pb.DESCRIPTOR.services_by_name["CatalogService"].full_name


class Catalog(pb_grpc.CatalogServiceServicer):
    async def GetShow(self, request, context):
        if request.name == "shows/boom":
            raise RuntimeError("a bug")
        raise errors.not_found("show", request.name, domain="catalog.editbay.dev")

    async def CreateShow(self, request, context):
        raise errors.invalid_argument("show.display_name", "must not be empty")

    async def ListShows(self, request, context):
        return pb.ListShowsResponse(shows=[pb.Show(name="shows/a")])


def unit(tasks=()) -> ServiceUnit:
    return ServiceUnit(
        "catalog",
        servicers=[Servicer(pb_grpc.add_CatalogServiceServicer_to_server, Catalog(), SERVICE)],
        tasks=list(tasks),
    )


@pytest.fixture
async def channel():
    running = await start_server([unit()], port=0)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as chan:
        yield chan
    await running.stop()


async def test_service_error_carries_error_info(channel):
    stub = pb_grpc.CatalogServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetShow(pb.GetShowRequest(name="shows/nope"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    info = errors.error_info(caught.value)
    assert info is not None
    assert (info.reason, info.domain, info.metadata["name"]) == (
        "SHOW_NOT_FOUND",
        "catalog.editbay.dev",
        "shows/nope",
    )


async def test_an_error_about_a_huge_name_still_arrives_with_its_code(channel):
    stub = pb_grpc.CatalogServiceStub(channel)
    name = "shows/" + "x" * 100_000
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetShow(pb.GetShowRequest(name=name))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert len(caught.value.details()) <= errors.MAX_MESSAGE_CHARS
    info = errors.error_info(caught.value)
    assert info.reason == "SHOW_NOT_FOUND"
    assert name.startswith(info.metadata["name"][:-1]) and info.metadata["name"].endswith("\u2026")


async def test_invalid_argument_names_the_field(channel):
    stub = pb_grpc.CatalogServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateShow(pb.CreateShowRequest())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(caught.value).metadata["field"] == "show.display_name"


async def test_unexpected_exception_is_internal_and_server_survives(channel):
    stub = pb_grpc.CatalogServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetShow(pb.GetShowRequest(name="shows/boom"))
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "a bug" not in caught.value.details()
    assert len((await stub.ListShows(pb.ListShowsRequest())).shows) == 1


async def test_unimplemented_method(channel):
    stub = pb_grpc.CatalogServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetEpisode(pb.GetEpisodeRequest(name="shows/a/episodes/b"))
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_health_and_reflection(channel):
    health = health_pb2_grpc.HealthStub(channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = reflect.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = set()
    async for response in responses:
        names |= {s.name for s in response.list_services_response.service}
    assert SERVICE in names


async def test_failed_background_task_gives_non_zero_exit():
    async def broken() -> None:
        raise ValueError("consumer lost")

    code = await asyncio.wait_for(
        serve_until_signal([unit([broken])], host="127.0.0.1", port=0, grace_s=1), 10
    )
    assert code == 1


async def test_stop_event_shuts_down_gracefully_and_cancels_tasks():
    cancelled = asyncio.Event()

    async def worker() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    stop = asyncio.Event()
    seen = {}

    async def ready(running) -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as chan:
            reply = await health_pb2_grpc.HealthStub(chan).Check(health_pb2.HealthCheckRequest())
            seen["status"] = reply.status
        stop.set()

    code = await asyncio.wait_for(
        serve_until_signal(
            [unit([worker])], host="127.0.0.1", port=0, grace_s=1, on_ready=ready, stop=stop
        ),
        10,
    )
    assert code == 0
    assert cancelled.is_set()
    assert seen["status"] == health_pb2.HealthCheckResponse.SERVING
