"""Silence maps: where a take has speech and where it pauses.

As auto-editor does: FFmpeg decodes the audio to 16 kHz mono PCM, we compute the peak level of
each 10 ms frame with numpy, threshold it, drop speech blips shorter than ``min_speech_s``, fill
pauses shorter than ``min_pause_s``, and pad what is left by ``margin_s`` on both sides. The
steps are pure functions over arrays so each can be tested alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from editbay_common.media.limits import MediaRejected
from editbay_common.media.probe import (
    declared_duration,
    decode_bound_s,
    input_args,
    most_decoded_s,
)
from editbay_common.media.process import FFmpegError, ffmpeg_base_args, run

ANALYSIS_RATE = 16000
FRAME_S = 0.01  # one level per 10 ms
_SILENT_DB = -120.0


@dataclass(frozen=True)
class Interval:
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, float]:
        return {"start_s": self.start_s, "end_s": self.end_s}


@dataclass(frozen=True)
class SilenceMap:
    duration_s: float
    speech: list[Interval]
    pauses: list[Interval]

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration_s": self.duration_s,
            "speech": [i.to_dict() for i in self.speech],
            "pauses": [i.to_dict() for i in self.pauses],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SilenceMap:
        return cls(
            duration_s=float(data["duration_s"]),
            speech=[Interval(float(i["start_s"]), float(i["end_s"])) for i in data["speech"]],
            pauses=[Interval(float(i["start_s"]), float(i["end_s"])) for i in data["pauses"]],
        )


async def silence_map(
    path: Path,
    *,
    threshold_db: float = -35.0,
    min_pause_s: float = 0.3,
    margin_s: float = 0.05,
    min_speech_s: float = 0.1,
    timeout_s: float = 300.0,
    duration_s: float | None = None,
) -> SilenceMap:
    """Speech and pause intervals of the first audio stream of ``path`` (already validated).
    ``duration_s``: the file's declared duration, when the caller has probed it already."""
    samples = await decode_pcm(path, timeout_s=timeout_s, duration_s=duration_s)
    levels = frame_levels(samples)
    return map_from_levels(
        levels,
        duration_s=len(samples) / ANALYSIS_RATE,
        threshold_db=threshold_db,
        min_pause_s=min_pause_s,
        margin_s=margin_s,
        min_speech_s=min_speech_s,
    )


async def decode_pcm(
    path: Path,
    *,
    rate: int = ANALYSIS_RATE,
    timeout_s: float = 300.0,
    duration_s: float | None = None,
) -> np.ndarray:
    """The first audio stream as mono float samples in [-1, 1] at ``rate`` Hz.

    A file without audio gives an empty array. Memory is 4 bytes per sample (about 230 MB for
    the longest take allowed, four hours at 16 kHz). The decode stops a little past the file's
    declared duration (``duration_s``, read from its headers when not given), by time (``-t``)
    and by size (``-fs``): a header that claims less than the file holds cannot make this
    decode hours of audio into memory. Audio that runs past what the header allows raises
    ``MediaRejected("CORRUPT")``.
    """
    path = Path(path)
    declared = duration_s if duration_s is not None else await declared_duration(path)
    bound_s = decode_bound_s(declared)
    args = [
        *ffmpeg_base_args(),
        *input_args(path),
        "-map", "0:a:0?", "-vn",
        "-ac", "1", "-ar", str(rate),
        "-t", f"{bound_s:.3f}", "-fs", str(2 * math.ceil(bound_s * rate)),
        "-f", "s16le", "pipe:1",
    ]  # fmt: skip
    result = await run(args, timeout=timeout_s, check=False)
    if result.returncode != 0:
        if b"does not contain any stream" in result.stderr:
            return np.zeros(0, dtype=np.float32)  # no audio stream: nothing to hear
        tail = result.stderr.decode("utf-8", "replace")[-2000:]
        raise FFmpegError(f"ffmpeg exited with {result.returncode}", result.returncode, tail)
    decoded_s = len(result.stdout) / 2 / rate
    if decoded_s > most_decoded_s(declared):
        raise MediaRejected(
            "CORRUPT",
            f"the file declares {declared:.1f} s but its audio runs past {decoded_s:.1f} s",
        )
    return np.frombuffer(result.stdout, dtype=np.int16).astype(np.float32) / 32768.0


def frame_levels(samples: np.ndarray, rate: int = ANALYSIS_RATE) -> np.ndarray:
    """Peak level in dBFS (the loudest sample) of each 10 ms frame, last partial frame included.

    Peak rather than RMS, as FFmpeg's silencedetect and auto-editor measure: on generated takes
    a -35 dB RMS threshold cut the quiet onsets of words by up to 40 ms, the peak by none.
    """
    frame = round(FRAME_S * rate)
    count = -(-len(samples) // frame)
    padded = np.zeros(count * frame, dtype=np.float32)
    padded[: len(samples)] = samples
    peak = np.abs(padded.reshape(count, frame)).max(axis=1)
    with np.errstate(divide="ignore"):
        levels = 20 * np.log10(peak.astype(np.float64))
    return np.maximum(levels, _SILENT_DB)


def remove_short_runs(
    mask: np.ndarray, value: bool, min_len: int, *, keep_edges: bool = False
) -> np.ndarray:
    """Flip runs of ``value`` shorter than ``min_len`` frames to ``not value``.

    With ``keep_edges`` a run touching the start or the end is kept whatever its length.
    """
    out = mask.copy()
    for start, end in _runs(mask, value):
        if keep_edges and (start == 0 or end == len(mask)):
            continue
        if end - start < min_len:
            out[start:end] = not value
    return out


def pad_runs(mask: np.ndarray, frames: int) -> np.ndarray:
    """Grow every True run by ``frames`` on both sides."""
    if frames <= 0 or not mask.any():
        return mask.copy()
    out = mask.copy()
    for start, end in _runs(mask, True):
        out[max(0, start - frames) : min(len(mask), end + frames)] = True
    return out


def map_from_levels(
    levels: np.ndarray,
    *,
    duration_s: float,
    threshold_db: float = -35.0,
    min_pause_s: float = 0.3,
    margin_s: float = 0.05,
    min_speech_s: float = 0.1,
) -> SilenceMap:
    """Turn per-frame levels into speech and pause intervals."""
    loud = levels > threshold_db
    loud = remove_short_runs(loud, True, round(min_speech_s / FRAME_S))
    # A short pause inside speech is a breath; one at either end of the take is real silence.
    loud = remove_short_runs(loud, False, round(min_pause_s / FRAME_S), keep_edges=True)
    loud = pad_runs(loud, round(margin_s / FRAME_S))

    def interval(start: int, end: int) -> Interval:
        return Interval(round(start * FRAME_S, 3), round(min(end * FRAME_S, duration_s), 3))

    speech = [interval(s, e) for s, e in _runs(loud, True)]
    pauses = [interval(s, e) for s, e in _runs(loud, False)]
    return SilenceMap(duration_s=round(duration_s, 3), speech=speech, pauses=pauses)


def _runs(mask: np.ndarray, value: bool) -> list[tuple[int, int]]:
    """[start, end) frame ranges where ``mask == value``."""
    hits = (mask == value).astype(np.int8)
    edges = np.diff(np.concatenate(([0], hits, [0])))
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))
