"""Loudness (EBU R128) and clipping of a file's first audio stream."""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from editbay_common.media.limits import DEFAULT_LIMITS
from editbay_common.media.probe import input_args, input_url
from editbay_common.media.process import (
    FFMPEG,
    FFPROBE,
    PROTOCOL_WHITELIST,
    ffmpeg_base_args,
    run,
)

# Clipping is read in segments so memory stays bounded on long takes.
_CLIP_SEGMENT_S = 600
# A sample is clipped when it sits on the 16-bit ceiling next to another that does (a flat top);
# a clean peak touches the ceiling at most once. A take is flagged above this share of samples.
CLIPPED_RATIO_THRESHOLD = 1e-4
_SUMMARY = {
    "integrated_lufs": re.compile(r"Integrated loudness:\s*\n\s*I:\s*(-?[\d.]+|-inf|nan)\s*LUFS"),
    "range_lu": re.compile(r"Loudness range:\s*\n\s*LRA:\s*(-?[\d.]+|-inf|nan)\s*LU"),
    "true_peak_dbtp": re.compile(r"True peak:\s*\n\s*Peak:\s*(-?[\d.]+|-inf|nan)\s*dBFS"),
}


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float  # -inf for digital silence
    range_lu: float
    true_peak_dbtp: float
    clipped: bool
    clipped_ratio: float  # share of samples (all channels) on a clipped flat top

    def to_dict(self) -> dict[str, Any]:
        # JSON has no infinity: silence is reported as null.
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(self).items()}  # fmt: skip


async def measure_loudness(path: Path, *, timeout_s: float = 300.0) -> Loudness:
    """Integrated loudness, loudness range and true peak (FFmpeg ebur128), and clipping."""
    summary = await _ebur128(Path(path), timeout_s)
    ratio = await clipped_ratio(Path(path), timeout_s=timeout_s)
    return Loudness(
        integrated_lufs=summary["integrated_lufs"],
        range_lu=summary["range_lu"],
        true_peak_dbtp=summary["true_peak_dbtp"],
        clipped=ratio > CLIPPED_RATIO_THRESHOLD,
        clipped_ratio=round(ratio, 6),
    )


async def _ebur128(path: Path, timeout_s: float) -> dict[str, float]:
    # The summary is logged at info level when the filter closes.
    args = [
        FFMPEG, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
        *input_args(path),
        "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-",
    ]  # fmt: skip
    result = await run(args, timeout=timeout_s)
    text = result.stderr.decode("utf-8", "replace")
    tail = text[text.rfind("Summary:") :]
    values: dict[str, float] = {}
    for key, pattern in _SUMMARY.items():
        match = pattern.search(tail)
        if match is None:
            raise ValueError(f"ebur128 summary has no {key}")
        values[key] = float(match.group(1))
    if values["integrated_lufs"] <= -70.0:  # below the absolute gate: nothing audible
        values["integrated_lufs"] = -math.inf
    return values


async def clipped_ratio(path: Path, *, timeout_s: float = 300.0) -> float:
    """Share of samples, all channels, that sit on a clipped flat top at full scale."""
    channels, rate = await _audio_layout(path, timeout_s)
    clipped = 0
    total = 0
    start = 0
    while True:
        args = [
            *ffmpeg_base_args(),
            "-ss", str(start), "-t", str(_CLIP_SEGMENT_S),
            *input_args(path),
            "-map", "0:a:0", "-f", "s16le", "pipe:1",
        ]  # fmt: skip
        result = await run(args, timeout=timeout_s)
        samples = np.frombuffer(result.stdout, dtype=np.int16)
        usable = len(samples) // channels * channels
        clipped += count_clipped(samples[:usable].reshape(-1, channels))
        total += usable
        if usable < _CLIP_SEGMENT_S * rate * channels * 0.99:  # a short read: the end
            break
        start += _CLIP_SEGMENT_S
    return clipped / total if total else 0.0


async def _audio_layout(path: Path, timeout_s: float) -> tuple[int, int]:
    args = [
        FFPROBE, "-hide_banner", "-loglevel", "error",
        "-protocol_whitelist", PROTOCOL_WHITELIST,
        "-format_whitelist", DEFAULT_LIMITS.demuxer_whitelist(),
        "-select_streams", "a:0", "-show_entries", "stream=channels,sample_rate",
        "-of", "json", input_url(path),
    ]  # fmt: skip
    result = await run(args, timeout=timeout_s)
    streams = json.loads(result.stdout or b"{}").get("streams") or []
    if not streams:
        raise ValueError("the file has no audio stream")
    return max(int(streams[0].get("channels") or 1), 1), int(streams[0]["sample_rate"])


def count_clipped(frames: np.ndarray) -> int:
    """Samples at the int16 ceiling (either sign) whose next or previous sample, in the same
    channel, is there too: a flat top. ``frames`` has one column per channel.
    """
    at_ceiling = (frames >= 32767) | (frames <= -32768)
    if at_ceiling.sum() < 2:
        return 0
    neighbour = np.zeros_like(at_ceiling)
    neighbour[1:] |= at_ceiling[:-1]
    neighbour[:-1] |= at_ceiling[1:]
    return int((at_ceiling & neighbour).sum())
