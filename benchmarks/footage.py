"""Generated benchmark footage, cached between runs (it is slow to make and never committed)."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

from editbay_common.media.synth import SynthTruth, synth_shots

CACHE = Path(tempfile.gettempdir()) / "editbay-bench"


def cut_lengths(total_s: float, cuts: int, seed: int = 2024) -> list[float]:
    """``cuts + 1`` shot lengths between 2 and 8 s (before scaling) that add up to ``total_s``."""
    rng = random.Random(seed)
    raw = [rng.uniform(2.0, 8.0) for _ in range(cuts + 1)]
    scale = total_s / sum(raw)
    return [length * scale for length in raw]


async def shots_footage(
    total_s: float = 300.0, cuts: int = 60, size: tuple[int, int] = (640, 360), fps: int = 25
) -> tuple[Path, SynthTruth]:
    """The shot-detection benchmark video: ``cuts`` hard cuts between unlike shots."""
    CACHE.mkdir(parents=True, exist_ok=True)
    stem = f"shots-{total_s:g}s-{cuts}cuts-{size[0]}x{size[1]}-{fps}fps"
    video, truth_file = CACHE / f"{stem}.mp4", CACHE / f"{stem}.json"
    if video.exists() and truth_file.exists():
        data = json.loads(truth_file.read_text())
        return video, SynthTruth(duration_s=data["duration_s"], cuts=data["cuts"])
    partial = CACHE / f"{stem}.partial.mp4"
    truth = await synth_shots(partial, cut_lengths(total_s, cuts), size=size, fps=fps)
    partial.rename(video)
    truth_file.write_text(json.dumps({"duration_s": truth.duration_s, "cuts": truth.cuts}))
    return video, truth
