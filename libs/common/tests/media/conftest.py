"""Footage for the media tests, made once per session with FFmpeg (small and short)."""

from __future__ import annotations

import asyncio
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from editbay_common.media.synth import SynthTruth, synth_shots, synth_take


def ffmpeg(*args: str) -> None:
    """Run FFmpeg synchronously (fixtures only) and fail loudly."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def run_ffmpeg() -> Callable[..., None]:
    """The synchronous FFmpeg runner, for tests that craft their own inputs."""
    return ffmpeg


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def faststart_mp4(media_dir: Path) -> Path:
    """A 4 s 320x180 H.264/AAC MP4 with its index at the front."""
    path = media_dir / "faststart.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4",
        "-f", "lavfi", "-i", "sine=f=440:d=4",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
        "-movflags", "+faststart", "-shortest", str(path),
    )  # fmt: skip
    return path


TAKE_PARTS: list[str | float] = [
    0.7,
    "Hello there and welcome back to the show.",
    1.0,
    "Today we look at editing.",
    0.6,
    "Let us begin.",
    0.25,
    "Right now.",
    1.1,
]


@pytest.fixture(scope="session")
def spoken_take(media_dir: Path) -> tuple[Path, SynthTruth]:
    path = media_dir / "take.mp4"
    truth = asyncio.run(synth_take(path, TAKE_PARTS, label="S01 T01"))
    return path, truth


SHOT_LENGTHS = [3.0, 4.2, 2.6, 5.0, 3.4, 6.0, 2.2, 4.8, 3.8, 5.6, 2.9, 4.4, 3.1]


@pytest.fixture(scope="session")
def shots_video(media_dir: Path) -> tuple[Path, SynthTruth]:
    """About 50 s with 12 hard cuts, 160x90: the short version of the shots benchmark."""
    path = media_dir / "shots.mp4"
    truth = asyncio.run(synth_shots(path, SHOT_LENGTHS, size=(160, 90), with_audio=True))
    return path, truth


@pytest.fixture(scope="session")
def lying_mkv(media_dir: Path) -> Path:
    """20 s of 25 fps H.264 (500 frames) whose Matroska header says 1 s: the Segment Info's
    Duration (EBML id 0x4489, an 8-byte float in milliseconds at FFmpeg's default timecode
    scale) is rewritten."""
    path = media_dir / "lying.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=20", "-c:v", "libx264",
           "-preset", "ultrafast", str(path))  # fmt: skip
    data = bytearray(path.read_bytes())
    at = data.find(b"\x44\x89\x88")
    assert at > 0
    data[at + 3 : at + 11] = struct.pack(">d", 1000.0)
    path.write_bytes(bytes(data))
    return path
