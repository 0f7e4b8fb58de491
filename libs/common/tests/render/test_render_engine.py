"""The full re-encode path: lengths, streams, scale/pad, progress, real preset, cancellation."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from editbay_common.media.render import (
    Segment,
    Timeline,
    Transform,
    get_preset,
    render,
)
from editbay_common.media.render.engine import RenderInputError, partial_path
from editbay_common.media.render.graph import video_codec_args
from editbay_common.media.render.verify import strict_decode


async def test_plain_cuts_last_the_sum_of_segments(footage, small, tmp_path, mt):
    tl = Timeline((
        Segment(footage["a"], 0.5, 1.7),
        Segment(footage["b"], 2.0, 3.1),
        Segment(footage["a"], 4.0, 4.9),
    ))  # fmt: skip
    fractions: list[float] = []
    result = await render(tl, small, tmp_path / "out.mp4", on_progress=fractions.append,
                          allow_smart=False)  # fmt: skip
    info = mt.probe(result.path)
    video, audio = mt.stream(info, "video"), mt.stream(info, "audio")
    expected = 1.2 + 1.1 + 0.9
    assert abs(float(video["duration"]) - expected) <= 1 / small.fps + 1e-6
    assert int(video["nb_frames"]) == round(expected * small.fps) == result.frame_count
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (video["width"], video["height"]) == (320, 180)
    assert audio["codec_name"] == "aac" and int(audio["sample_rate"]) == 48000
    assert abs(float(audio["duration"]) - expected) < 0.06
    assert await strict_decode(result.path) == result.frame_count
    # faststart: the moov atom comes before the media data
    head = result.path.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)
    assert fractions and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert not partial_path(result.path).exists()


@pytest.mark.parametrize(("take", "bars"), [("wide43", "sides"), ("tall916", "sides")])
async def test_other_aspect_ratios_are_fitted_and_padded(footage, small, tmp_path, mt, take, bars):
    tl = Timeline((Segment(footage[take], 0.0, 1.0),))
    result = await render(tl, small, tmp_path / "fit.mp4")
    frame = mt.gray_frame(result.path, 0.5, small.width, small.height)
    src = mt.stream(mt.probe(footage[take]), "video")
    scaled_w = round(src["width"] * small.height / src["height"])
    bar = (small.width - scaled_w) // 2
    assert bar > 4
    assert frame[:, : bar - 2].max() <= 20 and frame[:, -(bar - 2) :].max() <= 20
    middle = frame[:, bar + 2 : small.width - bar - 2]
    assert middle.mean() > 40  # the picture itself is there, not black


async def test_transform_crop_and_flip(footage, small, tmp_path, mt):
    plain = await render(Timeline((Segment(footage["a"], 1.0, 1.5),)), small, tmp_path / "p.mp4",
                         allow_smart=False)  # fmt: skip
    flipped = Timeline((Segment(footage["a"], 1.0, 1.5, transform=Transform(hflip=True)),))
    flip = await render(flipped, small, tmp_path / "f.mp4")
    a = mt.gray_frame(plain.path, 0.2, 320, 180).astype(int)
    b = mt.gray_frame(flip.path, 0.2, 320, 180).astype(int)
    assert np.abs(a[:, ::-1] - b).mean() < np.abs(a - b).mean() / 3


async def test_speed_changes_length(footage, small, tmp_path, mt):
    tl = Timeline((Segment(footage["a"], 0.0, 2.0, speed=2.0), Segment(footage["b"], 0, 1, 0.5)))
    result = await render(tl, small, tmp_path / "speed.mp4")
    video = mt.stream(mt.probe(result.path), "video")
    assert int(video["nb_frames"]) == tl.frame_count(30) == 30 + 60


async def test_real_720p_preset(footage, tmp_path, mt):
    preset = get_preset("landscape-720p")
    tl = Timeline((Segment(footage["a"], 0.0, 0.6), Segment(footage["wide43"], 1.0, 1.5)))
    result = await render(tl, preset, tmp_path / "hd.mp4")
    video = mt.stream(mt.probe(result.path), "video")
    assert (video["width"], video["height"]) == (1280, 720)
    assert int(video["nb_frames"]) == tl.frame_count(preset.fps) == 33


def ffmpeg_children(pgid_hint: int | None = None) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid,pgid,comm"], capture_output=True, text=True)
    me = os.getpid()
    rows = [line.split() for line in out.stdout.splitlines()[1:]]
    return [int(r[0]) for r in rows if r[3] == "ffmpeg" and int(r[1]) == me]


async def test_cancel_kills_ffmpeg_and_removes_partial_output(footage, tmp_path, mt):
    preset = get_preset("landscape-1080p")
    long = Timeline(tuple(Segment(footage["speech"], 0, 7.9) for _ in range(6)))
    dest = tmp_path / "cancelled.mp4"
    started = asyncio.Event()
    task = asyncio.create_task(
        render(long, preset, dest, on_progress=lambda f: started.set(), allow_smart=False)
    )
    await asyncio.wait_for(started.wait(), 60)
    assert ffmpeg_children(), "FFmpeg should be running"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ffmpeg_children() == []
    assert not dest.exists() and not partial_path(dest).exists()


async def test_missing_source_is_an_error(small, tmp_path):
    tl = Timeline((Segment(tmp_path / "nope.mp4", 0, 1),))
    with pytest.raises(RenderInputError):
        await render(tl, small, tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


def test_presets_are_known():
    assert get_preset("square-1080").width == 1080
    with pytest.raises(KeyError, match="landscape-720p"):
        get_preset("nope")


def psnr_against(encoded: Path, source: Path) -> tuple[int, float]:
    """Frames compared and the average PSNR of ``encoded`` against ``source``."""
    log = subprocess.run(["ffmpeg", "-v", "info", "-nostats", "-i", str(encoded), "-i", str(source),
                          "-lavfi", "[0:v][1:v]psnr", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr  # fmt: skip
    frames = re.findall(r"frame=\s*(\d+)", log)
    return int(frames[-1]) if frames else 0, float(re.search(r"average:([\d.]+)", log).group(1))


def test_x264_lookahead_buffer_is_a_speed_setting_not_a_quality_one(footage, small, tmp_path):
    """The deeper sync-lookahead buffer changes no quality setting: both encodes have every frame
    and the same fidelity to the source; a single-threaded encode (a pinned worker) has none."""
    fidelity = []
    for deep in (True, False):
        args = video_codec_args(small, 6, deep_buffer=deep)
        assert ("sync-lookahead" in args["x264-params"]) is deep
        out = tmp_path / f"deep-{deep}.mp4"
        opts = [item for key, value in args.items() for item in (f"-{key}", str(value))]
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(footage["a"]), "-an", *opts, str(out)],
                       check=True)  # fmt: skip
        frames, psnr = psnr_against(out, footage["a"])
        assert frames == 180  # 6 s at 30 fps
        fidelity.append(psnr)
    assert fidelity[0] > 35 and abs(fidelity[0] - fidelity[1]) < 0.1
    assert "sync-lookahead" not in video_codec_args(small, 1)["x264-params"]
