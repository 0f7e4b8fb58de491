"""The full re-encode reads runs of segments through one decoder (concat-demuxer listings)."""

from __future__ import annotations

import math
import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from editbay_common.media import process
from editbay_common.media.render import Segment, Timeline, Transition, render
from editbay_common.media.render.engine import load_sources
from editbay_common.media.render.reads import (
    SLOT_MARGIN_US,
    decoder_key,
    plan_runs,
    quote,
    read_past_us,
)
from editbay_common.media.render.sources import SourceInfo


def info(**fields: object) -> SourceInfo:
    base = SourceInfo(duration_s=60.0, has_audio=True, video_codec="h264", width=320, height=180,
                      pix_fmt="yuv420p", demuxer="mov", time_base="1/15360")  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


def test_runs_break_where_a_decoder_could_not_go_on(tmp_path):
    a, b, c, d = (tmp_path / f"{n}.mp4" for n in "abcd")
    infos = {
        a: info(extradata_hash="adler32:1"),
        b: info(extradata_hash="adler32:2"),  # other H.264 parameter sets: they travel in-band
        c: info(width=640, height=360),  # another picture size
        d: info(time_base="1/90000"),  # the demuxer would not rescale its timestamps
    }
    tl = Timeline((
        Segment(a, 1.0, 2.0), Segment(b, 0.5, 1.0), Segment(a, 3.0, 4.0),
        Segment(c, 0.0, 1.0), Segment(a, 0.0, 1.0), Segment(d, 0.0, 1.0),
        Segment(a, 5.0, 6.0), Segment(a, 7.0, 8.0, transition_in=Transition("crossfade", 0.5)),
    ))  # fmt: skip
    runs = plan_runs(tl, infos, 30)
    assert [[e.source for e in r.entries] for r in runs] == [[a, b, a], [c], [a], [d], [a], [a]]
    hevc = {k: replace(v, video_codec="hevc") for k, v in infos.items()}
    assert decoder_key(hevc[a]) != decoder_key(hevc[b])  # out-of-band setup must match
    assert decoder_key(infos[a]) == decoder_key(infos[b])
    assert decoder_key(info(rotation=90)) != decoder_key(info())


def test_no_frame_of_one_entry_reaches_another_window(tmp_path):
    """Entry k reads [inpoint, inpoint + read) and its frames from the keyframe before the
    in-point land before its slot, at most its in-point (the file's start) before it."""
    src = tmp_path / "a.mp4"
    tl = Timeline(tuple(Segment(src, start, start + 0.5) for start in (0.0, 40.0, 3.3, 59.0)))
    [run] = plan_runs(tl, {src: info(start_time_s=1.4)}, 30)
    for entry, after in zip(run.entries, run.entries[1:], strict=False):
        start, end = entry.window_s
        assert end - start == pytest.approx(0.5 + 0.2)
        earliest_frame_of_next = after.slot_us - (after.inpoint_us - 1_400_000)
        assert earliest_frame_of_next >= entry.slot_us + entry.read_us + SLOT_MARGIN_US
    assert run.entries[1].inpoint_us == 41_400_000  # in-points count from the file's start
    text = run.listing()
    assert text.startswith("ffconcat version 1.0\n")
    assert "inpoint 41.400000\noutpoint 42.100000\n" in text  # 0.2 s more than needed
    assert text.count("duration ") == 3


def test_entries_read_one_output_and_one_source_frame_past_their_out_point(tmp_path):
    """Past the out-point an entry reads only what the last output frame may take: the source
    frame nearest it. Where the frame rate is unknown or variable, 200 ms."""
    src = tmp_path / "a.mp4"
    at_30 = info(fps=Fraction(30))
    assert read_past_us(Segment(src, 1.0, 2.0), at_30, 30) == 66_667 + 1_000
    assert read_past_us(Segment(src, 1.0, 2.0, speed=2.0), at_30, 30) == 100_000 + 1_000
    assert read_past_us(Segment(src, 1.0, 2.0), info(fps=Fraction(24)), 60) == 58_333 + 1_000
    assert read_past_us(Segment(src, 1.0, 2.0), info(), 30) == 200_000
    vfr = info(fps=Fraction(30), variable_frame_rate=True)
    assert read_past_us(Segment(src, 1.0, 2.0), vfr, 30) == 200_000
    [run] = plan_runs(Timeline((Segment(src, 1.0, 2.0),)), {src: at_30}, 30)
    assert "inpoint 1.000000\noutpoint 2.067667\n" in run.listing()


