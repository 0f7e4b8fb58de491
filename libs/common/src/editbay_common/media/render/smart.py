"""The smart path: a cut-only timeline is stream-copied between keyframes.

For each segment only the partial GOPs at its ends are re-encoded: from the in-point to the first
keyframe, and from the last keyframe before the out-point to the out-point. The whole GOPs between
are copied untouched. Parts are written as MPEG-TS (Annex B, parameter sets in-band before every
IDR, so re-encoded and copied parts with different SPS/PPS can follow each other), joined with the
concat demuxer and muxed into MP4 with the audio, which is rendered once for the whole timeline.

Every copied part is checked (packet count); anything unexpected raises ``SmartPathUnavailable``
and the engine falls back to the full re-encode.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from editbay_common.media import process
from editbay_common.media.probe import input_url
from editbay_common.media.render.graph import OutputSpec, build_args, video_codec_args
from editbay_common.media.render.presets import Preset
from editbay_common.media.render.sources import SourceInfo, count_frames, keyframe_times
from editbay_common.media.render.timeline import Timeline, frames_at

WL = ["-protocol_whitelist", process.PROTOCOL_WHITELIST]


class SmartPathUnavailable(RuntimeError):
    """The smart path cannot render this timeline exactly; use the full re-encode."""


@dataclass(frozen=True)
class Part:
    """Frames ``[start, end)`` of ``source`` (frame indices at the preset rate)."""

    source: Path
    start: int
    end: int
    copy: bool

    @property
    def frames(self) -> int:
        return self.end - self.start


def eligible(timeline: Timeline, preset: Preset, infos: Mapping[Path, SourceInfo]) -> bool:
    """Cut-only, and every source is H.264 exactly like the output (size, rate, format, profile)."""
    if not timeline.is_cut_only:
        return False
    profiles = set()
    for info in infos.values():
        if (
            info.video_codec != "h264"
            or (info.width, info.height) != (preset.width, preset.height)
            or info.fps != preset.fps
            or info.variable_frame_rate
            or info.pix_fmt != "yuv420p"
            or info.rotation
        ):
            return False
        profiles.add(info.profile)
    # The re-encoded pieces are High profile; copied pieces must be too.
    if profiles != {"High"}:
        return False
    return all(
        frames_at(s.in_s, preset.fps) + s.frames(preset.fps)
        <= frames_at(infos[s.source].duration_s, preset.fps) - 1
        for s in timeline.segments
    )


def plan_parts(start: int, frames: int, keyframes: list[int], source: Path) -> list[Part]:
    """Split source frames ``[start, start+frames)`` into re-encoded ends and a copied middle."""
    end = start + frames
    first = next((k for k in keyframes if k >= start), None)
    last = next((k for k in reversed(keyframes) if k <= end), None)
    if first is None or last is None or last <= first:
        return [Part(source, start, end, copy=False)]
    parts = []
    if first > start:
        parts.append(Part(source, start, first, copy=False))
    parts.append(Part(source, first, last, copy=True))
    if end > last:
        parts.append(Part(source, last, end, copy=False))
    return parts


async def plan_timeline(timeline: Timeline, preset: Preset) -> list[Part]:
    fps = preset.fps
    sources = list(dict.fromkeys(s.source for s in timeline.segments))
    times = await asyncio.gather(*(keyframe_times(p) for p in sources))
    keyframes = {p: [frames_at(t, fps) for t in ts] for p, ts in zip(sources, times, strict=True)}
    parts: list[Part] = []
    for seg in timeline.segments:
        start = frames_at(seg.in_s, fps)
        parts += plan_parts(start, seg.frames(fps), keyframes[seg.source], seg.source)
    return parts


def _part_args(part: Part, preset: Preset, dest: Path, threads: int | None) -> list[str]:
    fps = preset.fps
    if part.copy:
        # Seek a quarter frame past the keyframe: the demuxer lands on the keyframe at or
        # before that time, which is ours, and stream copy starts there. -frames:v counts
        # packets in decode order, which for closed GOPs are exactly the frames up to the next
        # keyframe.
        ss = (part.start + 0.25) / fps
        codec = ["-c:v", "copy"]
    else:
        # Accurate seek half a frame early keeps frames from `start` on; passthrough timing
        # keeps them (a constant-rate muxer clock would duplicate the first frame).
        ss = max(0.0, (part.start - 0.5) / fps)
        codec = []
        for key, value in video_codec_args(preset, threads, cfr=False).items():
            codec += [f"-{key}", str(value)]
    return [
        *process.ffmpeg_base_args(), *WL, "-ss", f"{ss:.6f}", "-i", input_url(part.source),
        "-map", "0:v:0", "-an", "-sn", "-dn", *codec, "-frames:v", str(part.frames),
        "-f", "mpegts", str(dest),
    ]  # fmt: skip


async def _render_audio(
    timeline: Timeline,
    preset: Preset,
    infos: Mapping[Path, SourceInfo],
    dest: Path,
    timeout_s: float | None,
) -> None:
    """The whole programme's audio (AAC): a loudness pre-pass if needed, then the encode."""
    from editbay_common.media.render.engine import loudness_gain  # engine imports this module

    gain = await loudness_gain(timeline, preset, dict(infos), timeout_s)
    args = build_args(timeline, preset, infos, dest, spec=OutputSpec("audio"), progress=False,
                      gain=gain)  # fmt: skip
    await process.run(args, timeout=timeout_s)


async def render_smart(
    timeline: Timeline,
    preset: Preset,
    infos: Mapping[Path, SourceInfo],
    out: Path,
    scratch: Path,
    progress: object,
    *,
    timeout_s: float | None = None,
    threads: int | None = None,
) -> list[Part]:
    """Write ``out`` (MP4) by the smart path; returns the parts it used."""
    from editbay_common.media.render.engine import Progress  # engine imports this module

    assert isinstance(progress, Progress)
    parts = await plan_timeline(timeline, preset)
    total = sum(p.frames for p in parts)
    audio = scratch / "audio.m4a"
    audio_job = asyncio.create_task(_render_audio(timeline, preset, infos, audio, timeout_s))
    # Parts are short FFmpeg runs: run a few at once (one per core) to hide process start-up.
    gate = asyncio.Semaphore(max(1, min(4, os.cpu_count() or 1)))
    done = 0

    async def one(i: int, part: Part) -> None:
        nonlocal done
        dest = scratch / f"part-{i:04d}.ts"
        async with gate:
            await process.run(_part_args(part, preset, dest, threads), timeout=timeout_s)
            if part.copy and await count_frames(dest) != part.frames:
                raise SmartPathUnavailable(f"copied part {i} does not hold {part.frames} frames")
        done += part.frames
        await progress.report(0.95 * done / total)

    jobs = [asyncio.ensure_future(one(i, part)) for i, part in enumerate(parts)]
    try:
        await asyncio.gather(*jobs)
        lines = ["ffconcat version 1.0"]
        for i, part in enumerate(parts):
            lines += [f"file part-{i:04d}.ts", f"duration {part.frames / preset.fps:.6f}"]
        (scratch / "parts.ffconcat").write_text("\n".join(lines) + "\n")
        await audio_job
    finally:
        pending = [j for j in (*jobs, audio_job) if not j.done()]
        for job in pending:
            job.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    join = [
        *process.ffmpeg_base_args(), *WL, "-f", "concat", "-safe", "1",
        "-i", str(scratch / "parts.ffconcat"), *WL, "-i", str(audio),
        "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
        "-movflags", "+faststart", "-f", "mp4", str(out),
    ]  # fmt: skip
    await process.run(join, timeout=timeout_s)
    return parts
