"""Style measurement and pooling, on plain numbers."""

from __future__ import annotations

import pytest

from editbay_training.style import measure, pool


def test_measure_counts_cuts_and_shot_statistics():
    style = measure(60.0, [10.0, 20.0, 50.0], [10.0, 10.0, 30.0, 10.0], -16.0, 5.0)
    assert style.cuts_per_minute == 3.0
    assert style.mean_shot_s == 15.0
    assert style.median_shot_s == 10.0
    assert style.p90_shot_s == pytest.approx(24.0)
    assert style.integrated_lufs == -16.0


def test_pool_weighs_long_videos_more():
    short = measure(30.0, [15.0], [15.0, 15.0], -20.0, 4.0)
    long = measure(90.0, [30.0, 60.0], [30.0, 30.0, 30.0], -14.0, 6.0)
    pooled = pool([short, long])
    assert pooled.duration_s == 120.0
    assert pooled.cuts_per_minute == pytest.approx(1.5)
    assert pooled.integrated_lufs == pytest.approx(-15.5)
    assert pooled.median_shot_s == 30.0


def test_measure_without_cuts():
    style = measure(12.0, [], [12.0], -23.0, 1.0)
    assert style.cuts_per_minute == 0.0
    assert style.mean_shot_s == 12.0


def test_pool_needs_styles():
    with pytest.raises(ValueError):
        pool([])
