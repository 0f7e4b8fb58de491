"""The heuristic on real generated takes: speech synthesised by FFmpeg, analysed by the shared
media core (as the catalog does), with a known best take in each scene."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from editbay_common.media.loudness import measure_loudness
from editbay_common.media.silence import silence_map
from editbay_common.media.synth import synth_take
from editbay_planner import scoring
from editbay_planner.facts import Interval, SceneFacts, TakeFacts

LINES = {
    1: ["Welcome to the kitchen.", "Today we bake bread."],
    2: ["First, mix the flour and the water.", "Then knead the dough well."],
    3: ["Bake it for forty minutes.", "Enjoy your bread."],
}
# (scene, take, parts, is it the best take of its scene)
TAKES = [
    (1, 1, [0.5, "Welcome to", 1.2, *LINES[1], 0.5], False),  # false start
    (1, 2, [0.6, LINES[1][0], 0.4, LINES[1][1], 0.6], True),
    (2, 1, [1.5, LINES[2][0], 2.5, LINES[2][1], 1.5], False),  # long pause
    (2, 2, [0.5, LINES[2][0], 0.5], False),  # stops early
    (2, 3, [0.5, LINES[2][0], 0.5, LINES[2][1], 0.5], True),
    (3, 1, [0.5, LINES[3][0], 0.5, LINES[3][1], 0.6], True),  # short first line, no false start
    (3, 2, [2.0, LINES[3][0], 1.8, LINES[3][1], 2.0], False),  # long pauses
]


async def analysed(folder: Path, scene: int, number: int, parts) -> TakeFacts:
    path = folder / f"S{scene:02d}_T{number:02d}.mp4"
    await synth_take(path, parts, size=(64, 36))
    silences, loudness = await asyncio.gather(silence_map(path), measure_loudness(path))
    return TakeFacts(
        name=f"shows/s/episodes/e/takes/s{scene}t{number}",
        scene_number=scene,
        take_number=number,
        storage_key=path.name,
        duration_s=silences.duration_s,
        speech=tuple(Interval(i.start_s, i.end_s) for i in silences.speech),
        integrated_lufs=loudness.integrated_lufs,
        true_peak_dbtp=loudness.true_peak_dbtp,
        clipped=loudness.clipped,
    )


@pytest.fixture(scope="module")
def takes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[TakeFacts, bool]]:
    folder = tmp_path_factory.mktemp("real-takes")

    async def make() -> list[tuple[TakeFacts, bool]]:
        return [(await analysed(folder, s, n, parts), best) for s, n, parts, best in TAKES]

    return asyncio.run(make())


@pytest.mark.parametrize("scene", sorted(LINES))
def test_the_best_take_wins_with_clear_confidence(takes, scene: int) -> None:
    facts = SceneFacts(scene, " ".join(LINES[scene]))
    candidates = [t for t, _ in takes if t.scene_number == scene]
    best = next(t for t, is_best in takes if is_best and t.scene_number == scene)
    choice = scoring.choose_take(facts, candidates)
    assert choice.take == best.name, choice.rationale
    assert choice.confidence >= 0.5, choice.rationale
    # The chosen span holds all of the take's speech, with no more than the margins around it.
    assert choice.in_s <= best.speech[0].start_s
    assert choice.out_s >= best.speech[-1].end_s
    assert best.speech[0].start_s - choice.in_s <= scoring.IN_MARGIN_S + 1e-6
    assert choice.out_s - best.speech[-1].end_s <= scoring.OUT_MARGIN_S + 1e-6
    assert "false start" not in choice.rationale.split(";")[0]


def test_the_false_start_is_trimmed_away(takes) -> None:
    stutter = next(t for t, _ in takes if (t.scene_number, t.take_number) == (1, 1))
    reference = scoring.reference_duration(SceneFacts(1, " ".join(LINES[1])), [stutter])
    assessed = scoring.assess_take(stutter, reference)
    assert assessed.false_start is not None
    assert assessed.in_s >= assessed.false_start.end_s
