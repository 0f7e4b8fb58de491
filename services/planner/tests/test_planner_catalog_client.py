"""The gRPC CatalogReader (the planner's client code) against a small grpc.aio server that
answers the three catalog methods it calls with scripted responses."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from editbay.catalog.v1 import catalog_service_pb2 as cpb
from editbay.catalog.v1 import catalog_service_pb2_grpc as cpb_grpc
from editbay.planner.v1 import planner_service_pb2 as pb
from editbay.planner.v1 import planner_service_pb2_grpc as pb_grpc
from editbay_common.broker import open_broker
from editbay_common.errors import ServiceError, error_info
from editbay_common.runtime import start_server
from editbay_common.settings import Settings
from editbay_common.storage import LocalStorage
from editbay_planner.app import build_unit
from editbay_planner.catalog import GrpcCatalogReader
from editbay_planner.facts import Interval

EPISODE = "shows/kitchen/episodes/e1"

pytestmark = pytest.mark.timeout(60)


class ScriptedCatalog(cpb_grpc.CatalogServiceServicer):
    """Answers from ``script``: per method, a list of responses or status codes, used in turn."""

    def __init__(self) -> None:
        self.script: dict[str, list[Any]] = {}
        self.requests: dict[str, list[Any]] = {}

    async def _answer(self, method: str, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.requests.setdefault(method, []).append(request)
        answers = self.script.get(method) or [grpc.StatusCode.UNIMPLEMENTED]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, grpc.StatusCode):
            await context.abort(answer, f"scripted {answer.name}")
        return answer

    async def GetEpisode(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await self._answer("GetEpisode", request, context)

    async def ListScenes(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await self._answer("ListScenes", request, context)

    async def ListTakes(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await self._answer("ListTakes", request, context)


@pytest.fixture
async def catalog_server() -> AsyncIterator[tuple[ScriptedCatalog, str]]:
    server = grpc.aio.server()
    scripted = ScriptedCatalog()
    cpb_grpc.add_CatalogServiceServicer_to_server(scripted, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield scripted, f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


@pytest.fixture
async def reader(catalog_server: tuple[ScriptedCatalog, str]) -> AsyncIterator[GrpcCatalogReader]:
    instance = GrpcCatalogReader.connect(catalog_server[1], timeout_s=5.0)
    try:
        yield instance
    finally:
        await instance.close()


def catalog_take(scene: int, number: int, *, state: int = cpb.Take.READY) -> cpb.Take:
    return cpb.Take(
        name=f"{EPISODE}/takes/s{scene}t{number}",
        scene_number=scene,
        take_number=number,
        state=state,
        storage_key=f"takes/s{scene}t{number}.mp4",
        media=cpb.MediaFacts(duration_seconds=6.5),
        analysis=cpb.TakeAnalysis(
            speech=[
                cpb.TimeInterval(start_seconds=0.5, end_seconds=2.0),
                cpb.TimeInterval(start_seconds=2.4, end_seconds=5.0),
            ],
            pauses=[cpb.TimeInterval(start_seconds=2.0, end_seconds=2.4)],
            integrated_loudness_lufs=-17.5,
            true_peak_dbtp=-1.5,
            clipped=False,
        ),
    )


async def test_reads_episode_scenes_and_ready_takes_across_pages(
    catalog_server: tuple[ScriptedCatalog, str], reader: GrpcCatalogReader
) -> None:
    scripted, _ = catalog_server
    scripted.script["GetEpisode"] = [cpb.Episode(name=EPISODE, display_name="Bread")]
    scripted.script["ListScenes"] = [
        cpb.ListScenesResponse(
            scenes=[cpb.Scene(number=2, text="Second."), cpb.Scene(number=1, text="First.")]
        )
    ]
    scripted.script["ListTakes"] = [
        cpb.ListTakesResponse(takes=[catalog_take(2, 1)], next_page_token="page-2"),
        cpb.ListTakesResponse(
            takes=[catalog_take(1, 2), catalog_take(1, 3, state=cpb.Take.FAILED)]
        ),
    ]

    episode = await reader.get_episode(EPISODE)
    assert (episode.name, episode.display_name) == (EPISODE, "Bread")
    scenes = await reader.list_scenes(EPISODE)
    assert [(s.number, s.text) for s in scenes] == [(1, "First."), (2, "Second.")]
    takes = await reader.list_ready_takes(EPISODE)
    assert [(t.scene_number, t.take_number) for t in takes] == [(1, 2), (2, 1)]
    first = takes[0]
    assert first.storage_key == "takes/s1t2.mp4"
    assert first.duration_s == 6.5
    assert first.speech == (Interval(0.5, 2.0), Interval(2.4, 5.0))
    assert first.pauses == (Interval(2.0, 2.4),)
    assert (first.integrated_lufs, first.true_peak_dbtp, first.clipped) == (-17.5, -1.5, False)

    sent = scripted.requests["ListTakes"]
    assert [r.page_token for r in sent] == ["", "page-2"]
    assert all(r.filter == "state = READY" and r.parent == EPISODE for r in sent)


async def test_take_without_analysis_has_no_loudness(
    catalog_server: tuple[ScriptedCatalog, str], reader: GrpcCatalogReader
) -> None:
    scripted, _ = catalog_server
    bare = cpb.Take(name=f"{EPISODE}/takes/t", scene_number=1, take_number=1, state=cpb.Take.READY)
    scripted.script["ListTakes"] = [cpb.ListTakesResponse(takes=[bare])]
    (take,) = await reader.list_ready_takes(EPISODE)
    assert take.integrated_lufs is None
    assert take.speech == ()


@pytest.mark.parametrize(
    ("catalog_code", "code", "reason"),
    [
        (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.NOT_FOUND, "EPISODE_NOT_FOUND"),
        (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE, "CATALOG_UNAVAILABLE"),
        (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.INTERNAL, "CATALOG_ERROR"),
    ],
)
async def test_catalog_errors_become_planner_errors(
    catalog_server: tuple[ScriptedCatalog, str],
    reader: GrpcCatalogReader,
    catalog_code: grpc.StatusCode,
    code: grpc.StatusCode,
    reason: str,
) -> None:
    scripted, _ = catalog_server
    scripted.script["GetEpisode"] = [catalog_code]
    scripted.script["ListTakes"] = [catalog_code]
    for call in (reader.get_episode(EPISODE), reader.list_ready_takes(EPISODE)):
        with pytest.raises(ServiceError) as caught:
            await call
        assert caught.value.code == code
        assert caught.value.reason == reason
        assert caught.value.domain == "planner.editbay.dev"


async def test_deleted_episode_is_not_found(
    catalog_server: tuple[ScriptedCatalog, str], reader: GrpcCatalogReader
) -> None:
    scripted, _ = catalog_server
    deleted = cpb.Episode(name=EPISODE)
    deleted.delete_time.GetCurrentTime()
    scripted.script["GetEpisode"] = [deleted]
    with pytest.raises(ServiceError) as caught:
        await reader.get_episode(EPISODE)
    assert caught.value.reason == "EPISODE_NOT_FOUND"


async def test_planner_unit_uses_the_grpc_reader_and_maps_its_errors(
    tmp_path: Path, catalog_server: tuple[ScriptedCatalog, str]
) -> None:
    """build_unit without a catalog override talks to ``settings.catalog_addr``."""
    scripted, address = catalog_server
    settings = Settings(data_dir=tmp_path, catalog_addr=address, rpc_timeout_seconds=5.0)
    broker = open_broker(f"memory://{uuid.uuid4().hex}")
    await broker.start()
    unit = await build_unit(settings, broker=broker, storage=LocalStorage(tmp_path / "media"))
    running = await start_server([unit], port=0)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    stub = pb_grpc.PlannerServiceStub(channel)
    try:
        scripted.script["GetEpisode"] = [grpc.StatusCode.NOT_FOUND]
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GenerateEditPlan(pb.GenerateEditPlanRequest(parent=EPISODE))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        info = error_info(caught.value)
        assert info is not None and info.reason == "EPISODE_NOT_FOUND"

        scripted.script["GetEpisode"] = [cpb.Episode(name=EPISODE)]
        scripted.script["ListScenes"] = [cpb.ListScenesResponse()]
        scripted.script["ListTakes"] = [cpb.ListTakesResponse(takes=[catalog_take(1, 1)])]
        started = await stub.GenerateEditPlan(pb.GenerateEditPlanRequest(parent=EPISODE))
        async for plan in stub.WatchEditPlan(pb.WatchEditPlanRequest(name=started.name)):
            final = plan
        assert final.state == pb.EditPlan.PROPOSED
        assert [c.take for c in final.choices] == [f"{EPISODE}/takes/s1t1"]
    finally:
        await channel.close()
        await running.stop()
        await broker.close()