def nearest_source_frames(got: np.ndarray, source: np.ndarray) -> list[int]:
    """For each frame of ``got``, the index of the source frame it is closest to."""
    flat = source.reshape(len(source), -1)
    return [int(((flat - frame.reshape(1, -1)) ** 2).mean(axis=1).argmin()) for frame in got]


async def test_out_points_inside_long_runs_of_b_frames_keep_their_last_frames(small, tmp_path, mt):
    """Eight B-frames between references: the reference shown after an out-point is decoded
    before the frames shown up to it. Every segment still ends on the frame before its
    out-point (each source frame is unlike its neighbours, so a frame held over would show)."""
    src = tmp_path / "bframes.mp4"
    unlike = "geq=lum='mod(N*53+X+Y\\,256)':cb=128:cr=128"
    mt.ffmpeg("-f", "lavfi", "-i", f"nullsrc=s=320x180:r=30:d=4,{unlike},format=yuv420p",
              "-c:v", "libx264", "-crf", "8", "-g", "60",
              "-x264-params", "bframes=8:b-adapt=0:b-pyramid=none:scenecut=0",
              "-pix_fmt", "yuv420p", str(src))  # fmt: skip
    # out-points on each position of a run of B-frames (frames 1-8, 10-17, ... are B-frames)
    segments = tuple(Segment(src, start / 30, end / 30) for start, end in
                     ((2, 12), (20, 25), (40, 47), (55, 64), (70, 79), (90, 98)))  # fmt: skip
    tl = Timeline(segments, normalize_loudness=False)
    out = await render(tl, small, tmp_path / "out.mp4", allow_smart=False)
    source = first_frames(src, 320, 180)
    expected = [i for start, end in ((2, 12), (20, 25), (40, 47), (55, 64), (70, 79), (90, 98))
                for i in range(start, end)]  # fmt: skip
    assert nearest_source_frames(first_frames(out.path, 320, 180), source) == expected


def test_unindexed_sources_are_read_from_before_their_start(tmp_path):
    """A seek to the very start of an MPEG-TS file can land on its second keyframe; reading from
    before its start finds the first."""
    src = tmp_path / "a.ts"
    [run] = plan_runs(Timeline((Segment(src, 0.4, 1.0),)), {src: info(seek_preroll_s=2.5)}, 30)
    [entry] = run.entries
    assert entry.inpoint_us == -2_100_000 and entry.lead_us == 2_500_000
    assert entry.window_s == pytest.approx((2.5, 2.5 + 0.6 + 0.2))


def test_listing_paths_are_quoted():
    assert quote("file:/a/it's here.mp4") == "'file:/a/it'\\''s here.mp4'"
    with pytest.raises(ValueError, match="line breaks"):
        quote("file:/a/b\nfile /etc/passwd")


def first_frames(path: Path, width: int, height: int) -> np.ndarray:
    args = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v", "-f", "rawvideo",
            "-pix_fmt", "gray", "-"]  # fmt: skip
    raw = subprocess.run(args, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width).astype(float)


