"""Normalised metadata: rotation, frame rate, keyframes, audio layout."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from editbay_common.media.probe import MediaInfo, inspect, probe


def _first_frame_gray(path: Path) -> np.ndarray:
    """The first frame as FFmpeg shows it (auto-rotated), 8-bit gray."""
    frame = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(frame, np.uint8)


async def test_plain_take(faststart_mp4: Path) -> None:
    info = await inspect(faststart_mp4)
    assert info.container.startswith("mov,mp4")
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", 320, 180)
    assert info.video.fps == pytest.approx(25.0)
    assert not info.video.variable_frame_rate
    assert info.video.rotation == 0
    assert info.video.frame_count == 100
    assert info.audio.codec == "aac"
    assert info.stream_count == 2


async def test_to_dict_is_json_and_round_trips(faststart_mp4: Path) -> None:
    info = await probe(faststart_mp4)
    text = json.dumps(info.to_dict())
    assert MediaInfo.from_dict(json.loads(text)) == info


async def test_rotation_matches_what_a_player_shows(
    tmp_path: Path, run_ffmpeg: Callable[..., None]
) -> None:
    # Left half white, right half black; then tag the stream as rotated.
    plain = tmp_path / "lr.mp4"
    run_ffmpeg("-f", "lavfi", "-i",
               "color=white:s=160x90:d=1,drawbox=x=80:y=0:w=80:h=90:c=black:t=fill",
               "-c:v", "libx264", "-preset", "ultrafast", str(plain))  # fmt: skip
    rotated = tmp_path / "rotated.mp4"
    run_ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))
    info = await probe(rotated)
    assert info.video is not None
    assert info.video.rotation in (90, 270)
    assert info.video.display_size == (90, 160)
    # FFmpeg's own auto-rotation is the reference: clockwise moves the left half to the top.
    shown = _first_frame_gray(rotated).reshape(160, 90)
    white_on_top = shown[:80].mean() > shown[80:].mean()
    assert info.video.rotation == (90 if white_on_top else 270)


async def test_variable_frame_rate(tmp_path: Path, run_ffmpeg: Callable[..., None]) -> None:
    path = tmp_path / "vfr.mp4"
    # 2 s at 25 fps, then 2 s at 10 fps.
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=4",
               "-vf", "setpts='if(lt(N,50),N/25,2+(N-50)/10)/TB'", "-frames:v", "70",
               "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast",
               str(path))  # fmt: skip
    info = await inspect(path)
    assert info.video is not None
    assert info.video.variable_frame_rate
    assert 10 < info.video.fps < 25


async def test_keyframe_interval(tmp_path: Path, run_ffmpeg: Callable[..., None]) -> None:
    path = tmp_path / "gop.mkv"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=6", "-c:v", "libx264",
               "-preset", "ultrafast", "-g", "50", "-sc_threshold", "0", str(path))  # fmt: skip
    info = await inspect(path)
    assert info.video is not None
    assert info.video.keyframe_interval_s == pytest.approx(2.0, abs=0.01)
    assert info.container == "matroska,webm"
    assert info.video.frame_count is None  # Matroska declares no frame count


async def test_audio_only_stereo(tmp_path: Path, run_ffmpeg: Callable[..., None]) -> None:
    path = tmp_path / "stereo.wav"
    run_ffmpeg("-f", "lavfi", "-i", "sine=d=2", "-ac", "2", "-ar", "44100", str(path))
    info = await inspect(path)
    assert info.video is None
    assert info.audio is not None
    assert (info.audio.channels, info.audio.sample_rate) == (2, 44100)
    assert info.duration_s == pytest.approx(2.0, abs=0.01)


async def test_cover_art_is_not_video(tmp_path: Path, run_ffmpeg: Callable[..., None]) -> None:
    cover = tmp_path / "cover.png"
    run_ffmpeg("-f", "lavfi", "-i", "color=red:s=64x64", "-frames:v", "1", str(cover))
    path = tmp_path / "song.mp3"
    run_ffmpeg("-f", "lavfi", "-i", "sine=d=2", "-i", str(cover), "-map", "0:a", "-map", "1:v",
               "-c:v", "png", "-disposition:v", "attached_pic", str(path))  # fmt: skip
    info = await probe(path)
    assert info.video is None
    assert info.audio is not None and info.audio.codec == "mp3"
