"""UploadTake over a real gRPC socket with real footage, and hostile uploads."""

from __future__ import annotations

import asyncio
import hashlib

import grpc
import pytest

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay.events.v1 import events_pb2
from editbay_common.broker import Delivery
from editbay_common.protoconv import from_payload

Code = grpc.StatusCode
READY = pb.Take.State.READY


async def subscribe_take_ingested(catalog) -> asyncio.Queue[Delivery]:
    received: asyncio.Queue[Delivery] = asyncio.Queue()

    async def handler(delivery: Delivery) -> None:
        await received.put(delivery)

    await catalog.broker.subscribe("test.take-ingested", ["take.ingested"], handler)
    return received


def overlaps(interval: pb.TimeInterval, start: float, end: float) -> bool:
    return interval.start_seconds < end and interval.end_seconds > start


async def test_real_take_is_ready_with_analysis_and_event(catalog, footage) -> None:
    events = await subscribe_take_ingested(catalog)
    episode = await catalog.make_episode()
    data = footage.path.read_bytes()

    take = await catalog.upload(episode, "S02_T03.mp4", data)

    assert take.state == READY and take.failure_reason == ""
    assert (take.scene_number, take.take_number) == (2, 3)
    assert take.name.startswith(f"{episode}/takes/")
    assert take.original_filename == "S02_T03.mp4"
    assert take.size_bytes == len(data)
    assert take.sha256 == hashlib.sha256(data).hexdigest()
    assert take.storage_key.startswith("takes/") and take.storage_key.endswith(".mp4")
    assert "S02_T03" not in take.storage_key
    assert await catalog.storage.exists(take.storage_key)
    assert await catalog.storage.size(take.storage_key) == len(data)

    media = take.media
    assert media.duration_seconds == pytest.approx(footage.truth.duration_s, abs=0.15)
    assert (media.video_codec, media.width, media.height) == ("h264", 320, 180)
    assert media.frame_rate == pytest.approx(25.0)
    assert (media.audio_codec, media.audio_channels) == ("aac", 1)
    assert media.audio_sample_rate > 0

    analysis = take.analysis
    first, second = footage.truth.speech
    assert len(analysis.speech) >= 2
    assert analysis.speech[0].start_seconds == pytest.approx(first.start_s, abs=0.2)
    assert analysis.speech[-1].end_seconds == pytest.approx(second.end_s, abs=0.2)
    gap_middle = (first.end_s + second.start_s) / 2
    assert any(overlaps(p, gap_middle - 0.1, gap_middle + 0.1) for p in analysis.pauses)
    assert not any(overlaps(s, gap_middle - 0.1, gap_middle + 0.1) for s in analysis.speech)
    assert -40 < analysis.integrated_loudness_lufs < 0
    assert analysis.true_peak_dbtp <= 0.5

    delivery = await asyncio.wait_for(events.get(), timeout=30)
    event = from_payload(delivery.payload, events_pb2.TakeIngested)
    assert event.take == take.name
    assert (event.scene_number, event.take_number) == (2, 3)
    assert event.storage_key == take.storage_key
    assert event.duration_seconds == pytest.approx(media.duration_seconds)

    assert await catalog.stub.GetTake(pb.GetTakeRequest(name=take.name)) == take
    assert catalog.scratch_files() == []


async def test_thumbnail_is_stored_under_its_own_key(catalog, footage) -> None:
    episode = await catalog.make_episode()
    take = await catalog.upload(episode, "S01_T01.mp4", footage.path.read_bytes())
    key = take.analysis.thumbnail_key
    assert key.startswith("thumbnails/") and key.endswith(".jpg") and key != take.storage_key
    assert (await catalog.storage.get_bytes(key))[:2] == b"\xff\xd8"  # a JPEG


