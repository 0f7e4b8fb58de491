"""Shot boundary (hard cut) detection on a tiny copy of the video.

FFmpeg decodes and shrinks every frame to ``analysis_width`` pixels wide, 8-bit YUV 4:2:0, and
pipes raw pixels to us; ``showinfo`` logs each frame's timestamp. The detector is a pure function
over those arrays: the mean absolute difference between consecutive frames, summed over the
brightness plane and the two colour planes (so a cut between two shots of equal brightness but
different colour is seen too), compared with a fixed floor (``threshold``) and with the
differences around it (an adaptive threshold), so motion inside a shot, which raises all
neighbouring differences together, is not taken for a cut.

Deblocking is skipped while decoding (``-skip_loop_filter all``): it only smooths block edges,
which the downscale removes anyway, and it is a large share of H.264 decoding time.

A longer video in an indexed container is decoded in parts, one FFmpeg process per core, each
with one decoder thread: frame-threaded decoding of small frames kept only about 1.4 of 2 cores
busy and spent more CPU per frame. Exact seeks make the parts meet without a gap or an overlap
(checked: otherwise the video is decoded again in one piece).

The decode stops a little past the file's declared duration (``decode_bound_s``), and each part
at as many frames as that time allows at twice the declared frame rate (``most_frames``): a
header that claims less than the file holds cannot make this decode hours of video into memory.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from editbay_common.media.limits import INDEXED_DEMUXERS, MediaRejected
from editbay_common.media.probe import (
    MediaInfo,
    decode_bound_s,
    input_args,
    most_decoded_s,
    most_frames,
    probe,
)
from editbay_common.media.process import FFMPEG, run, together

DEFAULT_THRESHOLD = 12.0  # mean absolute grey difference (0-255) a cut must exceed
DEFAULT_MIN_SHOT_S = 0.4
DEFAULT_ANALYSIS_WIDTH = 64
# A cut's difference must also stand this many times above the typical difference around it.
ADAPTIVE_RATIO = 3.0
WINDOW_FRAMES = 12  # frames on each side that define "around"
# Decoding in parts: each part at least this long, at most this many at once, and only where
# the container's index makes a seek exact.
MIN_PART_S = 20.0
MAX_PARTS = 4

_PTS = re.compile(r"\bn:\s*(\d+)\s+pts:\s*-?\d+\s+pts_time:(-?[\d.]+)")


async def detect_shots(
    path: Path,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_shot_s: float = DEFAULT_MIN_SHOT_S,
    analysis_width: int = DEFAULT_ANALYSIS_WIDTH,
    timeout_s: float = 600.0,
) -> list[float]:
    """Times (seconds from the first frame) of the first frame of each new shot, ascending."""
    planes, times = await decode_small_yuv(path, analysis_width, timeout_s=timeout_s)
    diffs = sum((frame_differences(plane) for plane in planes), np.zeros(len(times)))
    indices = cut_frames(diffs, times, threshold=threshold, min_shot_s=min_shot_s)
    return [round(float(times[i]), 6) for i in indices]


def shot_lengths(cuts: Sequence[float], duration_s: float) -> list[float]:
    """Lengths of the shots that ``cuts`` divide ``[0, duration_s]`` into."""
    edges = [0.0, *sorted(c for c in cuts if 0.0 < c < duration_s), duration_s]
    return [round(b - a, 6) for a, b in itertools.pairwise(edges) if b > a]


async def decode_small_yuv(
    path: Path,
    width: int = DEFAULT_ANALYSIS_WIDTH,
    *,
    timeout_s: float = 600.0,
    parts: int | None = None,
    info: MediaInfo | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """All frames as Y, U and V arrays of shape (count, h, w) and (count, h/2, w/2), uint8, and
    their times from the first frame. ``parts``: decode in that many parts (default: one per
    core for a long video in an indexed container, else one). ``info``: the file's probe, when
    the caller has it (its declared duration and frame rate bound the decode)."""
    path = Path(path)
    width = max(2, width // 2 * 2)
    height = max(2, round(width * 9 / 16) // 2 * 2)  # fixed shape: aspect does not matter here
    info = info or await probe(path, keyframe_interval=False)
    ranges = await _ranges(path, parts, info)
    fps = info.video.fps if info.video else 0.0
    split = len(ranges) > 1
    most = [most_frames(fps, length) for _, length in ranges]
    decoded = await together(
        *(
            _decode_range(path, width, height, r, split, timeout_s, max_frames=m)
            for r, m in zip(ranges, most, strict=True)
        )
    )
    frames = np.concatenate([f for f, _ in decoded])
    times = np.concatenate([t for _, t in decoded])
    if len(ranges) > 1 and not _parts_meet(times, [len(t) for _, t in decoded]):
        # a seek was not exact: decode in one piece
        return await decode_small_yuv(path, width, timeout_s=timeout_s, parts=1, info=info)
    if len(times) and times[-1] - times[0] > most_decoded_s(info.duration_s):
        raise MediaRejected(
            "CORRUPT",
            f"the file declares {info.duration_s:.1f} s but its video runs past "
            f"{times[-1] - times[0]:.1f} s",
        )
    count, luma, chroma = len(frames), width * height, (width // 2) * (height // 2)
    y = frames[:, :luma].reshape(count, height, width)
    u = frames[:, luma : luma + chroma].reshape(count, height // 2, width // 2)
    v = frames[:, luma + chroma :].reshape(count, height // 2, width // 2)
    return (y, u, v), (times - times[0] if count else times)


def _parts_meet(times: np.ndarray, counts: list[int]) -> bool:
    """The joined times rise, and no step between two parts is longer than a frame and a half
    (the usual step inside them): no part overlaps, misses or repeats frames at its start."""
    steps = np.diff(times)
    if not all(counts) or not len(steps) or (steps <= 0).any():
        return False
    joins = np.cumsum(counts)[:-1] - 1  # the step from each part's last frame to the next
    return bool((steps[joins] <= 1.5 * np.median(steps)).all())


async def _ranges(
    path: Path, parts: int | None, info: MediaInfo | None = None
) -> list[tuple[float, float]]:
    """``(start, length)`` of each part in seconds; the last runs to ``decode_bound_s``, a
    little past the declared end, where the decode stops even if the file goes on."""
    info = info or await probe(path, keyframe_interval=False)
    if parts is None:
        cores = min(MAX_PARTS, len(os.sched_getaffinity(0)))
        exact = info.demuxer in INDEXED_DEMUXERS
        parts = max(1, min(cores, int(info.duration_s // MIN_PART_S))) if exact else 1
    step = info.duration_s / parts
    bound = decode_bound_s(info.duration_s)
    return [(k * step, step if k < parts - 1 else bound - k * step) for k in range(parts)]


async def _decode_range(
    path: Path,
    width: int,
    height: int,
    part: tuple[float, float | None],
    split: bool,
    timeout_s: float,
    *,
    max_frames: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One part's frames (count, bytes per frame) and their times as the file stamps them.
    More than ``max_frames`` frames (FFmpeg stops at one more) raise ``MediaRejected``."""
    start, length = part
    # A part of several: one decoder thread, and the file's own timestamps (-copyts), in which
    # the accurate seek trims each part to exactly [start, start + length).
    limits = ["-threads", "1", "-copyts", "-ss", f"{start:.6f}"] if split else []
    if length is not None:
        limits += ["-t", f"{length:.6f}"]
    most = [] if max_frames is None else ["-frames:v", str(max_frames + 1)]
    args = [
        FFMPEG, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
        "-skip_loop_filter", "all", *limits,
        *input_args(path),
        "-map", "0:v:0", "-an", "-sn",
        "-vf", f"scale={width}:{height}:flags=area,format=yuv420p,showinfo",
        "-fps_mode", "passthrough", *most,
        "-f", "rawvideo", "pipe:1",
    ]  # fmt: skip
    result = await run(args, timeout=timeout_s)
    size = width * height + 2 * (width // 2) * (height // 2)
    count = len(result.stdout) // size
    if max_frames is not None and count > max_frames:
        raise MediaRejected(
            "CORRUPT",
            f"more than {max_frames} video frames in {length or 0.0:.1f} s from {start:.1f} s, "
            "more than the file's declared frame rate allows",
        )
    frames = np.frombuffer(result.stdout[: count * size], dtype=np.uint8).reshape(count, size)
    return frames, _frame_times(result.stderr.decode("utf-8", "replace"), count)


def _frame_times(log: str, count: int) -> np.ndarray:
    stamps: dict[int, float] = {}
    for line in log.splitlines():
        if "showinfo" in line and (match := _PTS.search(line)):
            stamps[int(match.group(1))] = float(match.group(2))
    times = np.array([stamps.get(i, np.nan) for i in range(count)], dtype=np.float64)
    if count and np.isnan(times).any():
        raise ValueError("FFmpeg did not report a timestamp for every frame")
    return times


def frame_differences(frames: np.ndarray) -> np.ndarray:
    """d[i] = mean |frame[i] - frame[i-1]|; d[0] = 0."""
    if len(frames) < 2:
        return np.zeros(len(frames))
    flat = frames.reshape(len(frames), -1).astype(np.int16)
    diffs = np.abs(np.diff(flat, axis=0)).mean(axis=1)
    return np.concatenate(([0.0], diffs))


def cut_frames(
    diffs: np.ndarray,
    times: np.ndarray,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_shot_s: float = DEFAULT_MIN_SHOT_S,
    ratio: float = ADAPTIVE_RATIO,
    window: int = WINDOW_FRAMES,
) -> list[int]:
    """Indices of frames that start a new shot.

    A frame is a cut when its difference exceeds ``threshold``, is the largest within
    ``window`` frames, and is ``ratio`` times the median of the differences in the window
    around it (excluding itself). Cuts closer than ``min_shot_s`` to the previous one are
    dropped, keeping the stronger.
    """
    n = len(diffs)
    candidates: list[int] = []
    for i in range(1, n):
        if diffs[i] < threshold:
            continue
        lo, hi = max(1, i - window), min(n, i + window + 1)
        around = np.concatenate((diffs[lo:i], diffs[i + 1 : hi]))
        if len(around) and diffs[i] < around.max():
            continue
        baseline = float(np.median(around)) if len(around) else 0.0
        if diffs[i] >= ratio * baseline:
            candidates.append(i)
    kept: list[int] = []
    for i in candidates:
        if kept and times[i] - times[kept[-1]] < min_shot_s:
            if diffs[i] > diffs[kept[-1]]:
                kept[-1] = i
            continue
        kept.append(i)
    return kept
