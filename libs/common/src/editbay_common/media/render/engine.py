"""The render entry point: a timeline and a preset in, a verified MP4 out.

The whole timeline's picture (every segment, transition and layer) is one FFmpeg invocation
with one filter graph built by ``graph.py``, never one run per segment. Its sound is a second
invocation beside it on the other core, since a static loudness gain needs the whole programme
measured before it is encoded (``audio.py``); a stream-copying mux then writes the MP4. The smart
path (``smart.py``) and chunked renders (``chunks.py``) keep the same shape.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from editbay_common.media import process
from editbay_common.media.limits import MediaRejected
from editbay_common.media.probe import STILL_DEMUXERS
from editbay_common.media.render.audio import WL, mux, render_audio
from editbay_common.media.render.captions import (
    CaptionError,
    Cue,
    read_captions,
    shift_cues,
    write_sidecars,
)
from editbay_common.media.render.graph import OutputSpec, build_args, graph_to_script
from editbay_common.media.render.presets import Preset
from editbay_common.media.render.sources import SourceInfo, source_info, still_info
from editbay_common.media.render.text import default_font
from editbay_common.media.render.timeline import Timeline
from editbay_common.media.render.verify import (
    RenderVerificationError,
    check_report,
    check_streams,
    verify_output,
)

log = logging.getLogger(__name__)

ProgressFn = Callable[[float], Awaitable[None] | None]


@dataclass(frozen=True)
class RenderResult:
    path: Path
    duration_s: float
    frame_count: int | None
    size_bytes: int
    smart_path: bool


class RenderInputError(ValueError):
    """The timeline refers to something unusable (a missing or refused file, a source without
    video, a music bed without sound)."""


# How far past a source's last out-point its packets are listed: the layout at an out-point
# needs the packets decoded after it that are shown before it (B-frames, at most 16).
PACKETS_PAST_OUT_S = 2.0


async def load_sources(timeline: Timeline, *, packets: bool = False) -> dict[Path, SourceInfo]:
    """Probe and validate every file the timeline reads, once each, before a graph reads any:
    the segments' sources (``packets``: with their packet layout, for the smart path, read only
    as far as the timeline uses them), the pip and split overlays' and the music bed's (all
    through the hardened probe), and the image overlays' (PNG or JPEG by their content, see
    ``still_info``). They are all untrusted media: what is unusable raises
    ``RenderInputError`` naming the file and why."""
    until: dict[Path, float] = {}
    for seg in timeline.segments:
        until[seg.source] = max(until.get(seg.source, 0.0), seg.out_s + PACKETS_PAST_OUT_S)
    # What each file is read as, by the first use that names it.
    roles: dict[Path, str] = dict.fromkeys(until, "source")
    for ov in timeline.overlays:
        if ov.source is not None:
            roles.setdefault(ov.source, f"{ov.kind} overlay")
    if timeline.music is not None:
        roles.setdefault(timeline.music.source, "music bed")

    async def checked(path: Path, role: str) -> SourceInfo:
        try:
            if role == "image overlay":
                return await still_info(path)
            return await source_info(path, packets_until_s=until.get(path) if packets else None)
        except MediaRejected as exc:
            raise RenderInputError(f"{role} {path.name}: {exc}") from exc

    found = await process.together(*(checked(path, role) for path, role in roles.items()))
    infos = dict(zip(roles, found, strict=True))
    for seg in timeline.segments:
        info = infos[seg.source]
        if not info.has_video:
            raise RenderInputError(f"{seg.source.name} has no video stream")
        if info.duration_s and seg.in_s >= info.duration_s:
            raise RenderInputError(f"{seg.source.name}: in-point {seg.in_s}s is past its end")
    for ov in timeline.overlays:
        if ov.source is None:
            continue
        info = infos[ov.source]
        if (ov.kind == "image") != (info.demuxer in STILL_DEMUXERS):
            wanted = "a PNG or JPEG image" if ov.kind == "image" else "a video"
            raise RenderInputError(f"{ov.kind} overlay {ov.source.name} is not {wanted}")
        if not info.has_video:
            raise RenderInputError(f"{ov.kind} overlay {ov.source.name} has no video stream")
    music = timeline.music
    if music is not None and not infos[music.source].has_audio:
        raise RenderInputError(f"music bed {music.source.name} has no audio stream")
    return infos


def segment_sources(timeline: Timeline, infos: Mapping[Path, SourceInfo]) -> dict[Path, SourceInfo]:
    """Of ``infos``, the segments' sources alone (what the smart path cuts)."""
    return {seg.source: infos[seg.source] for seg in timeline.segments}


