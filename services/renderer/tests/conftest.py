"""Fixtures for the renderer tests: a migrated database on SQLite and PostgreSQL, plain-data
plans, and small generated takes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from editbay.renderer.v1 import renderer_service_pb2 as pb
from editbay.renderer.v1 import renderer_service_pb2_grpc as pb_grpc
from editbay_common.broker import Broker, Delivery, open_broker
from editbay_common.db import Database, sqlite_url_for
from editbay_common.ids import new_id
from editbay_common.media.render import PRESETS as STANDARD_PRESETS
from editbay_common.media.render import Preset
from editbay_common.runtime import RunningServer, start_server
from editbay_common.settings import Settings
from editbay_common.storage import LocalStorage
from editbay_renderer.app import MIGRATIONS_DIR, build_unit
from editbay_renderer.models import outbox
from editbay_renderer.plans import PlanChoice, PlanView

PG_URL = os.environ.get(
    "EDITBAY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
RABBITMQ_URL = os.environ.get("EDITBAY_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


async def drop_schema(schema: str) -> None:
    engine = create_async_engine(PG_URL)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The renderer's schema, migrated, on each backend."""
    schema = f"renderer_test_{new_id()}"
    if request.param == "sqlite":
        database = Database(sqlite_url_for(tmp_path / "data", "renderer"), schema=schema)
    else:
        database = Database(PG_URL, schema=schema)
    try:
        await database.migrate(MIGRATIONS_DIR)
        yield database
    finally:
        await database.dispose()
        if database.is_postgres:
            await drop_schema(schema)


async def outbox_rows(database: Database) -> list[dict]:
    async with database.transaction() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.created_at))).all()
    return [dict(row._mapping) for row in rows]


class PlainPlans:
    """A PlanReader over plain data."""

    def __init__(self, plans: dict[str, PlanView] | None = None) -> None:
        self.plans = dict(plans or {})

    async def get_edit_plan(self, name: str) -> PlanView | None:
        return self.plans.get(name)


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], *, within: float = 60.0
) -> None:
    """Wait until ``check()`` holds (the limit only keeps a broken test from hanging)."""
    async with asyncio.timeout(within):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.05)


