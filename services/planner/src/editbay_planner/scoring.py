"""The offline heuristic: score every READY take of a scene from the catalog's analysis alone,
pick the best, and trim it to its speech.

A take starts at 1.0 and each problem found takes away a share of what is left (the score is
the product of ``1 - penalty`` over its penalties), so the score stays in 0..1 and two flawed
takes still rank against each other. The criteria:

1. **Complete speech.** The speech used (see 3) is measured as the sum of its speech intervals
   plus its internal gaps, each gap counted up to ``MAX_PAUSE_S`` (a long pause is not speech).
   It is compared with the scene's expected duration: the words of the scene text (directions in
   brackets and ``NAME:`` cues removed) at ``WORDS_PER_SECOND``, calibrated on the takes
   themselves, since people (and voices) speak at their own pace: the longest take's speech,
   held between ``CALIBRATION_FLOOR`` of the text estimate and the text estimate. Without text,
   the median of the scene's takes. Within ``COMPLETENESS_TOLERANCE`` of it counts as complete. A
   shortfall (the take stops early) costs ``SHORTFALL_WEIGHT`` per unit of missing ratio; an
   excess (ad-libs, a slow read) costs only ``EXCESS_WEIGHT`` per unit, capped.
2. **No long pauses.** Every gap between speech intervals longer than ``MAX_PAUSE_S`` costs
   ``PAUSE_WEIGHT`` per second beyond it (capped at ``PAUSE_CAP``).
3. **False starts.** A first speech burst shorter than ``FALSE_START_MAX_S``, followed by a gap
   of at least ``FALSE_START_MIN_GAP_S``, then by a restart at least ``RESTART_RATIO`` times as
   long (a restart says the burst's words and more), is a false start, unless the burst lasts
   at least ``FIRST_LINE_SHARE`` of the scene's first sentence (then it is that whole sentence
   followed by a pause, not a false start). It costs ``FALSE_START_PENALTY`` and is trimmed away
   (the in point moves after it).
4. **Sane loudness.** Integrated loudness outside ``LOUDNESS_MIN_LUFS..LOUDNESS_MAX_LUFS`` costs
   ``LOUDNESS_WEIGHT`` per LU outside (capped); clipping (or a true peak above 0 dBTP) costs
   ``CLIPPING_PENALTY``. A take without speech scores 0.

The best score wins (ties go to the lower take number). The confidence is the winner's score
scaled by the margin over the runner-up: ``best * (0.5 + 0.5 * min(1, margin / FULL_MARGIN))``;
a scene with one take gets its score. The rationale names what decided it, for example
``take 2: complete lines, no long pauses, clean start; take 1 had a false start``.

Trim: in = first used speech start - ``IN_MARGIN_S``, out = last speech end + ``OUT_MARGIN_S``,
clamped to the take (and never before the end of a false start).
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from editbay_planner.drafts import CandidateDraft, ChoiceDraft
from editbay_planner.facts import Interval, SceneFacts, StyleHints, TakeFacts

WORDS_PER_SECOND = 2.6
COMPLETENESS_TOLERANCE = 0.10
SHORTFALL_WEIGHT = 1.5
EXCESS_WEIGHT = 0.2
EXCESS_CAP = 0.3
MAX_PAUSE_S = 0.7
PAUSE_WEIGHT = 0.3
PAUSE_CAP = 0.6
FALSE_START_MAX_S = 1.5
FALSE_START_MIN_GAP_S = 0.4
FALSE_START_PENALTY = 0.15
RESTART_RATIO = 1.5
FIRST_LINE_SHARE = 0.6
CALIBRATION_FLOOR = 0.7
LOUDNESS_MIN_LUFS = -30.0
LOUDNESS_MAX_LUFS = -8.0
LOUDNESS_WEIGHT = 0.03
LOUDNESS_CAP = 0.3
CLIPPING_PENALTY = 0.3
FULL_MARGIN = 0.25
IN_MARGIN_S = 0.15
OUT_MARGIN_S = 0.25


@dataclass(frozen=True)
class Penalty:
    """One problem with a take: how much it costs, how a candidate list and a rationale say it."""

    kind: str  # short, incomplete, long, pause, false_start, loudness, clipping, no_speech
    amount: float  # 0..1, share of the score taken away
    text: str  # "long pause 2.1 s at 3.4 s"
    phrase: str  # completes "take 3 ...": "had a 2.1 s pause"


@dataclass(frozen=True)
class Assessment:
    """A scored take and where to cut it."""

    take: TakeFacts
    score: float
    penalties: tuple[Penalty, ...]
    in_s: float
    out_s: float
    spoken_s: float
    false_start: Interval | None

    def has(self, kind: str) -> bool:
        return any(p.kind == kind for p in self.penalties)


# ---- reading the analysis ------------------------------------------------------------------

_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_CUE = re.compile(r"^\s*[A-Z][A-Z0-9 .'-]*:\s*", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019-][A-Za-z0-9]+)*")  # don't, it's, well-known


def spoken_words(text: str) -> int:
    """Words a performer says: without bracketed directions and ``NAME:`` speaker cues."""
    text = _CUE.sub(" ", _BRACKETED.sub(" ", text))
    return len(_WORD.findall(text))


def expected_speech_s(text: str, words_per_second: float = WORDS_PER_SECOND) -> float | None:
    """How long the scene's lines take to say; None when the text has no words."""
    words = spoken_words(text)
    return words / words_per_second if words else None


