"""Editing-style measurements: pure functions over cut times, shot lengths and loudness.

A video's style is its cut rhythm (cuts per minute, shot-length distribution) and its loudness.
A show's profile pools the shot lengths of all its analysed reference videos, so a long video
weighs more than a short one, as it shows more of the style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class VideoStyle:
    duration_s: float
    cut_times_s: list[float] = field(default_factory=list)
    shot_lengths_s: list[float] = field(default_factory=list)
    cuts_per_minute: float = 0.0
    mean_shot_s: float = 0.0
    median_shot_s: float = 0.0
    p10_shot_s: float = 0.0
    p90_shot_s: float = 0.0
    integrated_lufs: float = 0.0
    loudness_range_lu: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> VideoStyle:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def measure(
    duration_s: float,
    cut_times_s: Sequence[float],
    shot_lengths_s: Sequence[float],
    integrated_lufs: float,
    loudness_range_lu: float,
) -> VideoStyle:
    """The style of one video."""
    lengths = np.asarray(shot_lengths_s, dtype=float)
    minutes = duration_s / 60.0
    return VideoStyle(
        duration_s=round(duration_s, 3),
        cut_times_s=[round(t, 3) for t in cut_times_s],
        shot_lengths_s=[round(x, 3) for x in shot_lengths_s],
        cuts_per_minute=round(len(cut_times_s) / minutes, 3) if minutes > 0 else 0.0,
        **_distribution(lengths),
        integrated_lufs=round(integrated_lufs, 2),
        loudness_range_lu=round(loudness_range_lu, 2),
    )


def pool(styles: Sequence[VideoStyle]) -> VideoStyle:
    """One style for several videos: shot lengths pooled, loudness weighted by duration."""
    if not styles:
        raise ValueError("no styles to pool")
    duration = sum(s.duration_s for s in styles)
    cuts = sum(len(s.cut_times_s) for s in styles)
    lengths = np.concatenate([np.asarray(s.shot_lengths_s, dtype=float) for s in styles])
    weights = np.asarray([s.duration_s for s in styles]) if duration > 0 else None
    return VideoStyle(
        duration_s=round(duration, 3),
        cut_times_s=[],
        shot_lengths_s=[],
        cuts_per_minute=round(cuts / (duration / 60.0), 3) if duration > 0 else 0.0,
        **_distribution(lengths),
        integrated_lufs=round(
            float(np.average([s.integrated_lufs for s in styles], weights=weights)), 2
        ),
        loudness_range_lu=round(
            float(np.average([s.loudness_range_lu for s in styles], weights=weights)), 2
        ),
    )


def _distribution(lengths: np.ndarray) -> dict[str, float]:
    if lengths.size == 0:
        return {"mean_shot_s": 0.0, "median_shot_s": 0.0, "p10_shot_s": 0.0, "p90_shot_s": 0.0}
    p10, median, p90 = np.percentile(lengths, [10, 50, 90])
    return {
        "mean_shot_s": round(float(lengths.mean()), 3),
        "median_shot_s": round(float(median), 3),
        "p10_shot_s": round(float(p10), 3),
        "p90_shot_s": round(float(p90), 3),
    }
