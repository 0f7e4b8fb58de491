"""Footage for the render tests: small synthetic takes generated once per session by FFmpeg."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from editbay_common.media.render import Preset

SMALL = Preset("test-small", 320, 180, fps=30, crf=23, x264_preset="veryfast", gop_s=1.0)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_take(
    dest: Path, *, size: str = "320x180", rate: int = 30, seconds: float = 6.0,
    gop: int = 30, audio: str | None = "sine=f=440:r=48000", pattern: str = "testsrc2",
) -> Path:  # fmt: skip
    args = ["-f", "lavfi", "-i", f"{pattern}=s={size}:r={rate}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-t", str(seconds), "-i", audio]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-g", str(gop), "-pix_fmt", "yuv420p",
             "-profile:v", "high", "-bf", "2"]  # fmt: skip
    if audio:
        args += ["-c:a", "aac", "-ar", "48000", "-ac", "2"]
    ffmpeg(*args, str(dest))
    return dest


def probe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
         str(path)], capture_output=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def stream(info: dict, kind: str) -> dict:
    return next(s for s in info["streams"] if s["codec_type"] == kind)


@pytest.fixture(scope="session")
def footage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("render-footage")
    # speech-like: 1 s of tone, 1 s of silence, repeated (ducking needs speech and gaps)
    bursty = "aevalsrc='if(lt(mod(t\\,2)\\,1)\\,0.5*sin(2*PI*300*t)\\,0)':s=48000:c=stereo"
    takes = {
        "a": make_take(root / "a.mp4"),
        "b": make_take(root / "b.mp4", pattern="testsrc", audio="sine=f=660:r=48000"),
        "wide43": make_take(root / "wide43.mp4", size="240x180", rate=25, audio=None),
        "tall916": make_take(root / "tall916.mp4", size="180x320", rate=24, seconds=4),
        "speech": make_take(root / "speech.mp4", seconds=8, audio=bursty),
        "music": make_take(root / "music.mp4", seconds=5, audio="anoisesrc=c=pink:r=48000:a=0.3"),
    }
    ffmpeg("-f", "lavfi", "-i", "color=c=red@0.8:s=64x64,format=rgba", "-frames:v", "1",
           str(root / "logo.png"))  # fmt: skip
    takes["logo"] = root / "logo.png"
    return takes


@pytest.fixture
def small() -> Preset:
    return SMALL


class MediaTools:
    """Helpers handed to tests as a fixture (test modules cannot import conftest by name)."""

    probe = staticmethod(probe)
    stream = staticmethod(stream)
    ffmpeg = staticmethod(ffmpeg)
    make_take = staticmethod(make_take)

    @staticmethod
    def gray_frame(path: Path, at_s: float, width: int, height: int) -> np.ndarray:
        raw = subprocess.run(
            ["ffmpeg", "-v", "error", "-ss", f"{at_s}", "-i", str(path), "-frames:v", "1",
             "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True,
        ).stdout  # fmt: skip
        return np.frombuffer(raw, np.uint8).reshape(height, width)


@pytest.fixture(scope="session")
def mt() -> type[MediaTools]:
    return MediaTools
