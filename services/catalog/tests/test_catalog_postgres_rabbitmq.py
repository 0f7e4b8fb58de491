"""The core catalog flow on PostgreSQL and RabbitMQ: CRUD, an upload to READY with its
``take.ingested`` event on the wire, a rejected upload, and ``render.succeeded`` applied."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from sqlalchemy import text

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay.events.v1 import events_pb2
from editbay_catalog.final_video import RENDER_SUCCEEDED, FinalVideoConsumer
from editbay_common.broker import Delivery, open_broker
from editbay_common.db import Database
from editbay_common.protoconv import from_payload, to_payload
from editbay_common.settings import Settings
from editbay_common.storage import LocalStorage

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
Code = grpc.StatusCode


@pytest.fixture
async def wired(tmp_path, catalog_opener) -> AsyncIterator[tuple]:
    suffix = uuid.uuid4().hex[:10]
    schema = f"catalog_test_{suffix}"
    settings = Settings(
        data_dir=tmp_path / "data", database_url=POSTGRES_URL, broker_url=RABBITMQ_URL
    )
    broker = open_broker(RABBITMQ_URL)
    await broker.start()
    db = Database(POSTGRES_URL, schema=schema)
    queues: list[str] = []
    harness = None
    try:
        # Only the API role: the test consumes render.succeeded from its own queue below, so it
        # never competes with a catalog running elsewhere for the shared durable queue.
        harness, channel = await catalog_opener(
            settings,
            broker,
            LocalStorage(tmp_path / "media"),
            schema=schema,
            roles=frozenset({"api"}),
        )
        yield harness, db, suffix, queues
        await channel.close()
    finally:
        if harness is not None:
            await harness.running.stop()
        for queue in queues:
            await broker.delete_queue(queue)
        await broker.close()
        async with db.engine.connect() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await conn.commit()
        await db.dispose()


async def test_core_flow_on_postgres_and_rabbitmq(wired, footage, expect) -> None:
    catalog, db, suffix, queues = wired
    stub = catalog.stub
    show_id = f"show-{suffix}"

    ingested: asyncio.Queue[Delivery] = asyncio.Queue()
    take_queue = f"test.catalog.take-ingested.{suffix}"
    queues.append(take_queue)
    await catalog.broker.subscribe(take_queue, ["take.ingested"], ingested.put)

    await stub.CreateShow(pb.CreateShowRequest(show=pb.Show(display_name="PG"), show_id=show_id))
    info = await expect(
        stub.CreateShow(pb.CreateShowRequest(show=pb.Show(display_name="PG"), show_id=show_id)),
        Code.ALREADY_EXISTS,
    )
    assert info.reason == "SHOW_ALREADY_EXISTS"
    names = []
    for number in range(3):
        episode = await stub.CreateEpisode(
            pb.CreateEpisodeRequest(
                parent=f"shows/{show_id}",
                episode=pb.Episode(display_name=f"E{number}"),
                request_id=f"{suffix}-{number}",
            )
        )
        names.append(episode.name)
    page1 = await stub.ListEpisodes(
        pb.ListEpisodesRequest(parent=f"shows/{show_id}", page_size=2, order_by="create_time")
    )
    page2 = await stub.ListEpisodes(
        pb.ListEpisodesRequest(
            parent=f"shows/{show_id}",
            page_size=2,
            order_by="create_time",
            page_token=page1.next_page_token,
        )
    )
    assert [e.name for e in [*page1.episodes, *page2.episodes]] == names
    episode = names[0]
    script = await stub.UpdateScript(
        pb.UpdateScriptRequest(
            script=pb.Script(name=f"{episode}/script", text="Scene 1: A\nHi.\nScene 2: B\nBye.")
        )
    )
    assert script.scene_count == 2

    data = footage.path.read_bytes()
    take = await catalog.upload(episode, "S02_T01.mp4", data)
    assert take.state == pb.Take.State.READY
    assert take.media.duration_seconds == pytest.approx(footage.truth.duration_s, abs=0.15)
    assert len(take.analysis.speech) >= 2
    assert await catalog.storage.exists(take.storage_key)

    delivery = await asyncio.wait_for(ingested.get(), timeout=30)
    event = from_payload(delivery.payload, events_pb2.TakeIngested)
    assert (event.take, event.storage_key) == (take.name, take.storage_key)

    info = await expect(catalog.upload(episode, "S02_T01.mp4", data), Code.ALREADY_EXISTS)
    assert info.reason == "TAKE_ALREADY_EXISTS"
    info = await expect(
        catalog.upload(episode, "S01_T01.mp4", b"not a video at all" * 100), Code.INVALID_ARGUMENT
    )
    assert info.reason == "MEDIA_REJECTED"
    listed = await stub.ListTakes(pb.ListTakesRequest(parent=episode, show_deleted=True))
    assert [t.name for t in listed.takes] == [take.name]
    scene = await stub.GetScene(pb.GetSceneRequest(name=f"{episode}/scenes/2"))
    assert scene.ready_take_count == 1
    assert catalog.scratch_files() == []

    # render.succeeded through RabbitMQ, handled by the catalog's consumer on a test queue.
    render_queue = f"test.catalog.render-succeeded.{suffix}"
    queues.append(render_queue)
    await catalog.broker.subscribe(render_queue, [RENDER_SUCCEEDED], FinalVideoConsumer(db).handle)
    payload = events_pb2.RenderSucceeded(
        render_job=f"{episode}/renderJobs/r1",
        episode=episode,
        storage_key="renders/x.mp4",
        duration_seconds=3.0,
    )
    await catalog.broker.publish(RENDER_SUCCEEDED, to_payload(payload))
    await catalog.broker.publish(RENDER_SUCCEEDED, to_payload(payload))  # a duplicate
    for _ in range(400):
        current = await stub.GetEpisode(pb.GetEpisodeRequest(name=episode))
        if current.HasField("final_video"):
            break
        await asyncio.sleep(0.025)
    assert current.final_video.storage_key == "renders/x.mp4"
    assert current.final_video.render_job == f"{episode}/renderJobs/r1"
