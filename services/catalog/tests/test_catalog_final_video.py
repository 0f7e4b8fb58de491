"""render.succeeded sets the episode's final video (in-process broker, real gRPC socket)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay.events.v1 import events_pb2
from editbay_catalog.final_video import QUEUE, FinalVideoConsumer
from editbay_common.broker import Delivery, Reject
from editbay_common.db import Database
from editbay_common.protoconv import to_payload

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], attempts: int = 400) -> T:
    """Poll ``probe`` until it returns something truthy (the consumer runs in the background)."""
    for _ in range(attempts):
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.025)
    raise AssertionError("condition never became true")


def succeeded(episode: str, job: str = "j1", key: str = "renders/2025/01/out.mp4") -> dict:
    return to_payload(
        events_pb2.RenderSucceeded(
            render_job=f"{episode}/renderJobs/{job}",
            episode=episode,
            edit_plan=f"{episode}/editPlans/p1",
            storage_key=key,
            duration_seconds=12.5,
        )
    )


async def test_render_succeeded_sets_the_final_video(catalog) -> None:
    episode = await catalog.make_episode()
    before = await catalog.stub.GetEpisode(pb.GetEpisodeRequest(name=episode))
    assert not before.HasField("final_video")

    await catalog.broker.publish("render.succeeded", succeeded(episode))

    async def final() -> pb.Episode | None:
        got = await catalog.stub.GetEpisode(pb.GetEpisodeRequest(name=episode))
        return got if got.HasField("final_video") else None

    after = await eventually(final)
    video = after.final_video
    assert video.render_job == f"{episode}/renderJobs/j1"
    assert video.storage_key == "renders/2025/01/out.mp4"
    assert video.duration_seconds == pytest.approx(12.5)
    assert video.render_time.seconds > 0
    assert after.etag != before.etag


async def test_unknown_episode_and_malformed_messages_are_dead_lettered(catalog) -> None:
    await catalog.make_episode()
    await catalog.broker.publish("render.succeeded", succeeded("shows/kitchen/episodes/ghost"))
    await catalog.broker.publish("render.succeeded", {"episode": "not a name", "render_job": "x"})

    async def dead() -> list[Delivery] | None:
        letters = await catalog.broker.dead_letters(QUEUE)
        return letters if len(letters) == 2 else None

    letters = await eventually(dead)
    assert {letter.dead_reason for letter in letters} == {"rejected"}
    assert any("ghost" in (letter.error or "") for letter in letters)


async def test_redelivery_changes_nothing(catalog) -> None:
    episode = await catalog.make_episode()
    db = Database(catalog.settings.database_url_for("catalog"), schema="catalog")
    try:
        consumer = FinalVideoConsumer(db)
        delivery = Delivery(succeeded(episode), {}, "render.succeeded", "m1", 1)
        await consumer.handle(delivery)
        first = await catalog.stub.GetEpisode(pb.GetEpisodeRequest(name=episode))
        await consumer.handle(Delivery(succeeded(episode), {}, "render.succeeded", "m1", 2))
        again = await catalog.stub.GetEpisode(pb.GetEpisodeRequest(name=episode))
        assert again == first

        await consumer.handle(Delivery(succeeded(episode, "j2", "renders/b.mp4"), {}, "", "m2", 1))
        newer = await catalog.stub.GetEpisode(pb.GetEpisodeRequest(name=episode))
        assert newer.final_video.storage_key == "renders/b.mp4" and newer.etag != first.etag

        ghost = Delivery(succeeded("shows/kitchen/episodes/ghost"), {}, "", "m3", 1)
        with pytest.raises(Reject):
            await consumer.handle(ghost)
    finally:
        await db.dispose()
