"""Thumbnails, contact sheets and proxies: the sizes asked for, the frames asked for, and a
proxy that players can scrub and start before it has all arrived."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from editbay_common.media.probe import inspect, probe
from editbay_common.media.synth import SynthTruth
from editbay_common.media.thumbnails import contact_sheet, make_previews, make_proxy, thumbnail


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


# One flat colour a second (RGB), for a video whose frames tell the time they are shown at.
COLOURS = [
    (200, 40, 40),
    (40, 200, 40),
    (40, 40, 200),
    (220, 220, 40),
    (40, 200, 200),
    (90, 90, 90),
]


def _rgb(path: Path, at_s: float | None = None) -> np.ndarray:
    """A picture (a video's frame at ``at_s``) decoded by FFmpeg to RGB: height x width x 3."""
    seek = ["-ss", f"{at_s}"] if at_s is not None else []
    args = ["ffmpeg", "-v", "error", *seek, "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
            "-pix_fmt", "rgb24", "-"]  # fmt: skip
    raw = subprocess.run(args, capture_output=True, check=True).stdout
    width, height = _picture_size(path)
    return np.frombuffer(raw, np.uint8).reshape(height, width, 3).astype(int)


def _picture_size(path: Path) -> tuple[int, int]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    width, height = out.strip().split(",")[:2]
    return int(width), int(height)


@pytest.fixture(scope="module")
def colour_clock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six seconds at 25 fps, a flat colour each second (``COLOURS``), a keyframe every 2 s: a
    frame's colour says which second it is from, and a seek must decode past a keyframe."""
    path = tmp_path_factory.mktemp("thumbs") / "clock.mp4"
    inputs = []
    for r, g, b in COLOURS:
        inputs += ["-f", "lavfi", "-i", f"color=c=0x{r:02x}{g:02x}{b:02x}:s=160x90:r=25:d=1"]
    joined = "".join(f"[{i}:v]" for i in range(len(COLOURS))) + f"concat=n={len(COLOURS)}"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", joined,
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-sc_threshold", "0",
                    "-pix_fmt", "yuv420p", str(path)], check=True)  # fmt: skip
    assert _keyframe_times(path) == [0.0, 2.0, 4.0]
    return path


def _second_shown(picture: np.ndarray) -> int:
    """Which of ``COLOURS`` a picture is (it must be close to one)."""
    mean = picture.reshape(-1, 3).mean(axis=0)
    distances = [float(np.abs(mean - np.array(c)).max()) for c in COLOURS]
    assert min(distances) < 16, f"{mean} is none of the colours"
    return int(np.argmin(distances))


@pytest.mark.parametrize("at_s", [0.5, 1.96, 2.0, 2.04, 3.5, 4.96, 5.0])
async def test_thumbnail_is_the_frame_at_its_time(tmp_path: Path, colour_clock: Path,
                                                  at_s: float) -> None:  # fmt: skip
    # keyframes are at 0, 2 and 4 s only: a seek that stopped at one would show the wrong second
    # for 1.96, 3.5, 4.96 and 5.0
    dest = await thumbnail(colour_clock, at_s, tmp_path / "t.jpg", width=160)
    assert _second_shown(_rgb(dest)) == int(at_s + 1e-6)


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


async def test_contact_sheet_tiles_are_the_frames_spread_over_the_video(
    tmp_path: Path, shots_video: tuple[Path, SynthTruth]
) -> None:
    path, truth = shots_video
    dest = await contact_sheet(path, tmp_path / "sheet.jpg", columns=4, rows=3, width=640)
    _check_tiles(dest, path, truth)


async def test_previews_make_the_proxy_and_the_sheet_in_one_run(
    tmp_path: Path, shots_video: tuple[Path, SynthTruth]
) -> None:
    path, truth = shots_video
    proxy, sheet = await make_previews(path, tmp_path / "proxy.mp4", tmp_path / "sheet.jpg",
                                       columns=4, rows=3, width=640)  # fmt: skip
    _check_tiles(sheet, path, truth)  # the frames picked from the decoded stream are right
    info = await inspect(proxy)
    assert info.video is not None and (info.video.width, info.video.height) == (160, 90)
    assert info.duration_s == pytest.approx(truth.duration_s, abs=0.1)
    keyframes = _keyframe_times(proxy)
    assert len(keyframes) >= int(truth.duration_s) and max(np.diff(keyframes)) <= 1.05
    boxes = _top_level_boxes(proxy)
    assert boxes.index("moov") < boxes.index("mdat")


def _check_tiles(dest: Path, path: Path, truth: SynthTruth) -> None:
    """The sheet's 4x3 tiles of 160x90 are the frames spread over the video, in order."""
    sheet = _rgb(dest)
    tiles = [
        sheet[r * 90 : (r + 1) * 90, c * 160 : (c + 1) * 160] for r in range(3) for c in range(4)
    ]
    times = [(i + 0.5) * truth.duration_s / 12 for i in range(12)]
    # each tile is its moment's frame (the source is 160x90 too): nearer to it than to any other
    frames = [_rgb(path, t) for t in times]
    for i, tile in enumerate(tiles):
        gaps = [float(np.abs(tile - frame).mean()) for frame in frames]
        assert int(np.argmin(gaps)) == i or gaps[i] < 4, (i, gaps)
    # and tiles from different shots differ from one another
    shot = [int(np.searchsorted(truth.cuts, t)) for t in times]
    assert len(set(shot)) >= 10
    for i in range(12):
        for j in range(i + 1, 12):
            if shot[i] != shot[j]:
                assert float(np.abs(tiles[i] - tiles[j]).mean()) > 10, (i, j)


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
    # a keyframe every second (the source has one only at its start), to scrub by
    assert _keyframe_times(dest) == pytest.approx([0.0, 1.0, 2.0], abs=1 / 25 + 1e-6)
    assert _keyframe_times(source) == [0.0]
    # faststart: the index (moov) comes before the media data (mdat), at the top level
    boxes = _top_level_boxes(dest)
    assert "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat")


def _keyframe_times(path: Path) -> list[float]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "packet=pts_time,flags", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    rows = [line.split(",") for line in out.splitlines() if line.strip()]
    return sorted(round(float(pts), 3) for pts, flags, *_ in rows if flags.startswith("K"))


def _top_level_boxes(path: Path) -> list[str]:
    """The types of an MP4's top-level boxes, in file order."""
    data = path.read_bytes()
    boxes, at = [], 0
    while at + 8 <= len(data):
        size, kind = (
            int.from_bytes(data[at : at + 4], "big"),
            data[at + 4 : at + 8].decode("latin-1"),
        )
        if size == 1:  # a 64-bit size follows the type
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        elif size == 0:  # to the end of the file
            size = len(data) - at
        assert size >= 8, f"bad box size at {at}"
        boxes.append(kind)
        at += size
    assert at == len(data)
    return boxes


async def test_proxy_never_upscales(tmp_path: Path, spoken_take: tuple[Path, SynthTruth]) -> None:
    dest = await make_proxy(spoken_take[0], tmp_path / "proxy.mp4", height=720)
    assert await _size(dest) == ("h264", 320, 180)
