"""Sample takes with known ground truth for the cross-service tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from editbay_common.media.synth import SynthTruth, synth_take

SCRIPT = """SCENE 1: Opening
Welcome to the kitchen. Today we bake bread.

SCENE 2: Mixing
Mix the flour and the water. Then wait ten minutes.

SCENE 3: Closing
That is all for today. See you next week.
"""

# (file name, parts, is it the best take of its scene)
TAKES: list[tuple[str, list[str | float], bool]] = [
    (
        "S01_T01.mp4",
        [0.4, "Welcome to", 0.7, "Welcome to the kitchen. Today we bake bread.", 0.4],
        False,
    ),  # a false start
    ("S01_T02.mp4", [0.4, "Welcome to the kitchen. Today we bake bread.", 0.5], True),
    ("S02_T01.mp4", [0.3, "Mix the flour and the water.", 0.5], False),  # stops early
    ("S02_T02.mp4", [0.3, "Mix the flour and the water. Then wait ten minutes.", 0.4], True),
    ("S03_T01.mp4", [0.3, "That is all for today.", 2.0, "See you next week.", 0.4], False),
    ("S03_T02.mp4", [0.3, "That is all for today. See you next week.", 0.4], True),
]


@dataclass(frozen=True)
class Take:
    path: Path
    truth: SynthTruth
    best: bool

    @property
    def scene(self) -> int:
        return int(self.path.name[1:3])


async def make_takes(folder: Path) -> list[Take]:
    folder.mkdir(parents=True, exist_ok=True)
    takes = []
    for index, (name, parts, best) in enumerate(TAKES):
        color = ["0x3050a0", "0xa05030", "0x30a050"][index % 3]
        truth = await synth_take(folder / name, parts, size=(320, 180), color=color, label=name)
        takes.append(Take(folder / name, truth, best))
    return takes
