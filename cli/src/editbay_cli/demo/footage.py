"""Sample footage for the demo: three scenes of a cooking show, two or three takes each, made
with FFmpeg's flite voice. Some takes are clean, one has a false start (the first words, a
pause, then the whole line), some have long pauses, one stops before the scene's last line."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from editbay_common.media.synth import synth_take


@dataclass(frozen=True)
class SampleTake:
    scene: int
    take: int
    parts: Sequence[str | float]  # spoken lines and pauses (seconds)
    note: str

    @property
    def filename(self) -> str:
        return f"S{self.scene:02d}_T{self.take:02d}.mp4"


SCENES: dict[int, tuple[str, list[str]]] = {
    1: ("The kitchen", ["Welcome to the kitchen.", "Today we bake bread."]),
    2: ("The dough", ["First, mix the flour and the water.", "Then knead the dough well."]),
    3: ("The oven", ["Bake it for forty minutes.", "Enjoy your bread."]),
}


def script_text() -> str:
    blocks = [
        f"SCENE {number}: {heading}\n" + " ".join(lines)
        for number, (heading, lines) in SCENES.items()
    ]
    return "\n\n".join(blocks) + "\n"


def _lines(scene: int) -> list[str]:
    return SCENES[scene][1]


SAMPLE_TAKES: tuple[SampleTake, ...] = (
    SampleTake(1, 1, [0.6, _lines(1)[0], 0.4, _lines(1)[1], 0.6], "clean"),
    SampleTake(1, 2, [0.5, "Welcome to", 1.2, _lines(1)[0], 0.4, _lines(1)[1], 0.5], "false start"),
    SampleTake(2, 1, [1.5, _lines(2)[0], 2.5, _lines(2)[1], 1.5], "long pauses"),
    SampleTake(2, 2, [0.5, _lines(2)[0], 0.5], "stops early"),
    SampleTake(2, 3, [0.5, _lines(2)[0], 0.5, _lines(2)[1], 0.5], "clean"),
    SampleTake(3, 1, [0.5, _lines(3)[0], 0.5, _lines(3)[1], 0.6], "clean"),
    SampleTake(3, 2, [2.0, _lines(3)[0], 1.8, _lines(3)[1], 2.0], "long pauses"),
)

_COLOURS = {1: "0x305080", 2: "0x506030", 3: "0x703030"}


async def generate_footage(
    folder: Path,
    takes: Sequence[SampleTake] = SAMPLE_TAKES,
    *,
    on_done: Callable[[SampleTake], None] | None = None,
    size: tuple[int, int] = (320, 180),
) -> list[Path]:
    """Write each take into ``folder`` (kept from an earlier run when already there)."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    paths = []
    for take in takes:
        path = folder / take.filename
        if not await asyncio.to_thread(path.is_file):
            partial = folder / f".{take.filename}.partial.mp4"
            await synth_take(
                partial,
                take.parts,
                size=size,
                color=_COLOURS.get(take.scene, "0x404040"),
                label=f"Scene {take.scene} take {take.take}",
            )
            os.replace(partial, path)  # a run cut short never leaves half a file behind
        paths.append(path)
        if on_done is not None:
            on_done(take)
    return paths