def make_take(dest: Path, *, seconds: float, pattern: str, freq: int) -> Path:
    """A small H.264/AAC take: a test pattern with a tone."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"{pattern}=s=160x90:r=25:d={seconds}",
         "-f", "lavfi", "-t", str(seconds), "-i", f"sine=f={freq}:r=48000",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-ar", "48000", "-ac", "2", str(dest)],
        check=True,
    )  # fmt: skip
    return dest


@pytest.fixture(scope="session")
def takes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("renderer-takes")
    return {
        "a": make_take(root / "a.mp4", seconds=3, pattern="testsrc2", freq=440),
        "b": make_take(root / "b.mp4", seconds=3, pattern="testsrc", freq=660),
        "c": make_take(root / "c.mp4", seconds=3, pattern="smptebars", freq=880),
        # long enough that a render is still running when a test cancels it
        "long": make_take(root / "long.mp4", seconds=40, pattern="testsrc2", freq=330),
    }


# ---- a renderer deployment in this process ------------------------------------------------

PARENT = "shows/kitchen/episodes/e1"
TINY = Preset("tiny-180p", 320, 180, fps=25, crf=30, x264_preset="ultrafast")
# Slow enough per second of video that a render is still running when the test acts on it.
SLOW = Preset("slow-360p", 640, 360, fps=25, crf=18, x264_preset="slower")
# For a job that is stopped once and then rendered in full.
MEDIUM = Preset("medium-180p", 320, 180, fps=25, crf=23, x264_preset="medium")
# The standard presets too: the default one must be accepted.
PRESETS = {**STANDARD_PRESETS, **{p.name: p for p in (TINY, SLOW, MEDIUM)}}
State = pb.RenderJob.State


@dataclass
class Stack:
    """One renderer deployment: shared settings, broker, storage and plans; units on demand."""

    settings: Settings
    broker: Broker
    storage: LocalStorage
    schema: str
    plans: PlainPlans = field(default_factory=PlainPlans)
    servers: list[RunningServer] = field(default_factory=list)
    events: list[Delivery] = field(default_factory=list)

    async def start(self, roles: frozenset[str]) -> RunningServer:
        unit = await build_unit(
            self.settings,
            broker=self.broker,
            storage=self.storage,
            roles=roles,
            schema=self.schema,
            plans=self.plans,
            presets=PRESETS,
        )
        running = await start_server([unit], port=0, grace_s=self.settings.grace_seconds)
        self.servers.append(running)
        return running

    async def stop(self, running: RunningServer) -> None:
        self.servers.remove(running)
        await running.stop()

    def approve(self, plan_id: str, choices: list[PlanChoice], state: str = "APPROVED") -> str:
        name = f"{PARENT}/editPlans/{plan_id}"
        self.plans.plans[name] = PlanView(name, state, tuple(choices))
        return name

    def events_for(self, key: str, job: str) -> list[dict]:
        return [
            e.payload
            for e in self.events
            if e.routing_key == key and e.payload.get("render_job") == job
        ]

    def database(self) -> Database:
        return Database(self.settings.database_url_for("renderer"), schema=self.schema)


@pytest.fixture(
    params=[
        pytest.param("embedded", id="sqlite-memory"),
        pytest.param(
            "servers", id="postgres-rabbitmq", marks=[pytest.mark.postgres, pytest.mark.rabbitmq]
        ),
    ]
)
async def stack(
    request: pytest.FixtureRequest, tmp_path: Path, takes: dict[str, Path]
) -> AsyncIterator[Stack]:
    schema = f"renderer_test_{uuid.uuid4().hex[:12]}"
    common = dict(data_dir=tmp_path / "data", render_lease_seconds=1.5, grace_seconds=10.0)
    if request.param == "embedded":
        settings = Settings(**common)
        broker = open_broker(f"memory://{uuid.uuid4().hex}")
    else:
        settings = Settings(database_url=PG_URL, broker_url=RABBITMQ_URL, **common)
        broker = open_broker(RABBITMQ_URL)
    await broker.start()
    if request.param == "servers":
        await broker.delete_queue("render")  # leftovers of an earlier run
    storage = LocalStorage(tmp_path / "media")
    for name, path in takes.items():
        await storage.put_file(f"takes/{name}.mp4", path)
    result = Stack(settings, broker, storage, schema)
    events_queue = f"test.renderer.events.{uuid.uuid4().hex[:8]}"

    async def collect(delivery: Delivery) -> None:
        result.events.append(delivery)

    await broker.subscribe(events_queue, ["render.*"], collect)
    try:
        yield result
    finally:
        for running in list(result.servers):
            await running.stop()
        await broker.delete_queue(events_queue)
        if request.param == "servers":
            await broker.delete_queue("render")
        await broker.close()
        if request.param == "servers":
            await drop_schema(schema)


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[pb_grpc.RendererServiceStub]:
    running = await stack.start(frozenset({"api"}))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield pb_grpc.RendererServiceStub(channel)


async def create(
    api: pb_grpc.RendererServiceStub, plan: str, preset: str = TINY.name, request_id: str = ""
) -> pb.RenderJob:
    return await api.CreateRenderJob(
        pb.CreateRenderJobRequest(
            parent=PARENT,
            render_job=pb.RenderJob(edit_plan=plan, preset=preset),
            request_id=request_id,
        ),
        timeout=30,
    )


async def get(api: pb_grpc.RendererServiceStub, name: str) -> pb.RenderJob:
    return await api.GetRenderJob(pb.GetRenderJobRequest(name=name), timeout=30)


async def reaches(api: pb_grpc.RendererServiceStub, name: str, *states: int) -> pb.RenderJob:
    found: list[pb.RenderJob] = []

    async def check() -> bool:
        found[:] = [await get(api, name)]
        return found[0].state in states

    await eventually(check, within=120)
    return found[0]
