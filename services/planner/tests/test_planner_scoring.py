"""The heuristic score and trims, on plain data."""

from __future__ import annotations

import pytest

from editbay_planner import scoring
from editbay_planner.facts import EpisodeFacts, Interval, SceneFacts, StyleHints, TakeFacts
from editbay_planner.generator import GenerationFailed, HeuristicGenerator

EPISODE = "shows/kitchen/episodes/e1"
# 13 words: 5 s at 2.6 words/s.
LINES = "ANNA: Welcome back to the kitchen. (smiles) Today we bake bread with only four things."


def take(
    number: int,
    speech: list[tuple[float, float]],
    *,
    scene: int = 1,
    duration: float = 8.0,
    lufs: float | None = -18.0,
    peak: float | None = -3.0,
    clipped: bool = False,
) -> TakeFacts:
    return TakeFacts(
        name=f"{EPISODE}/takes/s{scene}t{number}",
        scene_number=scene,
        take_number=number,
        storage_key=f"takes/s{scene}t{number}.mp4",
        duration_s=duration,
        speech=tuple(Interval(a, b) for a, b in speech),
        integrated_lufs=lufs,
        true_peak_dbtp=peak,
        clipped=clipped,
    )


SCENE = SceneFacts(1, LINES)
# Clean delivery of the 5 s of lines, with short natural gaps.
CLEAN = [(0.6, 2.6), (2.9, 5.7)]


def test_spoken_words_ignore_cues_and_directions() -> None:
    assert scoring.spoken_words(LINES) == 13
    assert scoring.expected_speech_s(LINES) == pytest.approx(13 / scoring.WORDS_PER_SECOND)
    assert scoring.expected_speech_s("(silence)") is None


def test_false_start_loses_and_is_trimmed_away() -> None:
    stutter = take(1, [(0.3, 0.9), (1.6, 3.6), (3.9, 6.7)])
    clean = take(2, CLEAN)
    choice = scoring.choose_take(SCENE, [stutter, clean])
    assert choice.take == clean.name
    assert "take 1 had a false start" in choice.rationale
    assert choice.rationale.startswith("take 2: complete lines")
    loser = scoring.assess_take(stutter, scoring.expected_speech_s(LINES))
    assert loser.false_start == Interval(0.3, 0.9)
    # The in point is after the false start, a margin before the real first line.
    assert loser.in_s == pytest.approx(1.6 - scoring.IN_MARGIN_S)
    assert loser.in_s >= 0.9
    assert any("false start" in p for p in choice.candidates[1].penalties)


def test_take_that_stops_early_loses() -> None:
    early = take(1, [(0.5, 2.5)])  # 2 s of 5 s
    full = take(2, CLEAN)
    choice = scoring.choose_take(SCENE, [early, full])
    assert choice.take == full.name
    assert "stopped early" in choice.rationale
    short = scoring.assess_take(early, scoring.expected_speech_s(LINES))
    assert short.has("short")
    assert short.score < 0.5


def test_long_internal_pause_loses() -> None:
    paused = take(1, [(0.5, 2.5), (4.8, 7.6)])  # 2.3 s pause in the middle
    clean = take(2, CLEAN)
    choice = scoring.choose_take(SCENE, [paused, clean])
    assert choice.take == clean.name
    assert "take 1 had a 2.3 s pause" in choice.rationale
    assert any(p.startswith("long pause 2.3 s") for p in choice.candidates[1].penalties)


def test_style_hint_tolerates_longer_pauses() -> None:
    paused = take(1, [(0.5, 2.5), (3.5, 6.0)])  # 1.0 s gap
    plain = scoring.assess_take(paused, 5.0)
    tolerant = scoring.assess_take(paused, 5.0, max_pause_s=1.2)
    assert plain.has("pause")
    assert not tolerant.has("pause")


def test_loud_clipping_take_loses() -> None:
    loud = take(1, CLEAN, lufs=-4.0, peak=1.2, clipped=True)
    sane = take(2, [(0.6, 2.6), (2.9, 5.5)], lufs=-19.0)
    choice = scoring.choose_take(SCENE, [loud, sane])
    assert choice.take == sane.name
    assert "clipped" in choice.rationale
    penalties = choice.candidates[1].penalties
    assert "clipping" in penalties
    assert any(p.startswith("too loud") for p in penalties)


def test_quiet_take_is_penalised() -> None:
    quiet = scoring.assess_take(take(1, CLEAN, lufs=-42.0), 5.0)
    assert quiet.has("loudness")
    assert quiet.score < scoring.assess_take(take(2, CLEAN), 5.0).score


def test_trims_stay_within_margins_and_the_take() -> None:
    inside = scoring.assess_take(take(1, [(1.0, 3.0), (3.2, 6.0)], duration=8.0), 5.0)
    assert inside.in_s == pytest.approx(1.0 - scoring.IN_MARGIN_S)
    assert inside.out_s == pytest.approx(6.0 + scoring.OUT_MARGIN_S)
    edges = scoring.assess_take(take(2, [(0.05, 2.0), (2.2, 5.9)], duration=6.0), 5.0)
    assert edges.in_s == 0.0
    assert edges.out_s == 6.0


def test_take_without_speech_scores_zero_and_keeps_whole_take() -> None:
    silent = scoring.assess_take(take(1, [], duration=4.0), 5.0)
    assert silent.score == 0.0
    assert (silent.in_s, silent.out_s) == (0.0, 4.0)


def test_without_text_the_median_take_is_the_reference() -> None:
    scene = SceneFacts(3, "")
    takes = [
        take(1, [(0.5, 5.5)], scene=3),
        take(2, [(0.5, 5.3)], scene=3),
        take(3, [(0.5, 2.0)], scene=3),  # stops early compared with the others
    ]
    assert scoring.reference_duration(scene, takes) == pytest.approx(4.8)
    choice = scoring.choose_take(scene, takes)
    assert choice.take != takes[2].name
    assert choice.candidates[-1].take == takes[2].name


def test_confidence_grows_with_margin() -> None:
    close = scoring.confidence(0.9, 0.88)
    clear = scoring.confidence(0.9, 0.4)
    assert 0.0 <= close < clear <= 0.9
    assert scoring.confidence(0.7, None) == 0.7


def test_candidates_best_first_and_ties_go_to_lower_take() -> None:
    a, b = take(2, CLEAN), take(1, CLEAN)
    choice = scoring.choose_take(SCENE, [a, b])
    assert choice.take == b.name
    scores = [c.score for c in choice.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


async def test_generator_fills_scenes_in_order_with_progress() -> None:
    scenes = [SceneFacts(2, ""), SceneFacts(1, LINES)]
    takes = [take(1, CLEAN, scene=1), take(1, [(0.2, 3.0)], scene=2, duration=4.0)]
    seen: list[int] = []

    async def progress(percent: int) -> None:
        seen.append(percent)

    draft = await HeuristicGenerator().generate(
        EpisodeFacts(EPISODE), scenes, takes, StyleHints(), on_progress=progress
    )
    assert [c.scene_number for c in draft.choices] == [1, 2]
    assert seen == [50, 100]
    assert draft.total_duration_s == pytest.approx(sum(c.out_s - c.in_s for c in draft.choices))


async def test_generator_fails_for_a_scene_without_takes() -> None:
    with pytest.raises(GenerationFailed, match="scene 2"):
        await HeuristicGenerator().generate(
            EpisodeFacts(EPISODE), [SCENE, SceneFacts(2, "x")], [take(1, CLEAN)], None
        )
