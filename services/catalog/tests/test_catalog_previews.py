"""The previews made at ingest (preview proxy and contact sheet), over a real gRPC socket."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay_common.media import probe, thumbnails

READY = pb.Take.State.READY


def stored_keys(catalog) -> list[str]:
    return sorted(str(p.relative_to(catalog.storage.root)) for p in catalog.stored_files())


async def test_proxy_and_contact_sheet_of_a_tall_take(catalog, tall_take, tmp_path) -> None:
    episode = await catalog.make_episode()
    take = await catalog.upload(episode, "S01_T01.mp4", tall_take.read_bytes())
    assert take.state == READY and take.failure_reason == ""
    assert (take.media.width, take.media.height) == (640, 480)
    assert take.media.keyframe_interval_seconds == pytest.approx(1.0, abs=0.05)
    assert not take.media.variable_frame_rate

    analysis = take.analysis
    assert analysis.proxy_key.startswith("proxies/") and analysis.proxy_key.endswith(".mp4")
    sheet_key = analysis.contact_sheet_key
    assert sheet_key.startswith("contact-sheets/") and sheet_key.endswith(".jpg")
    keys = [take.storage_key, analysis.thumbnail_key, analysis.proxy_key, sheet_key]
    assert stored_keys(catalog) == sorted(keys)

    proxy = await catalog.storage.get_file(analysis.proxy_key, tmp_path / "proxy.mp4")
    info = await probe.inspect(proxy)  # probed and fully decoded, as an upload would be
    assert info.demuxer == "mov" and info.video is not None and info.audio is not None
    assert (info.video.codec, info.audio.codec) == ("h264", "aac")
    assert (info.video.width, info.video.height) == (480, 360)  # at most 360 lines, same shape
    assert info.duration_s == pytest.approx(take.media.duration_seconds, abs=0.1)
    assert info.video.keyframe_interval_s == pytest.approx(1.0, abs=0.05)  # scrubbable

    sheet = await catalog.storage.get_bytes(sheet_key)
    assert sheet[:2] == b"\xff\xd8" and sheet[-2:] == b"\xff\xd9"  # a whole JPEG
    assert await catalog.stub.GetTake(pb.GetTakeRequest(name=take.name)) == take
    assert catalog.scratch_files() == []


async def test_small_take_gets_previews_too(catalog, footage) -> None:
    episode = await catalog.make_episode()
    take = await catalog.upload(episode, "S01_T01.mp4", footage.path.read_bytes())
    assert take.state == READY
    assert take.analysis.proxy_key and take.analysis.contact_sheet_key
    proxy_bytes = await catalog.storage.get_bytes(take.analysis.proxy_key)
    assert proxy_bytes[4:8] == b"ftyp"  # an MP4


async def test_take_without_video_has_no_previews(catalog, sound_take) -> None:
    episode = await catalog.make_episode()
    take = await catalog.upload(episode, "S01_T01.m4a", sound_take.read_bytes())
    assert take.state == READY and take.failure_reason == ""
    assert take.media.video_codec == "" and take.media.audio_codec == "aac"
    assert take.media.keyframe_interval_seconds == 0.0 and not take.media.variable_frame_rate
    analysis = take.analysis
    assert (analysis.thumbnail_key, analysis.proxy_key, analysis.contact_sheet_key) == ("", "", "")
    assert analysis.speech  # the sound was analysed
    assert stored_keys(catalog) == [take.storage_key]
    assert catalog.scratch_files() == []


async def test_failed_previews_keep_the_take_ready(catalog, footage, monkeypatch) -> None:
    """Previews are not worth losing the take: it is READY without the proxy and the sheet,
    and what the broken run left half-written is not stored."""

    async def broken(path: Path, proxy: Path, sheet: Path, **_: object) -> tuple[Path, Path]:
        proxy.write_bytes(b"half an mp4")
        raise RuntimeError("the encoder gave up")

    monkeypatch.setattr(thumbnails, "make_previews", broken)
    episode = await catalog.make_episode()
    take = await catalog.upload(episode, "S01_T01.mp4", footage.path.read_bytes())
    assert take.state == READY and take.failure_reason == ""
    analysis = take.analysis
    assert (analysis.proxy_key, analysis.contact_sheet_key) == ("", "")
    assert analysis.thumbnail_key and analysis.speech
    assert stored_keys(catalog) == sorted([take.storage_key, analysis.thumbnail_key])
    assert catalog.scratch_files() == []


async def test_storage_failure_on_a_preview_leaves_nothing(catalog, footage, monkeypatch) -> None:
    """The take's file and thumbnail were stored before the proxy's upload broke off halfway:
    all of them are deleted again, and no take is recorded."""
    put_file = catalog.storage.put_file

    async def breaking(key: str, path: Path, **options: object) -> None:
        await put_file(key, path, **options)
        if key.startswith("proxies/"):
            raise OSError("the connection dropped")

    monkeypatch.setattr(catalog.storage, "put_file", breaking)
    episode = await catalog.make_episode()
    with pytest.raises(grpc.aio.AioRpcError):
        await catalog.upload(episode, "S01_T01.mp4", footage.path.read_bytes())
    listed = await catalog.stub.ListTakes(pb.ListTakesRequest(parent=episode, show_deleted=True))
    assert listed.takes == []
    assert catalog.stored_files() == [] and catalog.scratch_files() == []
