"""Chunked rendering: split a timeline, render the pieces independently, join them losslessly.

Chunk boundaries fall on whole frames and never inside a transition or the final fade, so every
chunk is an ordinary timeline. Chunks carry only the picture (H.264 in MP4); the programme's
audio is one more job, rendered for the whole timeline at once (``render_programme_audio``), so it
has no joins at all (no AAC priming gaps, no clicks) and its loudness is normalised over the whole
programme. The join stream-copies the chunks' video (concat demuxer) and the audio into one MP4.
A worker can take any of the jobs: the chunks and the audio render at the same time.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from editbay_common.media import process
from editbay_common.media.render.audio import WL, mux, render_programme_audio
from editbay_common.media.render.engine import (
    Progress,
    ProgressFn,
    RenderResult,
    full_args,
    load_captions,
    load_sources,
    partial_path,
    publish,
    sidecar_cues,
)
from editbay_common.media.render.graph import OutputSpec
from editbay_common.media.render.presets import Preset
from editbay_common.media.render.reads import quote
from editbay_common.media.render.timeline import Segment, Timeline
from editbay_common.media.render.verify import verify_output


def _protected(timeline: Timeline, fps: int) -> list[tuple[int, int]]:
    """Half-open frame ranges ``[lo, hi)`` a cut may not fall in: transitions, the final fade.

    A crossfade needs both of its sides whole and longer than the overlap, so a cut may not
    touch it at all; a fade-in may start a chunk but not be split.
    """
    ranges = []
    for seg, start in zip(timeline.segments, timeline.segment_starts(fps), strict=True):
        tr = seg.transition_in
        if tr is not None and tr.kind == "crossfade":
            ranges.append((start, start + tr.frames(fps) + 1))
        elif tr is not None:
            ranges.append((start + 1, start + tr.frames(fps)))
    total = timeline.frame_count(fps)
    if timeline.fade_out_s > 0:
        ranges.append((total - max(1, round(timeline.fade_out_s * fps)) + 1, total))
    return ranges


def cut_points(timeline: Timeline, n: int, fps: int) -> list[int]:
    """Up to ``n - 1`` frame positions that split the timeline into near-equal chunks."""
    total = timeline.frame_count(fps)
    cuts: list[int] = []
    for k in range(1, n):
        cut = round(k * total / n)
        for lo, hi in _protected(timeline, fps):
            if lo <= cut < hi:
                cut = hi
        if 0 < cut < total and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
    return cuts


def _window(timeline: Timeline, lo: int, hi: int, fps: int) -> Timeline:
    """The part of ``timeline`` between output frames ``lo`` and ``hi``."""
    segments: list[Segment] = []
    for seg, start in zip(timeline.segments, timeline.segment_starts(fps), strict=True):
        end = start + seg.frames(fps)
        if end <= lo or start >= hi:
            continue
        a, b = max(start, lo), min(end, hi)
        in_s = seg.in_s + (a - start) / fps * seg.speed
        out_s = seg.in_s + (b - start) / fps * seg.speed
        transition = seg.transition_in if a == start and segments else None
        if a == start and not segments and seg.transition_in and seg.transition_in.kind == "fade":
            transition = seg.transition_in
        segments.append(replace(seg, in_s=in_s, out_s=out_s, transition_in=transition))
    offset, length = lo / fps, (hi - lo) / fps
    overlays = tuple(o for o in (ov.shifted(offset, length) for ov in timeline.overlays) if o)
    music = timeline.music
    if music is not None:
        music = replace(music, offset_s=music.offset_s + offset)
    total = timeline.frame_count(fps)
    return replace(
        timeline, segments=tuple(segments), overlays=overlays, music=music,
        captions_offset_s=timeline.captions_offset_s + offset,
        fade_out_s=timeline.fade_out_s if hi == total else 0.0,
    )  # fmt: skip


def chunk_bounds(timeline: Timeline, n: int, *, fps: int = 30) -> list[tuple[int, int]]:
    """The output frame ranges ``[lo, hi)`` of at most ``n`` near-equal chunks (fewer if
    transitions force it): what a worker needs, with the timeline, to render one chunk."""
    if n < 1:
        raise ValueError("n must be at least 1")
    bounds = [0, *cut_points(timeline, n, fps), timeline.frame_count(fps)]
    return list(itertools.pairwise(bounds))


def chunk_of(timeline: Timeline, lo: int, hi: int, *, fps: int = 30) -> Timeline:
    """The chunk of ``timeline`` between output frames ``lo`` and ``hi`` (from chunk_bounds)."""
    if not 0 <= lo < hi <= timeline.frame_count(fps):
        raise ValueError(f"frames {lo}-{hi} are not a stretch of the timeline")
    return _window(timeline, lo, hi, fps)


def split_timeline(timeline: Timeline, n: int, *, fps: int = 30) -> list[Timeline]:
    """Split into at most ``n`` chunks of near-equal length (fewer if transitions force it)."""
    return [_window(timeline, lo, hi, fps) for lo, hi in chunk_bounds(timeline, n, fps=fps)]


async def render_chunk(
    chunk: Timeline,
    preset: Preset,
    dest: Path,
    *,
    threads: int | None = None,
    timeout_s: float | None = None,
    on_progress: ProgressFn | None = None,
) -> Path:
    """Render one chunk's picture to ``dest`` (H.264 in MP4, no audio)."""
    infos = await load_sources(chunk)
    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="chunk-"))
    tmp = partial_path(dest)
    try:
        args = await full_args(chunk, preset, infos, tmp, scratch, OutputSpec("video", threads))
        progress = Progress(on_progress, chunk.frame_count(preset.fps))
        await process.run(args, timeout=timeout_s, on_progress=progress.on_block)
        tmp.replace(dest)
        await progress.report(1.0)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)
    return dest


