"""The TrainingService over a real gRPC socket: uploads, analysis, profiles, bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from editbay.training.v1 import training_service_pb2 as pb
from editbay_common.errors import error_info

from .conftest import AMQP_URL, PG_URL, SHOT_LENGTHS, start_training, stop_training

CHUNK = 64 * 1024


def upload_messages(
    path: Path | None,
    parent: str = "shows/kitchen",
    data: bytes | None = None,
    request_id: str = "",
    filename: str = "ref.mp4",
):
    yield pb.UploadReferenceVideoRequest(
        metadata=pb.ReferenceVideoUploadMetadata(
            parent=parent, filename=filename, request_id=request_id
        )
    )
    payload = data if data is not None else path.read_bytes()
    for start in range(0, len(payload), CHUNK):
        yield pb.UploadReferenceVideoRequest(chunk=payload[start : start + CHUNK])


async def wait_done(stub, name: str) -> pb.ReferenceVideo:
    last = None
    async for video in stub.WatchReferenceVideo(
        pb.WatchReferenceVideoRequest(name=name), timeout=120
    ):
        last = video
    return last


async def test_upload_analyses_and_builds_profile(training, reference_video):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await training.stub.GetStyleProfile(
            pb.GetStyleProfileRequest(name="shows/kitchen/styleProfile")
        )
    assert error_info(caught.value).reason == "STYLE_PROFILE_NOT_FOUND"

    video = await training.stub.UploadReferenceVideo(upload_messages(reference_video))
    assert video.state == pb.ReferenceVideo.QUEUED
    assert video.name.startswith("shows/kitchen/referenceVideos/")
    done = await wait_done(training.stub, video.name)
    assert done.state == pb.ReferenceVideo.SUCCEEDED, done.failure_reason
    truth = [sum(SHOT_LENGTHS[: i + 1]) for i in range(len(SHOT_LENGTHS) - 1)]
    assert done.analysis.cut_count == len(truth)
    for found, expected in zip(done.analysis.cut_times_seconds, truth, strict=True):
        assert abs(found - expected) <= 2 / 25
    assert done.analysis.duration_seconds == pytest.approx(sum(SHOT_LENGTHS), abs=0.1)
    assert done.analysis.cuts_per_minute == pytest.approx(3 / (7 / 60), rel=0.05)

    second = await training.stub.UploadReferenceVideo(upload_messages(reference_video))
    await wait_done(training.stub, second.name)
    profile = await training.stub.GetStyleProfile(
        pb.GetStyleProfileRequest(name="shows/kitchen/styleProfile")
    )
    assert profile.reference_video_count == 2
    assert profile.style.cut_count == 6
    assert profile.style.median_shot_seconds == pytest.approx(1.75, abs=0.1)

    listed = await training.stub.ListReferenceVideos(
        pb.ListReferenceVideosRequest(parent="shows/kitchen", page_size=1)
    )
    assert len(listed.reference_videos) == 1 and listed.next_page_token
    rest = await training.stub.ListReferenceVideos(
        pb.ListReferenceVideosRequest(
            parent="shows/kitchen", page_size=1, page_token=listed.next_page_token
        )
    )
    assert {listed.reference_videos[0].name, rest.reference_videos[0].name} == {
        video.name,
        second.name,
    }


async def test_request_id_makes_upload_idempotent(training, reference_video):
    first = await training.stub.UploadReferenceVideo(
        upload_messages(reference_video, request_id="r-1")
    )
    again = await training.stub.UploadReferenceVideo(
        upload_messages(reference_video, request_id="r-1")
    )
    assert first.name == again.name


async def test_concurrent_uploads_with_one_request_id_make_one_video(training, reference_video):
    uploads = [
        training.stub.UploadReferenceVideo(upload_messages(reference_video, request_id="r-2"))
        for _ in range(3)
    ]
    videos = await asyncio.gather(*uploads)
    assert len({video.name for video in videos}) == 1
    listed = await training.stub.ListReferenceVideos(
        pb.ListReferenceVideosRequest(parent="shows/kitchen")
    )
    assert [video.name for video in listed.reference_videos] == [videos[0].name]
    media = [p for p in (training.data_dir.parent / "media").rglob("*") if p.is_file()]
    assert [p.name for p in media] == [videos[0].storage_key.rsplit("/", 1)[-1]]


async def test_an_overlong_request_id_names_the_field(training, reference_video):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await training.stub.UploadReferenceVideo(
            upload_messages(reference_video, request_id="r" * 129)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value).metadata["field"] == "metadata.request_id"


@pytest.mark.parametrize(
    ("data", "media_reason"),
    [(b"", "EMPTY_FILE"), (b"\x00\x01garbage" * 500, None), (b"just some text\n" * 50, None)],
)
async def test_hostile_uploads_are_rejected_and_nothing_is_kept(training, data, media_reason):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await training.stub.UploadReferenceVideo(upload_messages(None, data=data))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(caught.value)
    assert info.reason == "MEDIA_REJECTED"
    if media_reason:
        assert info.metadata["media_reason"] == media_reason
    listed = await training.stub.ListReferenceVideos(
        pb.ListReferenceVideosRequest(parent="shows/kitchen")
    )
    assert list(listed.reference_videos) == []
    media = [p for p in (training.data_dir.parent / "media").rglob("*") if p.is_file()]
    assert media == []
    scratch = [p for p in (training.data_dir / "scratch" / "training").rglob("*") if p.is_file()]
    assert scratch == []


async def test_bad_names_and_unknown_show(training, reference_video):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await training.stub.UploadReferenceVideo(
            upload_messages(reference_video, parent="shows/nope")
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await training.stub.UploadReferenceVideo(upload_messages(reference_video, parent="kitchen"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value).metadata["field"] == "metadata.parent"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await training.stub.UploadReferenceVideo(
            iter([pb.UploadReferenceVideoRequest(chunk=b"abc")])
        )
    assert error_info(caught.value).metadata["field"] == "metadata"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await training.stub.GetReferenceVideo(
            pb.GetReferenceVideoRequest(name="shows/kitchen/referenceVideos/missing")
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_failed_analysis_is_retried_then_failed_and_dead_lettered(training, reference_video):
    video = await training.stub.UploadReferenceVideo(upload_messages(reference_video))
    # The stored file disappears before analysis: every attempt fails.
    await training.storage.delete(video.storage_key)
    for _ in range(100):
        done = await training.stub.GetReferenceVideo(pb.GetReferenceVideoRequest(name=video.name))
        if done.state == pb.ReferenceVideo.FAILED:
            break
        await asyncio.sleep(0.1)
    assert done.state == pb.ReferenceVideo.FAILED
    assert "analysis failed" in done.failure_reason
    dead = await training.broker.dead_letters("training")
    assert [d.payload["reference_video"] for d in dead] == [video.name]


@pytest.mark.parametrize(
    "payload", [{"reference_video": 5}, {"reference_video": "nope"}, {"unknown": {"x": 1}}]
)
async def test_a_malformed_training_message_is_dead_lettered_at_once(training, payload):
    await training.broker.enqueue("training", payload)
    for _ in range(100):
        dead = await training.broker.dead_letters("training")
        if dead:
            break
        await asyncio.sleep(0.05)
    [letter] = dead
    assert (letter.dead_reason, letter.delivery_count) == ("rejected", 1)
    assert "malformed" in letter.error


@pytest.mark.postgres
@pytest.mark.rabbitmq
async def test_on_postgres_and_rabbitmq(tmp_path, reference_video, pg_schema):
    service = await start_training(
        tmp_path, database_url=PG_URL, broker_url=AMQP_URL, schema=pg_schema
    )
    try:
        video = await service.stub.UploadReferenceVideo(upload_messages(reference_video))
        done = await wait_done(service.stub, video.name)
        assert done.state == pb.ReferenceVideo.SUCCEEDED, done.failure_reason
        assert done.analysis.cut_count == len(SHOT_LENGTHS) - 1
    finally:
        await stop_training(service)
