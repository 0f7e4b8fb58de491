"""Silence maps against generated takes whose speech intervals are known."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from editbay_common.media.probe import inspect
from editbay_common.media.silence import (
    SilenceMap,
    map_from_levels,
    pad_runs,
    remove_short_runs,
    silence_map,
)
from editbay_common.media.synth import SynthTruth, synth_shots

TOLERANCE_S = 0.1


def _merge_close(truth: SynthTruth, min_pause_s: float) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for interval in truth.speech:
        if merged and interval.start_s - merged[-1][1] < min_pause_s:
            merged[-1][1] = interval.end_s
        else:
            merged.append([interval.start_s, interval.end_s])
    return [(a, b) for a, b in merged]


async def test_synth_take_is_valid_media(spoken_take: tuple[Path, SynthTruth]) -> None:
    path, truth = spoken_take
    info = await inspect(path)
    assert info.video is not None and info.audio is not None
    assert info.duration_s == pytest.approx(truth.duration_s, abs=0.1)
    assert len(truth.speech) == 4


async def test_speech_within_tolerance_of_truth(spoken_take: tuple[Path, SynthTruth]) -> None:
    path, truth = spoken_take
    result = await silence_map(path)
    # The 0.25 s gap between the last two lines is shorter than min_pause_s: one interval.
    expected = _merge_close(truth, 0.3)
    assert len(result.speech) == len(expected) == 3
    for found, (start, end) in zip(result.speech, expected, strict=True):
        assert found.start_s == pytest.approx(start, abs=TOLERANCE_S)
        assert found.end_s == pytest.approx(end, abs=TOLERANCE_S)


async def test_pauses_complement_speech(spoken_take: tuple[Path, SynthTruth]) -> None:
    path, truth = spoken_take
    result = await silence_map(path)
    edges = sorted([*result.speech, *result.pauses], key=lambda i: i.start_s)
    assert edges[0].start_s == 0.0
    assert edges[-1].end_s == pytest.approx(result.duration_s)
    for before, after in itertools.pairwise(edges):
        assert before.end_s == pytest.approx(after.start_s)
    # The first pause is the lead-in silence of the take.
    assert result.pauses[0].end_s == pytest.approx(truth.speech[0].start_s, abs=TOLERANCE_S)


async def test_min_pause_is_configurable(spoken_take: tuple[Path, SynthTruth]) -> None:
    path, truth = spoken_take
    result = await silence_map(path, min_pause_s=0.2, margin_s=0.0)
    assert len(result.speech) == 4
    for found, interval in zip(result.speech, truth.speech, strict=True):
        assert found.start_s == pytest.approx(interval.start_s, abs=TOLERANCE_S)
        assert found.end_s == pytest.approx(interval.end_s, abs=TOLERANCE_S)


async def test_margin_pads_speech_on_both_sides(spoken_take: tuple[Path, SynthTruth]) -> None:
    path, _ = spoken_take
    tight = await silence_map(path, margin_s=0.0)
    padded = await silence_map(path, margin_s=0.05)
    assert len(tight.speech) == len(padded.speech)
    for a, b in zip(tight.speech, padded.speech, strict=True):
        assert b.start_s == pytest.approx(max(0.0, a.start_s - 0.05), abs=1e-6)
        assert b.end_s == pytest.approx(a.end_s + 0.05, abs=1e-6)


async def test_threshold_is_configurable(spoken_take: tuple[Path, SynthTruth]) -> None:
    path, _ = spoken_take
    assert (await silence_map(path, threshold_db=0.0)).speech == []


async def test_round_trips_through_dict(spoken_take: tuple[Path, SynthTruth]) -> None:
    result = await silence_map(spoken_take[0])
    assert SilenceMap.from_dict(result.to_dict()) == result


def test_short_blips_and_short_pauses_are_smoothed() -> None:
    levels = np.full(200, -80.0)
    levels[20:25] = -10.0  # a 50 ms click: not speech
    levels[50:100] = -10.0
    levels[110:160] = -10.0  # 100 ms gap between two phrases: a breath
    result = map_from_levels(levels, duration_s=2.0, margin_s=0.05)
    assert [(i.start_s, i.end_s) for i in result.speech] == [(0.45, 1.65)]
    assert [(i.start_s, i.end_s) for i in result.pauses] == [(0.0, 0.45), (1.65, 2.0)]


def test_run_helpers() -> None:
    mask = np.array([0, 1, 1, 0, 0, 0, 1, 0], dtype=bool)
    assert remove_short_runs(mask, True, 2).tolist() == [0, 1, 1, 0, 0, 0, 0, 0]
    assert remove_short_runs(mask, False, 2, keep_edges=True).tolist() == [0, 1, 1, 0, 0, 0, 1, 0]
    assert pad_runs(mask, 1).tolist() == [1, 1, 1, 1, 0, 1, 1, 1]


async def test_video_without_audio_has_no_speech(tmp_path: Path) -> None:
    path = tmp_path / "mute.mp4"
    await synth_shots(path, [1.0], size=(64, 36), with_audio=False)
    result = await silence_map(path)
    assert result.speech == [] and result.pauses == []
