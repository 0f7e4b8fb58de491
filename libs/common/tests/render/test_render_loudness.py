"""Linear loudness normalisation: the measuring pass, the gain plan, and every render path."""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import pytest

from editbay_common.media.render import Segment, Timeline, render
from editbay_common.media.render.chunks import render_chunked
from editbay_common.media.render.loudness import (
    MEASURE_FILTER,
    Loudness,
    measure,
    parse_summary,
    plan_gain,
)


def ebur128(path: Path, peak: str = "true") -> tuple[float, float]:
    """Integrated loudness and (true) peak of a file, measured independently of the engine."""
    err = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-vn", "-af",
         f"ebur128=peak={peak}", "-f", "null", "-"], capture_output=True, text=True,
    ).stderr  # fmt: skip
    lufs = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])
    peak = float(re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", err)[-1])
    return lufs, peak


@pytest.fixture(scope="session")
def peaky(footage, mt, tmp_path_factory) -> Path:
    """A quiet tone with short near-full-scale clicks (a small part of its loudness, as peaks in
    real programmes are): bringing it to -14 LUFS needs the limiter."""
    dest = tmp_path_factory.mktemp("loudness") / "peaky.mp4"
    clicks = (
        "aevalsrc='0.08*sin(2*PI*440*t)+if(lt(mod(t\\,1)\\,0.0005)\\,0.95\\,0)':s=48000:c=stereo"
    )
    return mt.make_take(dest, seconds=4, audio=clicks)


async def test_measure_reads_the_same_summary_as_ffmpeg(footage):
    args = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i",
            str(footage["speech"]), "-vn", "-af", MEASURE_FILTER, "-f", "null", "-"]  # fmt: skip
    measured = await measure(args)
    lufs, peak = ebur128(footage["speech"], peak="sample")
    assert measured == Loudness(lufs, peak)


def test_parse_summary_takes_the_last_summary_and_rejects_none():
    one = "  Integrated loudness:\n    I:         -20.5 LUFS\n  True peak:\n    Peak:   -3.1 dBFS\n"
    two = one.replace("-20.5", "-18.0").replace("-3.1", "-inf")
    assert parse_summary(one + two) == Loudness(-18.0, -math.inf)
    with pytest.raises(RuntimeError):
        parse_summary("no summary here")


def test_gain_plan():
    quiet = plan_gain(Loudness(-24.0, -13.0), -14.0)
    assert quiet.gain_db == pytest.approx(10.0) and quiet.limit_dbfs is None
    near = plan_gain(Loudness(-24.0, -12.0), -14.0)  # -2 dBFS after the gain: too near -1.5 dBTP
    assert near.gain_db == pytest.approx(10.0) and near.limit_dbfs is not None
    assert near.limit_dbfs < -1.5 and "alimiter" in near.filter_string()
    loud = plan_gain(Loudness(-8.0, -0.5), -14.0)  # turning down never needs a limiter
    assert loud.gain_db == pytest.approx(-6.0) and loud.limit_dbfs is None
    assert plan_gain(Loudness(-70.0, -80.0), -14.0).filter_string() == "anull"  # silence


async def test_full_render_lands_on_target(footage, small, tmp_path):
    tl = Timeline((Segment(footage["speech"], 0.0, 7.5),))
    before, _ = ebur128(footage["speech"])
    assert abs(before - small.loudness_lufs) > 2  # the source is not already on target
    result = await render(tl, small, tmp_path / "speech.mp4", allow_smart=False)
    lufs, peak = ebur128(result.path)
    assert abs(lufs - small.loudness_lufs) < 0.5
    assert peak <= -1.0


async def test_limiter_keeps_peaks_under_the_ceiling(peaky, small, tmp_path):
    lufs_in, peak_in = ebur128(peaky)
    assert peak_in + (small.loudness_lufs - lufs_in) > 0  # plain gain would clip
    result = await render(Timeline((Segment(peaky, 0.0, 3.5),)), small, tmp_path / "p.mp4",
                          allow_smart=False)  # fmt: skip
    lufs, peak = ebur128(result.path)
    assert peak <= -1.0  # ceiling -1.5 dBTP, with room for the AAC encoder's overshoot
    assert abs(lufs - small.loudness_lufs) < 0.5, (lufs, peak)


async def test_smart_and_chunked_paths_land_on_target(footage, small, tmp_path):
    tl = Timeline((Segment(footage["speech"], 0.4, 3.3), Segment(footage["speech"], 4.1, 7.6)))
    smart = await render(tl, small, tmp_path / "smart.mp4")
    assert smart.smart_path
    chunked = await render_chunked(tl, small, tmp_path / "chunked.mp4", 2)
    for path in (smart.path, chunked.path):
        lufs, peak = ebur128(path)
        assert abs(lufs - small.loudness_lufs) < 0.5, path.name
        assert peak <= -1.0