async def test_runs_show_exactly_the_frames_the_edit_names(footage, small, tmp_path, mt):
    """Sources of other H.264 settings (no B-frames, CAVLC, 5 s keyframe interval) follow one
    another through one decoder; a source of another time base gets a run of its own; a segment
    that runs past its source's end repeats the last frame. Every output frame is the source
    frame the edit names (the first at or after the in-point), decoded without seeking."""
    a = footage["a"]  # 6 s, keyframe every second, B-frames
    cavlc = tmp_path / "cavlc.mp4"
    mt.ffmpeg("-f", "lavfi", "-i", "testsrc=s=320x180:r=30:d=6", "-c:v", "libx264", "-preset",
              "veryfast", "-bf", "0", "-g", "150", "-x264-params", "cabac=0:ref=2",
              "-pix_fmt", "yuv420p", "-profile:v", "high", str(cavlc))  # fmt: skip
    other_tb = tmp_path / "tb90k.mp4"
    mt.ffmpeg("-i", str(footage["b"]), "-c", "copy", "-video_track_timescale", "90000",
              str(other_tb))  # fmt: skip
    segments = (
        Segment(a, 0.5, 1.2),
        Segment(cavlc, 4.9, 5.3),  # 4.9 s after its only keyframe
        Segment(a, 2.0, 2.4),  # on a keyframe
        Segment(other_tb, 1.1, 1.6),
        Segment(a, 3.7, 4.1, transition_in=Transition("fade", 0.1)),
        Segment(cavlc, 0.0, 0.5),
        Segment(a, 5.7, 6.4),  # 0.4 s past the end of its source
    )
    tl = Timeline(segments)
    infos = await load_sources(tl)
    runs = plan_runs(tl, infos, 30)
    assert [len(r.entries) for r in runs] == [3, 1, 3]
    captured: list[list[str]] = []
    run = process.run

    async def spy(args, **kw):  # type: ignore[no-untyped-def]
        captured.append(list(args))
        return await run(args, **kw)

    process.run = spy  # type: ignore[assignment]
    try:
        full = await render(tl, small, tmp_path / "full.mp4", allow_smart=False)
    finally:
        process.run = run  # type: ignore[assignment]
    [picture] = [args for args in captured if "-copyts" in args]
    assert picture.count("concat") == len(runs) == picture.count("-i")

    sources = {s: first_frames(s, small.width, small.height) for s in (a, cavlc, other_tb)}
    expected = []
    for seg in segments:
        frames = sources[seg.source]
        first = math.ceil(seg.in_s * 30 - 1e-6)
        take = frames[first : first + seg.frames(30)]
        pad = seg.frames(30) - len(take)
        expected.append(np.concatenate([take, np.repeat(take[-1:], pad, axis=0)]))
    reference = np.concatenate(expected)
    got = first_frames(full.path, small.width, small.height)
    assert len(got) == len(reference) == tl.frame_count(30)
    faded = range(
        sum(s.frames(30) for s in segments[:4]), sum(s.frames(30) for s in segments[:4]) + 3
    )
    mse = ((got - reference) ** 2).mean(axis=(1, 2))
    psnr = 10 * np.log10(255**2 / np.maximum(mse, 1e-9))
    bad = [(f, round(p, 1)) for f, p in enumerate(psnr) if p < 35 and f not in faded]
    assert not bad, bad


async def test_only_indexed_containers_are_read_from_the_in_point(footage, tmp_path, mt):
    """MP4 and Matroska seeks land on the keyframe an in-point needs; other containers' may
    land later, so their sources are read from a pre-roll before it (as MPEG-TS always was)."""
    copies = {}
    for ext in ("mkv", "avi", "ts"):
        copies[ext] = tmp_path / f"a.{ext}"
        mt.ffmpeg("-i", str(footage["a"]), "-c", "copy", str(copies[ext]))
    tl = Timeline(tuple(Segment(p, 1.0, 2.0) for p in (footage["a"], *copies.values())))
    infos = await load_sources(tl)
    prerolls = {p.suffix: infos[p].seek_preroll_s for p in infos}
    assert prerolls[".mp4"] == prerolls[".mkv"] == 0.0
    assert prerolls[".avi"] >= 1.0 and prerolls[".ts"] >= 1.0  # keyframes every second
