"""Thumbnails, contact sheets and proxies have the sizes asked for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from editbay_common.media.probe import inspect, probe
from editbay_common.media.synth import SynthTruth
from editbay_common.media.thumbnails import contact_sheet, make_proxy, thumbnail


async def _size(path: Path) -> tuple[str, int, int]:
    """Codec and picture size of an image or video, read back with our own probe."""
    info = await probe(path) if path.suffix == ".mp4" else None
    if info is not None and info.video is not None:
        return info.video.codec, info.video.width, info.video.height
    raise AssertionError("no video")


def _jpeg_size(path: Path) -> tuple[int, int]:
    """Width and height from a baseline JPEG's SOF0 marker."""
    data = path.read_bytes()
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    i = 2
    while i < len(data):
        marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        i += 2 + length
    raise AssertionError("no frame header")


async def test_thumbnail_size(tmp_path: Path, spoken_take: tuple[Path, SynthTruth]) -> None:
    dest = await thumbnail(spoken_take[0], 1.0, tmp_path / "t.jpg", width=160)
    assert _jpeg_size(dest) == (160, 90)


async def test_thumbnail_past_the_end_is_clamped(
    tmp_path: Path, spoken_take: tuple[Path, SynthTruth]
) -> None:
    dest = await thumbnail(spoken_take[0], 10_000.0, tmp_path / "late.jpg")
    assert _jpeg_size(dest) == (320, 180)


async def test_thumbnail_of_rotated_video_is_upright(
    tmp_path: Path, run_ffmpeg: Callable[..., None], faststart_mp4: Path
) -> None:
    rotated = tmp_path / "rotated.mp4"
    run_ffmpeg("-i", str(faststart_mp4), "-c", "copy", "-metadata:s:v:0", "rotate=90",
               str(rotated))  # fmt: skip
    dest = await thumbnail(rotated, 1.0, tmp_path / "r.jpg", width=90)
    assert _jpeg_size(dest) == (90, 160)


async def test_contact_sheet_grid(tmp_path: Path, shots_video: tuple[Path, SynthTruth]) -> None:
    dest = await contact_sheet(shots_video[0], tmp_path / "sheet.jpg", columns=4, rows=3, width=640)
    assert _jpeg_size(dest) == (640, 270)  # 4 tiles of 160x90 across, 3 down


async def test_proxy_is_small_playable_mp4(tmp_path: Path, run_ffmpeg: Callable[..., None]) -> None:
    source = tmp_path / "big.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=3", "-f", "lavfi", "-i",
               "sine=d=3", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
               "-shortest", str(source))  # fmt: skip
    dest = await make_proxy(source, tmp_path / "proxy.mp4", height=180)
    info = await inspect(dest)
    assert info.video is not None and info.audio is not None
    assert (info.video.width, info.video.height) == (320, 180)
    assert info.duration_s == pytest.approx(3.0, abs=0.1)


async def test_proxy_never_upscales(tmp_path: Path, spoken_take: tuple[Path, SynthTruth]) -> None:
    dest = await make_proxy(spoken_take[0], tmp_path / "proxy.mp4", height=720)
    assert await _size(dest) == ("h264", 320, 180)
