"""The smart path: a cut-only timeline is stream-copied between keyframes.

For each segment only the ends are re-encoded: from the in-point to the first keyframe, and from
the last closed boundary before the out-point (between two groups of B-frames, found from the
packets' decode order, which the source's probe lists) to the out-point. Everything between is
copied untouched. Parts are written as MPEG-TS (Annex B, parameter sets in-band before every
IDR, so re-encoded and copied parts with different SPS/PPS can follow each other), joined with the
concat demuxer and muxed into MP4 with the audio, which is rendered once for the whole timeline.

The re-encoded ends are decoded from small stream copies ("snippets": the packets from the
keyframe before each end up to the last one it needs), read one after another by one decoder.
One decoder instead of one per end: each decoder keeps its frame buffers until FFmpeg exits, and
the two dozen of the 12-segment benchmark edit touched 200 MB of fresh memory, a quarter of a
second of CPU.

Two chains of FFmpeg runs work at once. The picture: one run stream-copies the snippets and all
the whole GOPs, then one re-encodes all the ends as one stream (split into parts at forced
keyframes). The audio: a loudness pass, then the AAC encode. The split is checked part by part
and the finished file's frame count and duration by the engine; anything unexpected raises
``SmartPathUnavailable`` or fails verification, and the engine falls back to the full re-encode.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from editbay_common.media import process
from editbay_common.media.probe import input_url
from editbay_common.media.render.audio import mux, render_audio
from editbay_common.media.render.graph import video_codec_args
from editbay_common.media.render.presets import Preset
from editbay_common.media.render.sources import SourceInfo
from editbay_common.media.render.timeline import Timeline, frames_at
from editbay_common.media.render.verify import MuxReport

WL = ["-protocol_whitelist", process.PROTOCOL_WHITELIST]
MAX_REORDER_DELAY = 16  # frames: x264 allows at most 16 consecutive B-frames


class SmartPathUnavailable(RuntimeError):
    """The smart path cannot render this timeline exactly; use the full re-encode."""


@dataclass(frozen=True)
class Part:
    """Frames ``[start, end)`` of ``source`` (frame indices at the preset rate)."""

    source: Path
    start: int
    end: int
    copy: bool
    # A re-encoded part is decoded from its snippet: ``packets`` packets in decode order from
    # the keyframe ``key`` (which opens a closed GOP, so nothing in them is shown before it).
    key: int = 0
    packets: int = 0
    # Where a stream copy that reads on from an earlier keyframe starts to keep packets so that
    # its first is ``key`` (``Layout.cue``); None: only a seek of its own lands there.
    cue: float | None = None
    # The source's first frame comes this long after its file's start (``VideoPackets``).
    offset_s: float = 0.0

    @property
    def frames(self) -> int:
        return self.end - self.start

    def seek_s(self, frame: float, fps: int) -> float:
        """Where FFmpeg's ``-ss`` (counted from the file's start) finds ``frame`` (from the
        source's first frame)."""
        return max(0.0, self.offset_s + frame / fps)


def eligible(timeline: Timeline, preset: Preset, infos: Mapping[Path, SourceInfo]) -> bool:
    """Cut-only, and every source is H.264 exactly like the output (size, rate, format, profile)
    and was probed with its packets (``load_sources(..., packets=True)``)."""
    if not timeline.is_cut_only:
        return False
    profiles = set()
    for info in infos.values():
        if (
            not info.packets
            # in- and out-points count from the file's start, the full re-encode takes the
            # first frame at or after them: frame n is the source's n-th while its video starts
            # less than a frame after the file
            or info.video_offset_s * preset.fps >= 0.9
            or info.video_codec != "h264"
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


@dataclass(frozen=True)
class Layout:
    """Where a source may be cut without re-encoding, in frames at the preset's rate."""

    keyframes: frozenset[int]
    # ``b`` such that the packets before frame ``b`` in decode order are exactly frames ``< b``:
    # nothing on one side refers to or is shown on the other (B-frames never straddle ``b``).
    closed: frozenset[int]
    order: tuple[int, ...] = ()  # the frames in decode order
    decoded_at: tuple[float, ...] = ()  # their decoding times, in frames

    @classmethod
    def of(
        cls, packets: list[tuple[float, bool]], fps: int, dts: list[float] | None = None
    ) -> Layout:
        """From the packets' ``(time, is keyframe)`` in decode order and their decoding times
        (the presentation times where not given)."""
        frames = [frames_at(t, fps) for t, _ in packets]
        decoded = [t * fps for t in dts] if dts else [float(f) for f in frames]
        base = min(frames, default=0)
        closed, seen = {base}, -1
        for count, frame in enumerate(frames, start=1):
            seen = max(seen, frame)
            if seen - base + 1 == count:
                closed.add(seen + 1)
        keys = frozenset(f for f, (_, key) in zip(frames, packets, strict=True) if key)
        return cls(keys, frozenset(closed), tuple(frames), tuple(decoded))

    def cue(self, key: int) -> float | None:
        """A time (in frames) past which the first keyframe is ``key``, whether FFmpeg compares
        a packet's presentation or its decoding time: between the keyframe before it (shown, so
        also decoded, earlier) and ``key``'s decoding time. None if there is no such time."""
        before = max((k for k in self.keyframes if k < key), default=None)
        decoded = self.decoded_at[self.order.index(key)]
        if before is None or before >= decoded:
            return None
        return (before + decoded) / 2

    def snippet(self, start: int, end: int) -> tuple[int, int]:
        """``(key, packets)``: frames ``[start, end)`` decode from the last keyframe at or before
        ``start`` and the packets that follow it in decode order, up to the last of them."""
        opens = self.keyframes & self.closed
        key = max((k for k in self.keyframes if k <= start), default=None)
        if key is None or key not in opens:
            # an open GOP shows frames before its keyframe that need the GOP before it
            raise SmartPathUnavailable(f"no closed GOP to decode frame {start} from")
        at = self.order.index(key)
        needed = set(range(start, end))
        for count, frame in enumerate(self.order[at:], start=1):
            needed.discard(frame)
            if not needed:
                return key, count
        raise SmartPathUnavailable(f"frames {start}-{end} are not all in the packet listing")


def plan_parts(start: int, frames: int, layout: Layout, source: Path) -> list[Part]:
    """Split source frames ``[start, start+frames)`` into re-encoded ends and a copied middle.

    The copy starts on a keyframe that opens a closed GOP and ends on the last closed boundary
    before the out-point, often inside the last GOP (between two groups of B-frames), so the
    tail that is re-encoded is a few frames rather than up to a whole GOP."""
    end = start + frames
    opens = layout.keyframes & layout.closed  # keyframes that open a closed GOP
    first = min((k for k in opens if k >= start), default=None)
    last = max((b for b in layout.closed if b <= end), default=None)
    if first is None or last is None or last <= first:
        return [_encoded(source, start, end, layout)]
    parts = []
    if first > start:
        parts.append(_encoded(source, start, first, layout))
    parts.append(Part(source, first, last, copy=True, key=first, cue=layout.cue(first)))
    if end > last:
        parts.append(_encoded(source, last, end, layout))
    return parts


def _encoded(source: Path, start: int, end: int, layout: Layout) -> Part:
    key, packets = layout.snippet(start, end)
    return Part(source, start, end, copy=False, key=key, packets=packets, cue=layout.cue(key))


def plan_timeline(
    timeline: Timeline, preset: Preset, infos: Mapping[Path, SourceInfo]
) -> list[Part]:
    """The parts of every segment, from its source's packets (``infos`` probed with them)."""
    fps = preset.fps
    layouts: dict[Path, Layout] = {}
    parts: list[Part] = []
    for seg in timeline.segments:
        info = infos[seg.source]
        if seg.source not in layouts:
            layouts[seg.source] = Layout.of(list(info.packets), fps, list(info.packet_dts))
        start = frames_at(seg.in_s, fps)
        parts += [
            replace(p, offset_s=info.video_offset_s)
            for p in plan_parts(start, seg.frames(fps), layouts[seg.source], seg.source)
        ]
    return parts


# Copies from one source share an input (one demuxer reading on) while each starts within this
# much of where the one before ends.
SHARED_READ_GAP_S = 10.0


def _copy_args(copies: list[tuple[str, Part]], preset: Preset, scratch: Path) -> list[str]:
    """One FFmpeg run that stream-copies, for every ``(name, part)``, the part's packets from its
    keyframe (``part.key``) into the MPEG-TS file ``name``: a whole-GOP part's frames, or a
    re-encoded part's snippet. ``-frames:v`` counts packets in decode order, which for closed
    GOPs are exactly the frames up to the next keyframe.

    An input is seeked a quarter frame past its first keyframe: the demuxer lands on the
    keyframe at or before that time, which is ours, and stream copy starts there. Later copies
    from the same stretch of the source read on from that input instead of opening their own
    (each input costs a demuxer, a thread and its probing): an output ``-ss`` at the part's cue
    makes its copy start on its keyframe."""
    fps = preset.fps
    inputs: list[str] = []
    outputs: list[str] = []
    reading: dict[Path, tuple[int, int, float]] = {}  # source: (input, its keyframe, read to)
    opened = 0
    for name, part in sorted(copies, key=lambda c: (str(c[1].source), c[1].key)):
        count = part.frames if part.copy else part.packets
        n, first, read_to = reading.get(part.source, (-1, 0, 0.0))
        start: list[str] = []
        if n >= 0 and part.key == first:
            pass  # the input's own keyframe
        elif n >= 0 and part.cue is not None and part.key <= read_to + SHARED_READ_GAP_S * fps:
            # after the input's seek, packet times count from a quarter frame past ``first``
            start = ["-ss", f"{(part.cue - first - 0.25) / fps:.6f}"]
        else:
            n, first, read_to = opened, part.key, 0.0
            opened += 1
            inputs += [*WL, "-ss", f"{part.seek_s(first + 0.25, fps):.6f}", "-i",
                       input_url(part.source)]  # fmt: skip
        outputs += ["-map", f"{n}:v:0", "-c:v", "copy", *start, "-frames:v", str(count),
                    "-f", "mpegts", str(scratch / name)]  # fmt: skip
        reading[part.source] = (n, first, max(read_to, part.key + count + MAX_REORDER_DELAY))
    return [*process.ffmpeg_base_args(), *inputs, *outputs]


# Room after each snippet on the encode's input timeline, so that no frame of one snippet falls
# in the next one's window.
SNIPPET_GAP_S = 1.0


def _snippet_name(index: int) -> str:
    return f"snip-{index:04d}.ts"


def _encode_args(
    encodes: list[tuple[int, Part]], preset: Preset, scratch: Path, threads: int | None
) -> list[str]:
    """One FFmpeg run that re-encodes every partial-GOP part as one continuous x264 stream.

    The snippets are read one after another by the concat demuxer, each on a slot of its own
    (its frames counted from its keyframe, then a gap), so one decoder decodes them all; a
    ``select`` keeps each part's frames by their times and renumbers them as one stream. A
    keyframe is forced at every part boundary and the segment muxer splits the stream there, one
    MPEG-TS file per part (closed GOPs: every file starts with an IDR and decodes on its own). One
    encoder instead of one per part: no process start-up, encoder warm-up or idle threads per
    part."""
    fps = preset.fps
    lines = ["ffconcat version 1.0"]
    windows: list[str] = []
    slot = 0.0  # where the current snippet's keyframe lands on the input timeline
    for i, part in encodes:
        # half a frame either side: frame f of the source comes at slot + (f - key) / fps
        lo, hi = (slot + (f - part.key - 0.5) / fps for f in (part.start, part.end))
        windows.append(f"between(t,{lo:.6f},{hi:.6f})")
        # the snippet's frames: at most a reordering delay past its packets' count
        span = (part.packets + MAX_REORDER_DELAY) / fps + SNIPPET_GAP_S
        lines += [f"file {_snippet_name(i)}", f"duration {span:.6f}"]
        slot += span
    listing = scratch / "snippets.ffconcat"
    listing.write_text("\n".join(lines) + "\n")
    # a script file: an edit of a thousand cuts makes a graph longer than an argument may be
    graph = scratch / "encode.graph"
    graph.write_text(f"[0:v:0]select='{'+'.join(windows)}',setpts=N/({fps}*TB)[v]\n")
    bounds, pos = [], 0
    for _, part in encodes[:-1]:
        pos += part.frames
        bounds.append(pos)
    codec: list[str] = []
    # The parts are a few frames each: a deeper lookahead buffer only adds frames in flight
    # (measured a little slower here).
    for key, value in video_codec_args(preset, threads, deep_buffer=False).items():
        codec += [f"-{key}", str(value)]
    csv = str(scratch / "encoded.csv")
    split = ["-f", "segment", "-segment_format", "mpegts", "-reset_timestamps", "1",
             "-segment_list", csv, "-segment_list_type", "csv"]  # fmt: skip
    if bounds:
        times = ",".join(f"{b / fps:.6f}" for b in bounds)
        split += ["-force_key_frames", times, "-segment_frames", ",".join(map(str, bounds))]
    return [
        # one decoder thread: the snippets are short, x264's threads already fill the cores
        # (frame-threaded decoding cost a fifth more CPU here for nothing); -copyts: the select
        # windows are on the concat demuxer's own timeline
        *process.ffmpeg_base_args(), "-threads", "1", "-copyts", *WL, "-f", "concat",
        "-safe", "1", "-i", str(listing), "-filter_complex_script", str(graph), "-map", "[v]",
        *codec,
        # with the segment muxer's global header, x264 leaves SPS/PPS out of the stream: put
        # them back before every keyframe so each file stands alone
        "-bsf:v", "dump_extra=freq=keyframe", *split, str(scratch / "enc-%04d.ts"),
    ]  # fmt: skip


def _part_name(index: int) -> str:
    return f"part-{index:04d}.ts"


def _check_encoded(encodes: list[tuple[int, Part]], preset: Preset, scratch: Path) -> None:
    """The segment muxer split where the keyframes were forced: one file per part, each starting
    at its part's first frame; rename them to their places in the timeline."""
    rows = [r.split(",") for r in (scratch / "encoded.csv").read_text().splitlines() if r]
    if len(rows) != len(encodes):
        raise SmartPathUnavailable(f"{len(rows)} encoded pieces for {len(encodes)} parts")
    # The listed times carry the encoder's B-frame reordering delay (a few frames; the first
    # piece is listed from 0): take it from the second piece, then every piece must start
    # exactly its part's length after the one before.
    delay = float(rows[1][1]) * preset.fps - encodes[0][1].frames if len(rows) > 1 else 0.0
    if not -0.5 < delay < MAX_REORDER_DELAY + 0.5:
        raise SmartPathUnavailable(f"encoded pieces are offset by {delay:.1f} frames")
    pos = 0
    for n, ((i, part), row) in enumerate(zip(encodes, rows, strict=True)):
        if n and abs(float(row[1]) * preset.fps - delay - pos) > 0.5:
            raise SmartPathUnavailable(f"encoded part {i} starts at {row[1]}s, not frame {pos}")
        pos += part.frames
    for (i, _), row in zip(encodes, rows, strict=True):
        (scratch / row[0]).replace(scratch / _part_name(i))


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
) -> tuple[list[Part], MuxReport]:
    """Write ``out`` (MP4) by the smart path (``infos`` probed with packets); returns the parts
    it used and what the mux reports it wrote."""
    from editbay_common.media.render.engine import Progress  # engine imports this module

    assert isinstance(progress, Progress)

    async def picture() -> list[Part]:
        parts = plan_timeline(timeline, preset, infos)
        indexed = list(enumerate(parts))
        encodes = [(i, p) for i, p in indexed if not p.copy]
        copies = [(_part_name(i), p) for i, p in indexed if p.copy]
        snippets = [(_snippet_name(i), p) for i, p in encodes]
        # One copying run for both: the copies take a fraction of a second, and a second run
        # (so that the encode need not wait for the whole GOPs) cost more than it saved.
        await process.run(_copy_args(snippets + copies, preset, scratch), timeout=timeout_s)
        if encodes:
            args = await asyncio.to_thread(_encode_args, encodes, preset, scratch, threads)
            await process.run(args, timeout=timeout_s)
            await asyncio.to_thread(_check_encoded, encodes, preset, scratch)
        await progress.report(0.9)
        lines = ["ffconcat version 1.0"]
        for i, part in indexed:
            lines += [f"file {_part_name(i)}", f"duration {part.frames / preset.fps:.6f}"]
        await asyncio.to_thread((scratch / "parts.ffconcat").write_text, "\n".join(lines) + "\n")
        return parts

    # The audio (measure, then AAC) is the longest single chain: it starts with the planning.
    audio = scratch / "audio.m4a"
    parts, _ = await process.together(
        picture(), render_audio(timeline, preset, infos, audio, scratch, timeout_s)
    )
    listing = ["-f", "concat", "-safe", "1", "-i", str(scratch / "parts.ffconcat")]
    return parts, await mux([*WL, *listing], audio, out, timeout_s=timeout_s)
