"""Loudness of tones of known level, and clipping."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from editbay_common.media.loudness import count_clipped, measure_loudness


@pytest.mark.parametrize("amplitude", [0.1, 0.5])
async def test_sine_loudness_is_predictable(
    tmp_path: Path, run_ffmpeg: Callable[..., None], amplitude: float
) -> None:
    path = tmp_path / "tone.wav"
    run_ffmpeg("-f", "lavfi", "-i", f"aevalsrc={amplitude}*sin(2*PI*1000*t):s=48000:d=5",
               "-c:a", "pcm_s16le", str(path))  # fmt: skip
    result = await measure_loudness(path)
    peak_db = 20 * math.log10(amplitude)
    # BS.1770: a full-scale 1 kHz sine reads -3.01 LUFS (K-weighting is ~0 dB at 1 kHz).
    assert result.integrated_lufs == pytest.approx(peak_db - 3.01, abs=1.0)
    assert result.true_peak_dbtp == pytest.approx(peak_db, abs=0.5)
    assert result.range_lu < 1.0
    assert not result.clipped


async def test_loudness_range_of_a_quiet_then_loud_programme(
    tmp_path: Path, run_ffmpeg: Callable[..., None]
) -> None:
    # 10 s at -29 LUFS, then 10 s at -9 LUFS (1 kHz tones of amplitude 0.05 and 0.5)
    path = tmp_path / "steps.wav"
    run_ffmpeg("-f", "lavfi", "-i",
               "aevalsrc=if(lt(t\\,10)\\,0.05\\,0.5)*sin(2*PI*1000*t):s=48000:d=20",
               "-c:a", "pcm_s16le", str(path))  # fmt: skip
    result = await measure_loudness(path)
    # EBU Tech 3342: the spread of short-term loudness (3 s windows) from its 10th to its 95th
    # percentile, gated 20 LU below the programme: both halves count, about 20 LU apart
    assert 17.0 < result.range_lu < 21.0
    # BS.1770 gates blocks 10 LU below the ungated mean (about -12 LUFS here): the quiet half
    # is left out of the integrated loudness, which is the loud half's
    assert result.integrated_lufs == pytest.approx(-9.03, abs=0.5)
    assert result.true_peak_dbtp == pytest.approx(20 * math.log10(0.5), abs=0.5)


async def test_clipped_tone_is_flagged(tmp_path: Path, run_ffmpeg: Callable[..., None]) -> None:
    path = tmp_path / "clipped.m4a"
    # Twice full scale, stored as 16-bit PCM first: a recording that clipped, then encoded.
    wav = tmp_path / "clipped.wav"
    run_ffmpeg("-f", "lavfi", "-i", "aevalsrc=2*sin(2*PI*220*t):s=48000:d=3",
               "-c:a", "pcm_s16le", str(wav))  # fmt: skip
    run_ffmpeg("-i", str(wav), "-c:a", "aac", str(path))
    result = await measure_loudness(path)
    assert result.clipped
    assert result.clipped_ratio > 0
    raw = await measure_loudness(wav)
    assert raw.clipped_ratio == pytest.approx(2 / 3, abs=0.02)  # |2 sin| > 1 two thirds of the time


async def test_silence_is_minus_infinity_and_json_safe(
    tmp_path: Path, run_ffmpeg: Callable[..., None]
) -> None:
    path = tmp_path / "silence.wav"
    run_ffmpeg("-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "2", str(path))
    result = await measure_loudness(path)
    assert result.integrated_lufs == -math.inf
    assert result.to_dict()["integrated_lufs"] is None
    assert not result.clipped


def test_a_clean_peak_touching_full_scale_is_not_clipping() -> None:
    t = np.arange(4800)
    tone = np.round(np.sin(2 * np.pi * 1000 * t / 48000) * 32767).astype(np.int16)
    assert (tone == 32767).any()
    assert count_clipped(tone.reshape(-1, 1)) == 0
    flat = tone.copy()
    flat[10:14] = 32767
    assert count_clipped(flat.reshape(-1, 1)) == 4
