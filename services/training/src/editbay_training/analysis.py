"""Analysing one reference video with the shared media core."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from editbay_common.media.loudness import measure_loudness
from editbay_common.media.probe import probe
from editbay_common.media.shots import detect_shots, shot_lengths
from editbay_training.style import VideoStyle, measure

Progress = Callable[[float], Awaitable[None]]


async def analyse_video(path: Path, on_progress: Progress) -> VideoStyle:
    """Shot boundaries, shot-length statistics, cuts per minute and loudness of one video."""
    info = await probe(path)
    await on_progress(10.0)
    # Shots (video decode) and loudness (audio decode) are independent: run them together.
    cuts, loudness = await asyncio.gather(
        detect_shots(path), measure_loudness(path) if info.audio else _no_loudness()
    )
    await on_progress(90.0)
    lengths = shot_lengths(cuts, info.duration_s)
    lufs, lra = (loudness.integrated_lufs, loudness.range_lu) if loudness else (0.0, 0.0)
    return measure(info.duration_s, cuts, lengths, lufs, lra)


async def _no_loudness() -> None:
    return None
