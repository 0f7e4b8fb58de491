"""Hostile and broken inputs are rejected with a reason code, never a crash."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from editbay_common.media.limits import MediaLimits, MediaRejected
from editbay_common.media.probe import inspect, probe


def _copy(src: Path, dest: Path, keep: float = 1.0) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest


def _size(path: Path) -> int:
    return path.stat().st_size


async def rejected(path: Path, limits: MediaLimits | None = None) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        await inspect(path, limits or MediaLimits())
    assert caught.value.message  # a human sentence is always given
    return caught.value


async def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    assert (await rejected(path)).reason == "EMPTY_FILE"


async def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(bytes((i * 7919 + 13) % 251 for i in range(64 * 1024)))
    assert (await rejected(path)).reason == "NOT_MEDIA"


async def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("Scene 1, take 2: good energy.\nScene 2: retake.\n" * 50)
    assert (await rejected(path)).reason == "NOT_MEDIA"


async def test_hls_playlist_renamed_mp4_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.ts"
    secret.write_bytes(b"\x47" + b"\x00" * 187)
    path = tmp_path / "take.mp4"
    path.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n"
        "#EXTINF:10,\nfile:///etc/passwd\n"
        f"#EXTINF:10,\nfile://{secret}\n#EXT-X-ENDLIST\n"
    )
    error = await rejected(path)
    assert error.reason == "FORMAT_NOT_ALLOWED"
    assert "hls" in error.message


async def test_format_outside_allow_list(tmp_path: Path, run_ffmpeg: Callable[..., None]) -> None:
    path = tmp_path / "clip.y4m"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc=s=32x32:r=5:d=1", "-pix_fmt", "yuv420p", str(path))
    assert (await rejected(path)).reason == "FORMAT_NOT_ALLOWED"


def _avi_with_declared_size(tmp_path: Path, side: int, ffmpeg: Callable[..., None]) -> Path:
    """A tiny raw-video AVI whose headers are patched to declare ``side`` x ``side``."""
    small = tmp_path / "small.avi"
    ffmpeg("-f", "lavfi", "-i", "color=red:s=16x16:r=5:d=1", "-c:v", "rawvideo",
           "-pix_fmt", "bgr24", str(small))  # fmt: skip
    data = bytearray(small.read_bytes())
    avih = data.find(b"avih")  # main header: dwWidth, dwHeight at byte 40 of the chunk data
    struct.pack_into("<II", data, avih + 8 + 32, side, side)
    strf = data.find(b"strf")  # BITMAPINFOHEADER: biSize, biWidth, biHeight
    struct.pack_into("<ii", data, strf + 8 + 4, side, side)
    path = tmp_path / f"huge{side}.avi"
    path.write_bytes(bytes(data))
    return path


async def test_declared_30000_square_is_rejected(
    tmp_path: Path, run_ffmpeg: Callable[..., None]
) -> None:
    error = await rejected(_avi_with_declared_size(tmp_path, 30000, run_ffmpeg))
    assert error.reason == "RESOLUTION_TOO_LARGE"
    assert "30000x30000" in error.message


async def test_resolution_above_limit(tmp_path: Path, run_ffmpeg: Callable[..., None]) -> None:
    error = await rejected(_avi_with_declared_size(tmp_path, 8000, run_ffmpeg))
    assert error.reason == "RESOLUTION_TOO_LARGE"


async def test_truncated_faststart_mp4_passes_ffprobe_but_not_inspect(
    tmp_path: Path, faststart_mp4: Path
) -> None:
    path = _copy(faststart_mp4, tmp_path / "truncated.mp4", keep=0.6)
    info = await probe(path)  # the index at the front is intact: headers alone look fine
    assert info.duration_s == pytest.approx(4.0, abs=0.1)
    assert (await rejected(path)).reason == "CORRUPT"


async def test_intact_file_is_accepted(faststart_mp4: Path) -> None:
    info = await inspect(faststart_mp4)
    assert info.video is not None and info.audio is not None


async def test_duration_limit(faststart_mp4: Path) -> None:
    error = await rejected(faststart_mp4, MediaLimits(max_duration_s=2.0))
    assert error.reason == "DURATION_TOO_LONG"


async def test_file_size_limit(faststart_mp4: Path) -> None:
    limit = _size(faststart_mp4) - 1
    assert (await rejected(faststart_mp4, MediaLimits(max_file_bytes=limit))).reason == (
        "FILE_TOO_LARGE"
    )


async def test_stream_count_limit(tmp_path: Path, run_ffmpeg: Callable[..., None]) -> None:
    path = tmp_path / "many.mkv"
    inputs = ["-f", "lavfi", "-i", "sine=d=1"]
    run_ffmpeg(*inputs, *["-map", "0:a"] * 4, "-c:a", "flac", str(path))
    assert (await probe(path, MediaLimits(max_streams=4))).stream_count == 4
    assert (await rejected(path, MediaLimits(max_streams=3))).reason == "TOO_MANY_STREAMS"


async def test_subtitles_only(tmp_path: Path, run_ffmpeg: Callable[..., None]) -> None:
    srt = tmp_path / "subs.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n")
    path = tmp_path / "subs.mkv"
    run_ffmpeg("-i", str(srt), str(path))
    assert (await rejected(path)).reason == "NO_AUDIO_OR_VIDEO"


async def test_timeout_is_a_rejection(faststart_mp4: Path) -> None:
    error = await rejected(faststart_mp4, MediaLimits(timeout_s=0.001))
    assert error.reason == "TIMEOUT"


async def test_odd_file_name_is_read_as_a_file(tmp_path: Path, faststart_mp4: Path) -> None:
    path = _copy(faststart_mp4, tmp_path / "-i pipe:0 ; http:x.mp4")
    assert (await inspect(path)).duration_s == pytest.approx(4.0, abs=0.1)