async def test_numbers_idempotency_and_duplicates(catalog, footage, expect) -> None:
    episode = await catalog.make_episode()
    data = footage.path.read_bytes()

    first = await catalog.upload(
        episode, "interview.mov", data, scene_number=4, take_number=2, request_id="u-1"
    )
    assert (first.scene_number, first.take_number) == (4, 2)
    assert first.storage_key.endswith(".mov")
    stored = catalog.stored_files()
    retried = await catalog.upload(
        episode, "interview.mov", data, scene_number=4, take_number=2, request_id="u-1"
    )
    assert retried == first
    assert catalog.stored_files() == stored

    info = await expect(catalog.upload(episode, "S04_T02.mp4", data), Code.ALREADY_EXISTS)
    assert info.reason == "TAKE_ALREADY_EXISTS"
    assert info.metadata["name"] == first.name
    assert catalog.stored_files() == stored

    # An explicit scene overrides the file name's; the take number still comes from the name.
    overridden = await catalog.upload(episode, "S09_T09.mp4", data, scene_number=4)
    assert (overridden.scene_number, overridden.take_number) == (4, 9)
    # A scene without any take number gets the next take number of that scene.
    numbered = await catalog.upload(episode, "closeup.mp4", data, scene_number=4)
    assert (numbered.scene_number, numbered.take_number) == (4, 10)

    info = await expect(catalog.upload(episode, "interview.mp4", data), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "metadata.scene_number"

    # A deleted take frees its numbers.
    deleted = await catalog.stub.DeleteTake(pb.DeleteTakeRequest(name=first.name))
    assert deleted.HasField("delete_time")
    again = await catalog.upload(episode, "S04_T02.mp4", data)
    assert (again.scene_number, again.take_number) == (4, 2) and again.name != first.name
    assert catalog.scratch_files() == []


async def test_stream_shape_and_parent_are_checked(catalog, footage, expect) -> None:
    episode = await catalog.make_episode()

    def chunk_first():
        yield pb.UploadTakeRequest(chunk=b"\x00" * 10)

    info = await expect(catalog.stub.UploadTake(chunk_first()), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "metadata"
    info = await expect(catalog.stub.UploadTake(iter([])), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "metadata"

    data = footage.path.read_bytes()
    missing = "shows/kitchen/episodes/nope"
    info = await expect(catalog.upload(missing, "S01_T01.mp4", data), Code.NOT_FOUND)
    assert info.reason == "EPISODE_NOT_FOUND"
    info = await expect(
        catalog.upload("shows/none/episodes/x", "S01_T01.mp4", data), Code.NOT_FOUND
    )
    assert info.reason == "SHOW_NOT_FOUND"
    info = await expect(catalog.upload("kitchen", "S01_T01.mp4", data), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "metadata.parent"
    info = await expect(catalog.upload(episode, "", data, scene_number=1), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "metadata.filename"

    await catalog.stub.DeleteEpisode(pb.DeleteEpisodeRequest(name=episode))
    info = await expect(catalog.upload(episode, "S01_T01.mp4", data), Code.NOT_FOUND)
    assert info.reason == "EPISODE_NOT_FOUND"
    assert catalog.stored_files() == [] and catalog.scratch_files() == []


HLS_PLAYLIST = b"""#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:10
#EXTINF:10.0,
file:///etc/passwd
#EXT-X-ENDLIST
"""


@pytest.mark.parametrize(
    ("label", "data"),
    [
        ("empty", b""),
        ("random", bytes(range(256)) * 64),
        ("text", b"Dear diary, today I shot a scene.\n" * 50),
        ("hls-playlist", HLS_PLAYLIST),
    ],
)
async def test_hostile_uploads_leave_nothing(catalog, expect, label: str, data: bytes) -> None:
    episode = await catalog.make_episode()
    info = await expect(catalog.upload(episode, "S01_T01.mp4", data), Code.INVALID_ARGUMENT)
    assert info.reason == "MEDIA_REJECTED", label
    assert info.metadata["media_reason"] in {
        "EMPTY_FILE",
        "NOT_MEDIA",
        "FORMAT_NOT_ALLOWED",
        "CORRUPT",
    }
    listed = await catalog.stub.ListTakes(pb.ListTakesRequest(parent=episode, show_deleted=True))
    assert listed.takes == []
    assert catalog.stored_files() == []
    assert catalog.scratch_files() == []


async def test_truncated_take_is_rejected(catalog, footage, expect) -> None:
    episode = await catalog.make_episode()
    data = footage.path.read_bytes()
    info = await expect(
        catalog.upload(episode, "S01_T01.mp4", data[: len(data) * 2 // 3]), Code.INVALID_ARGUMENT
    )
    assert info.reason == "MEDIA_REJECTED"
    assert catalog.stored_files() == [] and catalog.scratch_files() == []


async def test_oversized_upload_is_rejected(catalog_factory, footage, expect) -> None:
    data = footage.path.read_bytes()
    small = await catalog_factory(max_upload_bytes=len(data) // 4)
    episode = await small.make_episode()
    info = await expect(small.upload(episode, "S01_T01.mp4", data), Code.INVALID_ARGUMENT)
    assert info.reason == "UPLOAD_TOO_LARGE"
    assert info.metadata["limit_bytes"] == str(len(data) // 4)
    listed = await small.stub.ListTakes(pb.ListTakesRequest(parent=episode, show_deleted=True))
    assert listed.takes == []
    assert small.stored_files() == [] and small.scratch_files() == []


async def test_list_takes_filters_orders_and_counts_scenes(catalog, footage, expect) -> None:
    episode = await catalog.make_episode()
    await catalog.stub.UpdateScript(
        pb.UpdateScriptRequest(
            script=pb.Script(name=f"{episode}/script", text="Scene 1:\na\nScene 2:\nb")
        )
    )
    data = footage.path.read_bytes()
    for filename in ("S02_T02.mp4", "S01_T01.mp4", "S02_T01.mp4"):
        await catalog.upload(episode, filename, data)

    everything = await catalog.stub.ListTakes(pb.ListTakesRequest(parent=episode))
    assert [(t.scene_number, t.take_number) for t in everything.takes] == [(1, 1), (2, 1), (2, 2)]
    scene2 = await catalog.stub.ListTakes(
        pb.ListTakesRequest(parent=episode, filter="scene_number = 2")
    )
    assert [t.take_number for t in scene2.takes] == [1, 2]
    ready = await catalog.stub.ListTakes(
        pb.ListTakesRequest(parent=episode, filter="scene_number = 2 AND state = READY")
    )
    assert len(ready.takes) == 2
    failed = await catalog.stub.ListTakes(
        pb.ListTakesRequest(parent=episode, filter="state = FAILED")
    )
    assert failed.takes == []

    page1 = await catalog.stub.ListTakes(pb.ListTakesRequest(parent=episode, page_size=2))
    page2 = await catalog.stub.ListTakes(
        pb.ListTakesRequest(parent=episode, page_size=2, page_token=page1.next_page_token)
    )
    assert [t.name for t in [*page1.takes, *page2.takes]] == [t.name for t in everything.takes]
    assert page2.next_page_token == ""

    counts = {
        s.number: s.ready_take_count
        for s in (await catalog.stub.ListScenes(pb.ListScenesRequest(parent=episode))).scenes
    }
    assert counts == {1: 1, 2: 2}
    await catalog.stub.DeleteTake(pb.DeleteTakeRequest(name=scene2.takes[0].name))
    scene = await catalog.stub.GetScene(pb.GetSceneRequest(name=f"{episode}/scenes/2"))
    assert scene.ready_take_count == 1
    live = await catalog.stub.ListTakes(pb.ListTakesRequest(parent=episode))
    assert len(live.takes) == 2
    with_deleted = await catalog.stub.ListTakes(
        pb.ListTakesRequest(parent=episode, show_deleted=True)
    )
    assert len(with_deleted.takes) == 3
    info = await expect(
        catalog.stub.DeleteTake(pb.DeleteTakeRequest(name=scene2.takes[0].name)), Code.NOT_FOUND
    )
    assert info.reason == "TAKE_NOT_FOUND"

    for bad in ("scene_number = two", "state = DONE", "owner = me"):
        info = await expect(
            catalog.stub.ListTakes(pb.ListTakesRequest(parent=episode, filter=bad)),
            Code.INVALID_ARGUMENT,
        )
        assert info.metadata["field"] == "filter"
    info = await expect(
        catalog.stub.GetTake(pb.GetTakeRequest(name=f"{episode}/takes/nope")), Code.NOT_FOUND
    )
    assert info.reason == "TAKE_NOT_FOUND"


async def test_concurrent_uploads_of_the_same_take_keep_one(catalog, footage, expect) -> None:
    """Whether the loser is stopped by the early check or, having stored its file, by the
    database's unique index, exactly one take remains and only its objects are stored."""
    episode = await catalog.make_episode()
    data = footage.path.read_bytes()
    results = await asyncio.gather(
        catalog.upload(episode, "S03_T01.mp4", data),
        catalog.upload(episode, "S03_T01.mp4", data),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, pb.Take)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].code() == Code.ALREADY_EXISTS
    take = winners[0]
    stored = sorted(str(p.relative_to(catalog.storage.root)) for p in catalog.stored_files())
    analysis = take.analysis
    keys = [
        take.storage_key,
        analysis.thumbnail_key,
        analysis.proxy_key,
        analysis.contact_sheet_key,
    ]
    assert stored == sorted(keys)
    assert catalog.scratch_files() == []