def clean_speech(take: TakeFacts) -> tuple[Interval, ...]:
    """The take's speech intervals sorted, clamped to the take, without empty ones."""
    end = take.duration_s if take.duration_s > 0 else float("inf")
    spans = [
        Interval(max(0.0, s.start_s), min(end, s.end_s))
        for s in sorted(take.speech, key=lambda s: s.start_s)
    ]
    return tuple(s for s in spans if s.end_s > s.start_s)


def first_line_s(text: str, words_per_second: float = WORDS_PER_SECOND) -> float | None:
    """How long the scene's first sentence takes to say; None without text."""
    cleaned = _CUE.sub(" ", _BRACKETED.sub(" ", text))
    for sentence in _SENTENCE_END.split(cleaned):
        words = len(_WORD.findall(sentence))
        if words:
            return words / words_per_second
    return None


def detect_false_start(
    speech: Sequence[Interval], first_line: float | None = None
) -> Interval | None:
    """The first burst when it is a false start: short, a pause, then a longer restart, and not
    as long as the whole first sentence (``first_line``, seconds) would be."""
    if len(speech) < 2:
        return None
    first, second = speech[0], speech[1]
    gap = second.start_s - first.end_s
    if first.duration_s >= FALSE_START_MAX_S or gap < FALSE_START_MIN_GAP_S:
        return None
    if second.duration_s < RESTART_RATIO * first.duration_s:
        return None
    if first_line is not None and first.duration_s >= FIRST_LINE_SHARE * first_line:
        return None
    return first


def gaps(speech: Sequence[Interval]) -> list[Interval]:
    """The pauses between consecutive speech intervals."""
    return [
        Interval(a.end_s, b.start_s) for a, b in itertools.pairwise(speech) if b.start_s > a.end_s
    ]


def spoken_duration(speech: Sequence[Interval], max_pause_s: float = MAX_PAUSE_S) -> float:
    """Speech plus the internal gaps, each counted up to ``max_pause_s``."""
    talk = sum(s.duration_s for s in speech)
    return talk + sum(min(g.duration_s, max_pause_s) for g in gaps(speech))


def trim(
    take: TakeFacts, used: Sequence[Interval], false_start: Interval | None
) -> tuple[float, float]:
    """In and out points around the used speech, with margins, clamped to the take."""
    duration = take.duration_s
    if not used:
        return 0.0, max(0.0, duration)
    in_s = max(0.0, used[0].start_s - IN_MARGIN_S)
    if false_start is not None:
        in_s = max(in_s, false_start.end_s)
    out_s = used[-1].end_s + OUT_MARGIN_S
    if duration > 0:
        out_s = min(duration, out_s)
    return round(in_s, 3), round(out_s, 3)