class Progress:
    """Turns FFmpeg ``-progress`` blocks of a picture's encode into a monotonic fraction 0..1 for
    a callback, by the frames encoded of ``total_frames``. (Not by ``out_time``: with
    ``-copyts``, which the picture's encode needs, FFmpeg 5 counts it from the first timestamp
    it reports after zero, so it stays 0 for an output that starts at zero.)"""

    def __init__(self, callback: ProgressFn | None, total_frames: int) -> None:
        self.callback, self.total_frames = callback, max(total_frames, 1)
        self.last = -1.0

    async def report(self, fraction: float) -> None:
        value = min(max(fraction, 0.0), 1.0)
        if self.callback is None or value <= self.last:
            return
        self.last = value
        maybe = self.callback(value)
        if maybe is not None:
            await maybe

    async def on_block(self, block: dict[str, str]) -> None:
        raw = block.get("frame", "")
        if raw.isdigit():
            # Hold back the last percent until the file is finished and verified.
            await self.report(min(int(raw) / self.total_frames, 0.99))


def partial_path(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.partial{dest.suffix}")


def load_captions(timeline: Timeline) -> list[Cue] | None:
    """The timeline's caption cues (None without captions), read and validated before any
    FFmpeg run: a file that cannot be read, is not UTF-8 or is malformed raises
    ``RenderInputError`` instead of failing a finished encode."""
    path = timeline.captions
    if path is None:
        return None
    try:
        return read_captions(path)
    except UnicodeDecodeError as exc:
        raise RenderInputError(
            f"captions {path.name} are not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"offset {exc.start}); save them as UTF-8"
        ) from exc
    except CaptionError as exc:
        raise RenderInputError(f"captions {path.name}: {exc}") from exc
    except OSError as exc:
        raise RenderInputError(f"captions {path.name}: {exc.strerror or exc}") from exc


def publish(tmp: Path, dest: Path, cues: list[Cue] | None) -> None:
    """Move a finished, verified output from ``tmp`` to ``dest``, its caption sidecars
    (``.srt``/``.vtt``, if ``cues``) first: they are written beside ``tmp`` and renamed into
    place, and the video comes last, so no failure leaves ``dest`` behind."""
    if cues is not None:
        parts = write_sidecars(cues, tmp)
        try:
            for part in parts:
                part.replace(dest.with_suffix(part.suffix))
        finally:
            for part in parts:
                part.unlink(missing_ok=True)
    tmp.replace(dest)


async def render(
    timeline: Timeline,
    preset: Preset,
    dest: Path,
    *,
    on_progress: ProgressFn | None = None,
    timeout_s: float | None = None,
    verify: bool = True,
    allow_smart: bool = True,
    threads: int | None = None,
) -> RenderResult:
    """Render ``timeline`` to ``dest`` (MP4, H.264 high/yuv420p + AAC, faststart).

    Cut-only timelines of compatible H.264 sources take the smart path (stream copy between
    keyframes). Cancelling the awaiting task kills FFmpeg's process group and removes the
    partial output. Caption sidecars (``.srt``/``.vtt``) are written beside ``dest``.
    """
    from editbay_common.media.render import smart  # smart imports engine helpers

    dest = Path(dest)
    # a bad captions file fails before any FFmpeg run
    captions = await asyncio.to_thread(load_captions, timeline)
    # Only a cut-only timeline can take the smart path, which cuts by the sources' packets.
    smart_wanted = allow_smart and timeline.is_cut_only
    infos = await load_sources(timeline, packets=smart_wanted)
    expected = float(timeline.exact_duration(preset.fps))
    tmp = partial_path(dest)
    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="render-"))
    used_smart = False
    try:
        progress = Progress(on_progress, timeline.frame_count(preset.fps))
        job = _Job(timeline, preset, infos, tmp, scratch, progress, timeout_s, threads, captions)
        # a music bed or overlay source is no take: it decides nothing about copying takes
        if smart_wanted and smart.eligible(timeline, preset, segment_sources(timeline, infos)):
            used_smart = await _try_smart(job, decode=verify)
        if not used_smart:
            await _render_full(job)
        if verify and not used_smart:  # the smart path verifies itself (it may fall back)
            await verify_output(tmp, expected_duration_s=expected, preset=preset)
        await progress.report(1.0)
        await asyncio.to_thread(publish, tmp, dest, sidecar_cues(timeline, captions, expected))
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)
    return RenderResult(dest, expected, timeline.frame_count(preset.fps), dest.stat().st_size,
                        used_smart)  # fmt: skip


