"""PlannerService over a real socket: SQLite and the in-process broker (and once on PostgreSQL
and RabbitMQ), with the catalog given as plain data through the CatalogReader interface."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from sqlalchemy import text

from editbay.events.v1 import events_pb2
from editbay.planner.v1 import planner_service_pb2 as pb
from editbay.planner.v1 import planner_service_pb2_grpc as pb_grpc
from editbay_common.broker import Broker, Delivery, open_broker
from editbay_common.db import Database
from editbay_common.errors import error_info, not_found
from editbay_common.ids import new_id, utc_now
from editbay_common.protoconv import from_payload
from editbay_common.runtime import RunningServer, start_server
from editbay_common.settings import Settings
from editbay_common.storage import LocalStorage
from editbay_planner.app import build_unit
from editbay_planner.facts import EpisodeFacts, Interval, SceneFacts, TakeFacts
from editbay_planner.models import EditPlan
from editbay_planner.plans import INTERRUPTED_REASON
from editbay_planner.resources import DOMAIN

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
EPISODE = "shows/kitchen/episodes/e1"


@dataclass
class PlainCatalog:
    """A CatalogReader over plain data (the planner's own interface; not a fake of the catalog)."""

    episodes: dict[str, EpisodeFacts] = field(default_factory=dict)
    scenes: dict[str, list[SceneFacts]] = field(default_factory=dict)
    takes: dict[str, list[TakeFacts]] = field(default_factory=dict)

    async def get_episode(self, name: str) -> EpisodeFacts:
        if name not in self.episodes:
            raise not_found("episode", name, domain=DOMAIN)
        return self.episodes[name]

    async def list_scenes(self, episode: str) -> list[SceneFacts]:
        return list(self.scenes.get(episode, []))

    async def list_ready_takes(self, episode: str) -> list[TakeFacts]:
        return list(self.takes.get(episode, []))

    async def close(self) -> None:
        return None


def make_take(
    scene: int, number: int, speech: list[tuple[float, float]], *, episode: str = EPISODE
) -> TakeFacts:
    return TakeFacts(
        name=f"{episode}/takes/s{scene}t{number}",
        scene_number=scene,
        take_number=number,
        storage_key=f"takes/s{scene}t{number}.mp4",
        duration_s=8.0,
        speech=tuple(Interval(a, b) for a, b in speech),
        integrated_lufs=-18.0,
        true_peak_dbtp=-2.0,
    )


def kitchen_catalog() -> PlainCatalog:
    """Two scenes; scene 1 take 1 has a false start, take 2 is clean."""
    catalog = PlainCatalog()
    catalog.episodes[EPISODE] = EpisodeFacts(EPISODE, "Bread")
    catalog.scenes[EPISODE] = [
        SceneFacts(1, "ANNA: Welcome back to the kitchen. Today we bake bread with four things."),
        SceneFacts(2, "Flour, water, salt and yeast."),  # 5 words: ~1.9 s
    ]
    catalog.takes[EPISODE] = [
        make_take(1, 1, [(0.3, 0.9), (1.6, 3.6), (3.9, 6.7)]),
        make_take(1, 2, [(0.6, 2.6), (2.9, 5.7)]),
        make_take(2, 1, [(0.4, 2.4)]),
    ]
    return catalog


@dataclass
class Planner:
    stub: pb_grpc.PlannerServiceStub
    channel: grpc.aio.Channel
    catalog: PlainCatalog
    broker: Broker
    running: RunningServer
    settings: Settings
    schema: str | None

    async def generate(self, parent: str = EPISODE, **kwargs: object) -> pb.EditPlan:
        return await self.stub.GenerateEditPlan(pb.GenerateEditPlanRequest(parent=parent, **kwargs))

    async def until_done(self, name: str) -> list[pb.EditPlan]:
        """Watch a plan until it leaves GENERATING; every streamed message."""
        seen = []
        async with asyncio.timeout(30):
            async for plan in self.stub.WatchEditPlan(pb.WatchEditPlanRequest(name=name)):
                seen.append(plan)
        return seen


class EventLog:
    """Collects the deliveries of a subscription."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.arrived = asyncio.Event()

    async def handle(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self.arrived.set()

    async def wait(self, count: int = 1) -> list[Delivery]:
        async with asyncio.timeout(30):
            while len(self.deliveries) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.deliveries


async def start_planner(
    tmp_path: Path,
    catalog: PlainCatalog,
    *,
    database_url: str = "",
    broker_url: str | None = None,
    schema: str | None = None,
) -> Planner:
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    broker = open_broker(broker_url or f"memory://{uuid.uuid4().hex}")
    await broker.start()
    storage = LocalStorage(tmp_path / "media")
    unit = await build_unit(
        settings, broker=broker, storage=storage, schema=schema, catalog=catalog
    )
    running = await start_server([unit], port=0)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    stub = pb_grpc.PlannerServiceStub(channel)
    return Planner(stub, channel, catalog, broker, running, settings, schema)


async def stop_planner(planner: Planner) -> None:
    await planner.channel.close()
    await planner.running.stop()
    await planner.broker.close()


@pytest.fixture
async def planner(tmp_path: Path) -> AsyncIterator[Planner]:
    instance = await start_planner(tmp_path, kitchen_catalog())
    try:
        yield instance
    finally:
        await stop_planner(instance)


@pytest.fixture
async def pg_schema() -> AsyncIterator[str]:
    """A unique PostgreSQL schema, dropped afterwards."""
    schema = f"planner_test_{uuid.uuid4().hex[:10]}"
    yield schema
    db = Database(PG_URL, schema="public")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await db.dispose()


pytestmark = pytest.mark.timeout(120)


async def expect_error(call: object, code: grpc.StatusCode) -> dict[str, str]:
    """Await ``call``; assert it fails with ``code``; return ErrorInfo reason and metadata."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code() == code, caught.value.details()
    info = error_info(caught.value)
    assert info is not None
    assert info.domain == "planner.editbay.dev"
    return {"reason": info.reason, **dict(info.metadata)}


async def proposed_plan(planner: Planner, **kwargs: object) -> pb.EditPlan:
    started = await planner.generate(**kwargs)
    final = (await planner.until_done(started.name))[-1]
    assert final.state == pb.EditPlan.PROPOSED, final.failure_reason
    return final


async def test_generate_watch_approve_publishes_plan_approved(planner: Planner) -> None:
    events = EventLog()
    await planner.broker.subscribe("test.planner.approved", ["plan.approved"], events.handle)

    started = await planner.generate(request_id="gen-1")
    assert started.state == pb.EditPlan.GENERATING
    assert started.version == 1
    assert started.name.startswith(f"{EPISODE}/editPlans/")
    assert started.generator == pb.HEURISTIC

    seen = await planner.until_done(started.name)
    assert seen[0].state in (pb.EditPlan.GENERATING, pb.EditPlan.PROPOSED)
    plan = seen[-1]
    assert plan.state == pb.EditPlan.PROPOSED
    assert plan.progress_percent == 100
    assert [c.scene_number for c in plan.choices] == [1, 2]
    first = plan.choices[0]
    assert first.take == f"{EPISODE}/takes/s1t2"
    assert first.take_storage_key == "takes/s1t2.mp4"
    assert "take 1 had a false start" in first.rationale
    assert [c.take for c in first.candidates] == [f"{EPISODE}/takes/s1t2", f"{EPISODE}/takes/s1t1"]
    assert 0 < first.in_seconds < 0.6 < 5.7 < first.out_seconds <= 8.0
    assert plan.total_duration_seconds == pytest.approx(
        sum(c.out_seconds - c.in_seconds for c in plan.choices), abs=1e-3
    )

    approved = await planner.stub.ApproveEditPlan(
        pb.ApproveEditPlanRequest(name=plan.name, etag=plan.etag, request_id="approve-1")
    )
    assert approved.state == pb.EditPlan.APPROVED
    assert approved.HasField("review_time")
    assert approved.etag != plan.etag

    delivery = (await events.wait(1))[0]
    assert delivery.routing_key == "plan.approved"
    event = from_payload(delivery.payload, events_pb2.PlanApproved)
    assert event.edit_plan == plan.name
    assert event.version == 1

    # A repeat of the same request returns the first result instead of failing.
    again = await planner.stub.ApproveEditPlan(
        pb.ApproveEditPlanRequest(name=plan.name, request_id="approve-1")
    )
    assert again.state == pb.EditPlan.APPROVED
    assert again.etag == approved.etag


async def test_approve_twice_is_failed_precondition(planner: Planner) -> None:
    plan = await proposed_plan(planner)
    await planner.stub.ApproveEditPlan(pb.ApproveEditPlanRequest(name=plan.name))
    info = await expect_error(
        planner.stub.ApproveEditPlan(pb.ApproveEditPlanRequest(name=plan.name)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert info["reason"] == "PLAN_NOT_PROPOSED"
    assert info["state"] == "APPROVED"


async def test_racing_reviews_have_one_winner(planner: Planner) -> None:
    plan = await proposed_plan(planner)
    racing = await asyncio.gather(
        planner.stub.ApproveEditPlan(pb.ApproveEditPlanRequest(name=plan.name)),
        planner.stub.RejectEditPlan(pb.RejectEditPlanRequest(name=plan.name, feedback="no")),
        return_exceptions=True,
    )
    winners = [r for r in racing if isinstance(r, pb.EditPlan)]
    losers = [r for r in racing if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].code() == grpc.StatusCode.FAILED_PRECONDITION
    final = await planner.stub.GetEditPlan(pb.GetEditPlanRequest(name=plan.name))
    assert final.state == winners[0].state


async def test_reject_needs_feedback_and_stores_it(planner: Planner) -> None:
    plan = await proposed_plan(planner)
    info = await expect_error(
        planner.stub.RejectEditPlan(pb.RejectEditPlanRequest(name=plan.name, feedback="  ")),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert info["field"] == "feedback"

    rejected = await planner.stub.RejectEditPlan(
        pb.RejectEditPlanRequest(name=plan.name, feedback="scene 2 is too short")
    )
    assert rejected.state == pb.EditPlan.REJECTED
    assert rejected.feedback == "scene 2 is too short"
    fetched = await planner.stub.GetEditPlan(pb.GetEditPlanRequest(name=plan.name))
    assert fetched.feedback == "scene 2 is too short"
    info = await expect_error(
        planner.stub.ApproveEditPlan(pb.ApproveEditPlanRequest(name=plan.name)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert info["state"] == "REJECTED"


async def test_etag_mismatch_is_aborted(planner: Planner) -> None:
    plan = await proposed_plan(planner)
    info = await expect_error(
        planner.stub.ApproveEditPlan(pb.ApproveEditPlanRequest(name=plan.name, etag='W/"stale"')),
        grpc.StatusCode.ABORTED,
    )
    assert info["reason"] == "ETAG_MISMATCH"
    info = await expect_error(
        planner.stub.RejectEditPlan(
            pb.RejectEditPlanRequest(name=plan.name, feedback="no", etag='W/"stale"')
        ),
        grpc.StatusCode.ABORTED,
    )
    assert info["reason"] == "ETAG_MISMATCH"
    still = await planner.stub.GetEditPlan(pb.GetEditPlanRequest(name=plan.name))
    assert still.state == pb.EditPlan.PROPOSED


async def test_unknown_plan_is_not_found(planner: Planner) -> None:
    name = f"{EPISODE}/editPlans/{new_id()}"
    for call in (
        planner.stub.GetEditPlan(pb.GetEditPlanRequest(name=name)),
        planner.stub.ApproveEditPlan(pb.ApproveEditPlanRequest(name=name)),
        planner.stub.RejectEditPlan(pb.RejectEditPlanRequest(name=name, feedback="x")),
    ):
        info = await expect_error(call, grpc.StatusCode.NOT_FOUND)
        assert info["reason"] == "EDIT_PLAN_NOT_FOUND"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in planner.stub.WatchEditPlan(pb.WatchEditPlanRequest(name=name)):
            pass
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    # A plan of another episode is not found under this one.
    plan = await proposed_plan(planner)
    elsewhere = plan.name.replace("episodes/e1", "episodes/e2")
    await expect_error(
        planner.stub.GetEditPlan(pb.GetEditPlanRequest(name=elsewhere)), grpc.StatusCode.NOT_FOUND
    )


async def test_malformed_names_are_invalid_argument(planner: Planner) -> None:
    for bad in ("", "shows/kitchen", "shows/Kitchen!/episodes/e1", "episodes/e1/shows/kitchen"):
        info = await expect_error(planner.generate(parent=bad), grpc.StatusCode.INVALID_ARGUMENT)
        assert info["field"] == "parent"
        info = await expect_error(
            planner.stub.ListEditPlans(pb.ListEditPlansRequest(parent=bad)),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        assert info["field"] == "parent"
    info = await expect_error(
        planner.stub.GetEditPlan(pb.GetEditPlanRequest(name=EPISODE)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert info["field"] == "name"
    info = await expect_error(planner.generate(generator=42), grpc.StatusCode.INVALID_ARGUMENT)
    assert info["field"] == "generator"


async def test_unknown_episode_is_not_found(planner: Planner) -> None:
    info = await expect_error(
        planner.generate(parent="shows/kitchen/episodes/nope"), grpc.StatusCode.NOT_FOUND
    )
    assert info["reason"] == "EPISODE_NOT_FOUND"


async def test_scene_without_ready_take_is_failed_precondition(planner: Planner) -> None:
    catalog = planner.catalog
    catalog.scenes[EPISODE].append(SceneFacts(3, "And then we wait."))
    catalog.scenes[EPISODE].append(SceneFacts(4, "A lot."))
    info = await expect_error(planner.generate(), grpc.StatusCode.FAILED_PRECONDITION)
    assert info["reason"] == "NO_READY_TAKES"
    assert info["scenes"] == "3,4"

    empty = "shows/kitchen/episodes/empty"
    catalog.episodes[empty] = EpisodeFacts(empty)
    info = await expect_error(planner.generate(parent=empty), grpc.StatusCode.FAILED_PRECONDITION)
    assert info["reason"] == "NO_READY_TAKES"
    listed = await planner.stub.ListEditPlans(pb.ListEditPlansRequest(parent=EPISODE))
    assert list(listed.edit_plans) == []


async def test_without_a_script_the_scenes_come_from_the_takes(planner: Planner) -> None:
    loose = "shows/kitchen/episodes/loose"
    planner.catalog.episodes[loose] = EpisodeFacts(loose)
    planner.catalog.takes[loose] = [
        make_take(4, 1, [(0.5, 3.0)], episode=loose),
        make_take(2, 1, [(0.5, 4.0)], episode=loose),
        make_take(2, 2, [(0.5, 1.5)], episode=loose),  # stops early compared with take 1
    ]
    plan = await proposed_plan(planner, parent=loose)
    assert [c.scene_number for c in plan.choices] == [2, 4]
    assert plan.choices[0].take == f"{loose}/takes/s2t1"


async def test_generate_request_id_returns_the_same_plan(planner: Planner) -> None:
    first = await planner.generate(request_id="same")
    repeat = await planner.generate(request_id="same")
    assert repeat.name == first.name
    other = await planner.generate(request_id="other")
    assert other.version == first.version + 1
    info = await expect_error(
        planner.generate(parent="shows/kitchen/episodes/e9", request_id="same"),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert info["field"] == "request_id"
    await planner.until_done(first.name)
    await planner.until_done(other.name)


async def test_list_pages_filters_and_orders(planner: Planner) -> None:
    names = []
    for _ in range(5):
        names.append((await proposed_plan(planner)).name)
    await planner.stub.RejectEditPlan(pb.RejectEditPlanRequest(name=names[1], feedback="no"))

    versions, token, pages = [], "", 0
    while True:
        response = await planner.stub.ListEditPlans(
            pb.ListEditPlansRequest(parent=EPISODE, page_size=2, page_token=token)
        )
        versions += [p.version for p in response.edit_plans]
        pages += 1
        token = response.next_page_token
        if not token:
            break
    assert versions == [5, 4, 3, 2, 1]
    assert pages == 3

    ascending = await planner.stub.ListEditPlans(
        pb.ListEditPlansRequest(parent=EPISODE, order_by="version")
    )
    assert [p.version for p in ascending.edit_plans] == [1, 2, 3, 4, 5]
    proposed = await planner.stub.ListEditPlans(
        pb.ListEditPlansRequest(parent=EPISODE, filter="state = PROPOSED")
    )
    assert [p.version for p in proposed.edit_plans] == [5, 4, 3, 1]
    assert all(p.state == pb.EditPlan.PROPOSED for p in proposed.edit_plans)

    for bad in (
        pb.ListEditPlansRequest(parent=EPISODE, filter="state = SOMETHING"),
        pb.ListEditPlansRequest(parent=EPISODE, filter="color = red"),
        pb.ListEditPlansRequest(parent=EPISODE, order_by="create_time"),
        pb.ListEditPlansRequest(parent=EPISODE, page_token="garbage"),
    ):
        info = await expect_error(planner.stub.ListEditPlans(bad), grpc.StatusCode.INVALID_ARGUMENT)
        assert info["field"] in ("filter", "order_by", "page_token")


async def test_plan_left_generating_by_a_dead_process_fails_at_start(tmp_path: Path) -> None:
    planner = await start_planner(tmp_path, kitchen_catalog())
    await stop_planner(planner)
    # What a process killed while generating leaves behind: GENERATING with a lapsed lease.
    db = Database(planner.settings.database_url_for("planner"), schema="planner")
    plan_id, now = new_id(), utc_now()
    async with db.transaction() as session:
        session.add(
            EditPlan(
                id=plan_id,
                show_id="kitchen",
                episode_id="e1",
                version=1,
                state="GENERATING",
                generator="HEURISTIC",
                progress_percent=40,
                choices=[],
                total_duration_s=0.0,
                failure_reason="",
                feedback="",
                lease_owner="dead-process",
                lease_until=now - timedelta(seconds=1),
                create_time=now,
                update_time=now,
            )
        )
    await db.dispose()

    planner = await start_planner(tmp_path, kitchen_catalog())
    try:
        name = f"{EPISODE}/editPlans/{plan_id}"
        plan = await planner.stub.GetEditPlan(pb.GetEditPlanRequest(name=name))
        assert plan.state == pb.EditPlan.FAILED
        assert plan.failure_reason == INTERRUPTED_REASON
        # Watching a finished plan sends it once and ends.
        assert [p.state for p in await planner.until_done(name)] == [pb.EditPlan.FAILED]
        # Generating again makes the next version.
        assert (await planner.generate()).version == 2
    finally:
        await stop_planner(planner)


@pytest.mark.postgres
@pytest.mark.rabbitmq
async def test_generate_and_approve_on_postgres_and_rabbitmq(
    tmp_path: Path, pg_schema: str
) -> None:
    planner = await start_planner(
        tmp_path, kitchen_catalog(), database_url=PG_URL, broker_url=RABBITMQ_URL, schema=pg_schema
    )
    queue = f"test.planner.approved.{uuid.uuid4().hex[:10]}"
    events = EventLog()
    try:
        await planner.broker.subscribe(queue, ["plan.approved"], events.handle)
        plan = await proposed_plan(planner, request_id=f"pg-{uuid.uuid4().hex}")
        assert plan.choices[0].take == f"{EPISODE}/takes/s1t2"
        approved = await planner.stub.ApproveEditPlan(
            pb.ApproveEditPlanRequest(name=plan.name, etag=plan.etag)
        )
        assert approved.state == pb.EditPlan.APPROVED
        delivery = (await events.wait(1))[0]
        assert from_payload(delivery.payload, events_pb2.PlanApproved).edit_plan == plan.name
        info = await expect_error(
            planner.stub.ApproveEditPlan(pb.ApproveEditPlanRequest(name=plan.name)),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
        assert info["reason"] == "PLAN_NOT_PROPOSED"
        # Concurrent requests: versions stay unique, and one of two racing approvals wins.
        started = await asyncio.gather(*(planner.generate() for _ in range(3)))
        assert sorted(p.version for p in started) == [2, 3, 4]
        finals = [(await planner.until_done(p.name))[-1] for p in started]
        racing = await asyncio.gather(
            *(
                planner.stub.ApproveEditPlan(pb.ApproveEditPlanRequest(name=finals[0].name))
                for _ in range(2)
            ),
            return_exceptions=True,
        )
        winners = [r for r in racing if isinstance(r, pb.EditPlan)]
        losers = [r for r in racing if isinstance(r, grpc.aio.AioRpcError)]
        assert len(winners) == 1 and len(losers) == 1
        assert losers[0].code() == grpc.StatusCode.FAILED_PRECONDITION
        await events.wait(2)
        approved_plans = [
            from_payload(d.payload, events_pb2.PlanApproved).edit_plan for d in events.deliveries
        ]
        assert approved_plans == [plan.name, finals[0].name]
    finally:
        await planner.broker.delete_queue(queue)
        await stop_planner(planner)