# ---- penalties ---------------------------------------------------------------------------------


def completeness_penalty(spoken_s: float, reference_s: float | None) -> Penalty | None:
    if not reference_s or reference_s <= 0:
        return None
    ratio = spoken_s / reference_s
    percent = round(100 * ratio)
    if ratio < 1 - COMPLETENESS_TOLERANCE:
        amount = min(1.0, SHORTFALL_WEIGHT * (1 - COMPLETENESS_TOLERANCE - ratio))
        return Penalty(
            "short",
            amount,
            f"stops early: {percent}% of expected speech",
            f"stopped early ({percent}% of the lines)",
        )
    if ratio > 1 + COMPLETENESS_TOLERANCE:
        amount = min(EXCESS_CAP, EXCESS_WEIGHT * (ratio - 1 - COMPLETENESS_TOLERANCE))
        return Penalty(
            "long", amount, f"runs long: {percent}% of expected speech", f"ran long ({percent}%)"
        )
    return None


def pause_penalties(used: Sequence[Interval], max_pause_s: float) -> list[Penalty]:
    long_ones = [g for g in gaps(used) if g.duration_s > max_pause_s]
    if not long_ones:
        return []
    excess = sum(g.duration_s - max_pause_s for g in long_ones)
    total = min(PAUSE_CAP, PAUSE_WEIGHT * excess)
    result = []
    for gap in long_ones:
        share = total * (gap.duration_s - max_pause_s) / excess if excess > 0 else 0.0
        result.append(
            Penalty(
                "pause",
                share,
                f"long pause {gap.duration_s:.1f} s at {gap.start_s:.1f} s",
                f"had a {gap.duration_s:.1f} s pause",
            )
        )
    return result


def loudness_penalties(take: TakeFacts) -> list[Penalty]:
    result = []
    lufs = take.integrated_lufs
    if lufs is not None:
        if lufs > LOUDNESS_MAX_LUFS:
            outside, word = lufs - LOUDNESS_MAX_LUFS, "loud"
        elif lufs < LOUDNESS_MIN_LUFS:
            outside, word = LOUDNESS_MIN_LUFS - lufs, "quiet"
        else:
            outside, word = 0.0, ""
        if outside > 0:
            result.append(
                Penalty(
                    "loudness",
                    min(LOUDNESS_CAP, LOUDNESS_WEIGHT * outside),
                    f"too {word}: {lufs:.1f} LUFS outside "
                    f"{LOUDNESS_MIN_LUFS:.0f}..{LOUDNESS_MAX_LUFS:.0f}",
                    f"was too {word} ({lufs:.1f} LUFS)",
                )
            )
    peak = take.true_peak_dbtp
    if take.clipped or (peak is not None and peak > 0.0):
        result.append(Penalty("clipping", CLIPPING_PENALTY, "clipping", "clipped"))
    return result


# ---- assessing and choosing -----------------------------------------------------------------


def assess_take(
    take: TakeFacts,
    reference_s: float | None,
    *,
    max_pause_s: float = MAX_PAUSE_S,
    first_line: float | None = None,
) -> Assessment:
    """Score one take against the scene's expected speech duration ``reference_s``."""
    speech = clean_speech(take)
    if not speech:
        nothing = Penalty("no_speech", 1.0, "no speech", "had no speech")
        in_s, out_s = trim(take, (), None)
        return Assessment(take, 0.0, (nothing,), in_s, out_s, 0.0, None)
    false_start = detect_false_start(speech, first_line)
    used = speech[1:] if false_start is not None else speech
    spoken = spoken_duration(used, max_pause_s)
    penalties: list[Penalty] = []
    if false_start is not None:
        penalties.append(
            Penalty(
                "false_start",
                FALSE_START_PENALTY,
                f"false start {false_start.duration_s:.1f} s, trimmed",
                "had a false start",
            )
        )
    incomplete = completeness_penalty(spoken, reference_s)
    if incomplete is not None:
        penalties.append(incomplete)
    penalties.extend(pause_penalties(used, max_pause_s))
    penalties.extend(loudness_penalties(take))
    score = 1.0
    for penalty in penalties:
        score *= 1.0 - penalty.amount
    in_s, out_s = trim(take, used, false_start)
    return Assessment(
        take, round(score, 4), tuple(penalties), in_s, out_s, round(spoken, 3), false_start
    )