def sidecar_cues(timeline: Timeline, cues: list[Cue] | None, length_s: float) -> list[Cue] | None:
    """The cues of the sidecars of a render of ``timeline`` that lasts ``length_s``."""
    if cues is None:
        return None
    return shift_cues(cues, timeline.captions_offset_s, length_s)


@dataclass(frozen=True)
class _Job:
    """One render's inputs and working places, as the two paths take them."""

    timeline: Timeline
    preset: Preset
    infos: dict[Path, SourceInfo]
    tmp: Path  # the partial output
    scratch: Path
    progress: Progress
    timeout_s: float | None
    threads: int | None
    captions: list[Cue] | None  # as load_captions read them


async def _render_full(job: _Job) -> None:
    """The full re-encode: the picture and the programme's audio at once, then the mux."""
    video, audio = job.scratch / "video.mp4", job.scratch / "audio.m4a"
    spec = OutputSpec("video", job.threads)
    args = await full_args(job.timeline, job.preset, job.infos, video, job.scratch, spec,
                           captions=job.captions)  # fmt: skip
    await process.together(
        process.run(args, timeout=job.timeout_s, on_progress=job.progress.on_block),
        render_audio(job.timeline, job.preset, job.infos, audio, job.scratch, job.timeout_s),
    )
    await mux([*WL, "-f", "mov", "-i", str(video)], audio, job.tmp, timeout_s=job.timeout_s)


async def _try_smart(job: _Job, *, decode: bool) -> bool:
    """Render by the smart path; False (and a clean slate) if it cannot be done exactly.

    Its output is always checked, so that a bad join falls back to the full re-encode instead
    of failing the render: by the frames (exactly the timeline's) and the duration the mux
    reports it wrote, and with ``decode`` also read back and strictly decoded."""
    from editbay_common.media.render import smart

    try:
        _, report = await smart.render_smart(
            job.timeline, job.preset, job.infos, job.tmp, job.scratch, job.progress,
            timeout_s=job.timeout_s, threads=job.threads,
        )  # fmt: skip
        expected = float(job.timeline.exact_duration(job.preset.fps))
        frames = job.timeline.frame_count(job.preset.fps)
        check_report(job.tmp, report, expected_frames=frames, expected_duration_s=expected,
                     preset=job.preset)  # fmt: skip
        await check_streams(job.tmp, expected_duration_s=expected, preset=job.preset)
        if decode:
            await verify_output(job.tmp, expected_duration_s=expected, preset=job.preset)
        return True
    except (smart.SmartPathUnavailable, RenderVerificationError, process.FFmpegError) as exc:
        if isinstance(exc, process.FFmpegTimeout):
            raise
        log.warning("smart path failed, re-encoding the whole timeline: %s", exc)
        await asyncio.to_thread(job.tmp.unlink, True)
        return False


async def full_args(
    timeline: Timeline,
    preset: Preset,
    infos: dict[Path, SourceInfo],
    out: Path,
    scratch: Path,
    spec: OutputSpec,
    *,
    captions: list[Cue] | None = None,
) -> list[str]:
    """FFmpeg args of the full re-encode's picture (its reads' listings, fonts and text files
    prepared in ``scratch``); ``captions``: the timeline's cues if the caller read them."""
    needs_text = any(o.kind in ("title", "lower_third") for o in timeline.overlays)
    cues: list[Cue] = []
    if timeline.burn_captions:
        if captions is None:  # not read by the caller yet
            captions = await asyncio.to_thread(load_captions, timeline)
        cues = sidecar_cues(timeline, captions, timeline.duration_s) or []
    font = await default_font() if needs_text or cues else None
    args = await asyncio.to_thread(build_args, timeline, preset, infos, out, spec=spec,
                                   font=font, scratch=scratch, cues=cues)  # fmt: skip
    # the graph grows with the segments and cues: past 128 KiB no single argument may hold it
    return await asyncio.to_thread(graph_to_script, args, scratch, "picture")
