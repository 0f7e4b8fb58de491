"""Shot detection against a generated video whose cuts are known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from editbay_common.media.probe import decode_bound_s, probe
from editbay_common.media.shots import (
    _decode_range,
    _parts_meet,
    _ranges,
    cut_frames,
    decode_small_yuv,
    detect_shots,
    frame_differences,
    shot_lengths,
)
from editbay_common.media.synth import SynthTruth, synth_shots


def f1_score(truth: list[float], found: list[float], tolerance_s: float) -> float:
    """F1 of found cuts against true cuts, each truth matched at most once."""
    unmatched = list(found)
    hits = 0
    for cut in truth:
        near = [f for f in unmatched if abs(f - cut) <= tolerance_s]
        if near:
            unmatched.remove(min(near, key=lambda f: abs(f - cut)))
            hits += 1
    if not truth or not found or not hits:
        return 0.0
    precision, recall = hits / len(found), hits / len(truth)
    return 2 * precision * recall / (precision + recall)


async def test_f1_on_generated_cuts(shots_video: tuple[Path, SynthTruth]) -> None:
    path, truth = shots_video
    assert len(truth.cuts) == 12
    found = await detect_shots(path)
    assert found == sorted(found)
    assert f1_score(truth.cuts, found, tolerance_s=2 / 25) >= 0.98


async def test_f1_at_the_benchmarks_size(tmp_path: Path) -> None:
    """Five minutes with 60 hard cuts between unlike shots (as in the shots benchmark, at a small
    picture size so that it is quick to make): found within two frames, F1 at least 0.98."""
    rng = np.random.default_rng(60)
    raw = rng.uniform(2.0, 8.0, 61)
    lengths = (raw * 300.0 / raw.sum()).tolist()
    path = tmp_path / "five-minutes.mp4"
    truth = await synth_shots(path, lengths, size=(160, 90), with_audio=False)
    assert len(truth.cuts) == 60 and truth.duration_s == pytest.approx(300.0, abs=0.1)
    found = await detect_shots(path)
    assert f1_score(truth.cuts, found, tolerance_s=2 / 25) >= 0.98


async def test_shot_lengths_match_the_generated_ones(shots_video: tuple[Path, SynthTruth]) -> None:
    path, truth = shots_video
    lengths = shot_lengths(await detect_shots(path), truth.duration_s)
    expected = shot_lengths(truth.cuts, truth.duration_s)
    assert len(lengths) == len(expected)
    assert np.allclose(lengths, expected, atol=2 / 25)


async def test_video_without_cuts(tmp_path: Path) -> None:
    path = tmp_path / "one.mp4"
    truth = await synth_shots(path, [4.0], size=(160, 90), with_audio=False)
    assert truth.cuts == []
    assert await detect_shots(path) == []


def test_shot_lengths_cover_the_duration() -> None:
    assert shot_lengths([2.0, 5.0], 9.0) == [2.0, 3.0, 4.0]
    assert shot_lengths([], 3.5) == [3.5]
    assert shot_lengths([0.0, 3.5, 9.0], 3.5) == [3.5]


def test_motion_is_not_a_cut_but_a_jump_is() -> None:
    rng = np.random.default_rng(3)
    diffs = 10 + 8 * rng.random(200)  # busy motion: every difference is above the floor
    diffs[0] = 0
    diffs[120] = 90.0
    times = np.arange(200) / 25
    assert cut_frames(diffs, times, threshold=5.0) == [120]


def test_min_shot_length_keeps_the_stronger_cut() -> None:
    diffs = np.zeros(100)
    diffs[40], diffs[45] = 50.0, 80.0
    times = np.arange(100) / 25
    assert cut_frames(diffs, times, min_shot_s=0.4, window=2) == [45]
    assert cut_frames(diffs, times, min_shot_s=0.1, window=2) == [40, 45]


def test_frame_differences() -> None:
    frames = np.zeros((3, 2, 2), dtype=np.uint8)
    frames[2] = 255
    assert frame_differences(frames).tolist() == pytest.approx([0.0, 0.0, 255.0])


async def test_cut_between_colours_of_equal_brightness(tmp_path) -> None:
    """Two flat colours with the same brightness (luma) but different hue: a cut all the same."""
    from editbay_common.media.process import ffmpeg_base_args, run

    path = tmp_path / "colours.mp4"
    # BT.601 luma of both is about 112: a red-ish and a green-ish grey of equal brightness.
    await run([
        *ffmpeg_base_args(),
        "-f", "lavfi", "-i", "color=c=0xb06060:s=160x90:r=25:d=2",
        "-f", "lavfi", "-i", "color=c=0x5a7a5a:s=160x90:r=25:d=2",
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0,format=yuv420p",
        "-c:v", "libx264", "-preset", "veryfast", str(path),
    ])  # fmt: skip
    cuts = await detect_shots(path)
    assert len(cuts) == 1
    assert abs(cuts[0] - 2.0) <= 2 / 25


async def test_decoding_in_parts_gives_every_frame_once(shots_video, tmp_path) -> None:
    """Parts decoded side by side meet exactly: the same frames, pixels and times as one piece,
    and the detector finds the same cuts; a file without an index is decoded in one piece."""
    path, truth = shots_video
    (y, u, v), times = await decode_small_yuv(path, parts=1)
    assert len(times) == round(truth.duration_s * 25)
    for parts in (2, 3):
        (py, pu, pv), ptimes = await decode_small_yuv(path, parts=parts)
        assert np.array_equal(ptimes, times)
        assert all(np.array_equal(a, b) for a, b in ((py, y), (pu, u), (pv, v)))
        # each part on its own (not the one-piece fallback): they meet without gap or overlap
        pieces = [
            await _decode_range(path, 64, 36, r, True, 60.0) for r in await _ranges(path, parts)
        ]
        joined = np.concatenate([t for _, t in pieces])
        assert np.array_equal(joined - joined[0], times) and all(len(f) for f, _ in pieces)
    assert len(await _ranges(path, None)) >= 1
    # the parts cover the file; the last stops a little past its declared end
    info = await probe(path, keyframe_interval=False)
    ranges = await _ranges(path, 3)
    third = info.duration_s / 3
    assert [start for start, _ in ranges] == pytest.approx([0.0, third, 2 * third])
    assert [length for _, length in ranges[:2]] == pytest.approx([third, third])
    assert sum(ranges[-1]) == pytest.approx(decode_bound_s(info.duration_s))
    ts = tmp_path / "shots.ts"
    from editbay_common.media.process import ffmpeg_base_args, run

    await run([*ffmpeg_base_args(), "-i", str(path), "-c", "copy", "-f", "mpegts", str(ts)])
    ts_info = await probe(ts, keyframe_interval=False)
    # no index: seeks are not exact
    assert await _ranges(ts, None) == [(0.0, decode_bound_s(ts_info.duration_s))]


def test_parts_that_do_not_meet_are_noticed() -> None:
    times = np.arange(10) / 25
    assert _parts_meet(times, [4, 6])
    assert not _parts_meet(np.delete(times, 4), [4, 5])  # a frame missing at the join
    assert not _parts_meet(np.insert(times, 4, times[3]), [5, 6])  # one frame twice
    assert not _parts_meet(times, [0, 10])  # a part without frames