def reference_duration(
    scene: SceneFacts, takes: Sequence[TakeFacts], hints: StyleHints | None = None
) -> float | None:
    """The expected speech duration of a scene: its text's estimate calibrated on the takes
    (see the module docstring); without text, the median of its takes."""
    rate = _rate(hints)
    max_pause = _max_pause(hints)
    first_line = first_line_s(scene.text, rate)
    measured = []
    for take in takes:
        speech = clean_speech(take)
        used = speech[1:] if detect_false_start(speech, first_line) is not None else speech
        if used:
            measured.append(spoken_duration(used, max_pause))
    expected = expected_speech_s(scene.text, rate)
    if expected is None:
        return statistics.median(measured) if measured else None
    if not measured:
        return expected
    return min(expected, max(CALIBRATION_FLOOR * expected, max(measured)))


def confidence(best: float, second: float | None) -> float:
    """How sure the choice is: the winner's score, scaled down when the runner-up is close."""
    if second is None:
        return round(best, 3)
    margin = max(0.0, best - second)
    return round(best * (0.5 + 0.5 * min(1.0, margin / FULL_MARGIN)), 3)


def rank(assessments: Sequence[Assessment]) -> list[Assessment]:
    """Best first; ties go to the lower take number, then the name."""
    return sorted(assessments, key=lambda a: (-a.score, a.take.take_number, a.take.name))


def rationale(ranked: Sequence[Assessment]) -> str:
    """One line naming what decided the choice."""
    best = ranked[0]
    qualities = []
    if not (best.has("short") or best.has("long") or best.has("no_speech")):
        qualities.append("complete lines")
    if not best.has("pause"):
        qualities.append("no long pauses")
    if best.false_start is None:
        qualities.append("clean start")
    head = f"take {best.take.take_number}: " + ", ".join(qualities or ["best of the takes"])
    own = [p.phrase.replace("had ", "", 1) for p in best.penalties if p.kind != "false_start"]
    if best.false_start is not None:
        own.insert(0, "false start trimmed")
    if own:
        head += " (" + "; ".join(own[:2]) + ")"
    if len(ranked) == 1:
        return head + "; the only take"
    losers = []
    for other in ranked[1:3]:
        deciding = [p for p in other.penalties if not best.has(p.kind)]
        deciding.sort(key=lambda p: -p.amount)
        if deciding:
            said = " and ".join(p.phrase for p in deciding[:2])
        else:
            said = f"scored lower ({other.score:.2f})"
        losers.append(f"take {other.take.take_number} {said}")
    return head + "; " + "; ".join(losers)


def choose_take(
    scene: SceneFacts, takes: Sequence[TakeFacts], hints: StyleHints | None = None
) -> ChoiceDraft:
    """The best READY take of ``scene`` (``takes`` must be that scene's takes, at least one)."""
    if not takes:
        raise ValueError(f"scene {scene.number} has no takes")
    reference = reference_duration(scene, takes, hints)
    max_pause = _max_pause(hints)
    first_line = first_line_s(scene.text, _rate(hints))
    ranked = rank(
        [assess_take(t, reference, max_pause_s=max_pause, first_line=first_line) for t in takes]
    )
    best = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else None
    return ChoiceDraft(
        scene_number=scene.number,
        take=best.take.name,
        take_storage_key=best.take.storage_key,
        in_s=best.in_s,
        out_s=best.out_s,
        confidence=confidence(best.score, second),
        rationale=rationale(ranked),
        candidates=tuple(
            CandidateDraft(a.take.name, a.score, tuple(p.text for p in a.penalties)) for a in ranked
        ),
    )


def _rate(hints: StyleHints | None) -> float:
    return (hints.words_per_second if hints else None) or WORDS_PER_SECOND


def _max_pause(hints: StyleHints | None) -> float:
    return (hints.max_pause_s if hints else None) or MAX_PAUSE_S