async def join_chunks(
    chunk_paths: Sequence[Path], audio: Path, dest: Path, *, timeout_s: float | None = None
) -> Path:
    """Join rendered chunks and the programme's audio into one MP4, both stream-copied."""
    tmp = partial_path(dest)
    try:
        await _join(chunk_paths, audio, tmp, timeout_s)
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


async def _join(
    chunk_paths: Sequence[Path], audio: Path, out: Path, timeout_s: float | None
) -> None:
    """The join's mux, straight into ``out``."""
    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="join-"))
    try:
        listing = scratch / "chunks.ffconcat"
        body = "".join(f"file {quote(str(p.resolve()))}\n" for p in chunk_paths)
        listing.write_text("ffconcat version 1.0\n" + body)
        video = ["-f", "concat", "-safe", "0", "-i", str(listing)]
        await mux([*WL, *video], audio, out, timeout_s=timeout_s)
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


async def render_chunked(
    timeline: Timeline,
    preset: Preset,
    dest: Path,
    n: int,
    *,
    threads: int | None = None,
    timeout_s: float | None = None,
    verify: bool = True,
) -> RenderResult:
    """Split, render the chunks and the audio concurrently on this machine, join and verify;
    the output (and its caption sidecars, as ``render`` writes them) appears at ``dest`` only
    once verified."""
    dest = Path(dest)
    # a bad captions file fails before any FFmpeg run
    captions = await asyncio.to_thread(load_captions, timeline)
    chunks = split_timeline(timeline, n, fps=preset.fps)
    expected = float(timeline.exact_duration(preset.fps))
    tmp = partial_path(dest)
    work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="chunks-"))
    try:
        paths = [work / f"chunk-{i:03d}.mp4" for i in range(len(chunks))]
        audio = work / "audio.m4a"
        await process.together(
            *(render_chunk(c, preset, p, threads=threads, timeout_s=timeout_s)
              for c, p in zip(chunks, paths, strict=True)),
            render_programme_audio(timeline, preset, audio, timeout_s=timeout_s),
        )  # fmt: skip
        await _join(paths, audio, tmp, timeout_s)
        if verify:
            await verify_output(tmp, expected_duration_s=expected, preset=preset)
        await asyncio.to_thread(publish, tmp, dest, sidecar_cues(timeline, captions, expected))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    size = await asyncio.to_thread(os.path.getsize, dest)
    return RenderResult(dest, expected, timeline.frame_count(preset.fps), size, False)
