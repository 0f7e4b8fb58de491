"""How the full re-encode reads its segments' pictures: a run of segments shares one decoder.

Given an input of its own (``-ss``), every segment had its own demuxer and decoder, all opened
when FFmpeg starts and kept until it exits: memory grew with each segment (the 12-segment
benchmark edit of 720p takes held 330 MB in decoders; read as below, 125 MB) and every decoder's
start-up and threads cost CPU.

Instead, a run of consecutive segments whose sources decode alike (``decoder_key``) is one
listing of the concat demuxer, read by one decoder. Each entry seeks its file to the segment's
in-point (``inpoint``: reading starts at the keyframe before it, as with ``-ss``) and stops at its
out-point (``outpoint``). The demuxer shifts each entry's timestamps so that its in-point lands on
its ``slot``, the frames decoded from the keyframe before it just before the slot. Slots lie so
far apart that no frame of one entry reaches another's window (what the entry reads, then more
than the next entry's keyframe can precede its in-point: no further than the file's start, plus
room for frames shown after the out-point). The graph splits the decoded stream and trims each
segment's window out of it; FFmpeg must keep the demuxer's timestamps (``-copyts``).

A crossfade needs both of its sides at once, so a segment that crossfades in starts a new run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from editbay_common.media.probe import input_url
from editbay_common.media.render.sources import SourceInfo
from editbay_common.media.render.timeline import Segment, Timeline

US = 1_000_000
# How far past a segment's out-point its entry reads where the source's frame rate is unknown or
# variable (``read_past_us``); the exact trims of the graph decide what is kept.
READ_PAST_US = 200_000
# Room after an entry's out-point for frames that are decoded before it but shown after (B-frames;
# at most 16 frames, at any frame rate above 1.6 fps), and before the next entry's earliest frame.
SLOT_MARGIN_US = 10 * US


def decoder_key(info: SourceInfo) -> tuple[object, ...]:
    """Sources with equal keys may follow one another through one decoder.

    The concat demuxer describes all its entries by the first one's stream (its index, time
    base and rotation; it rescales no timestamps), and FFmpeg rebuilds the whole filter graph when
    the decoded picture's size or format changes. H.264 parameter sets travel in-band from one
    file to the next (the demuxer's ``auto_convert``); other codecs must share their out-of-band
    setup."""
    setup = None if info.video_codec == "h264" else (info.extradata_hash or "unknown")
    return (info.demuxer, info.video_codec, info.video_index, info.time_base, info.width,
            info.height, info.pix_fmt, info.rotation, setup)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One segment's read in a listing, in microseconds: from ``inpoint_us`` (the file's own
    timestamps) on for ``read_us``, placed at ``slot_us`` of the listing's timeline; the segment
    itself starts ``lead_us`` after the in-point (sources whose seeks land late are read from
    earlier, ``SourceInfo.seek_preroll_s``)."""

    source: Path
    inpoint_us: int
    read_us: int
    slot_us: int
    lead_us: int

    @property
    def window_s(self) -> tuple[float, float]:
        """The segment's frames on the listing's timeline: ``[start, end)`` in seconds."""
        return (self.slot_us + self.lead_us) / US, (self.slot_us + self.read_us) / US


@dataclass(frozen=True)
class Run:
    """Consecutive segments read through one listing (one input, one decoder)."""

    entries: tuple[Entry, ...]
    demuxer: str | None

    def listing(self) -> str:
        """The ffconcat text: each entry's file, in- and out-point, and its slot's length."""
        lines = ["ffconcat version 1.0"]
        for entry, after in zip(self.entries, [*self.entries[1:], None], strict=True):
            lines += [
                f"file {quote(input_url(entry.source))}",
                f"inpoint {_s(entry.inpoint_us)}",
                f"outpoint {_s(entry.inpoint_us + entry.read_us)}",
            ]
            if after is not None:
                lines.append(f"duration {_s(after.slot_us - entry.slot_us)}")
        return "\n".join(lines) + "\n"


def read_past_us(seg: Segment, info: SourceInfo, fps: int) -> int:
    """How far past ``seg``'s out-point its entry reads, for an output at ``fps``.

    The concat demuxer ends an entry at its first packet *decoded* at or after the out-point, so
    every frame shown before that point is read, and so are the frames it refers to, which are
    decoded earlier: B-frames need no room of their own. What the graph needs past the out-point
    is the source frame nearest the segment's last output frame (``fps`` takes the nearest), at
    most half a source frame past it: one output frame (at the segment's speed) and one source
    frame cover it, and a millisecond covers the rounding. Whatever is read past that is decoded,
    filtered and thrown away; a fixed 200 ms cost the 12-segment benchmark edit about 0.3 s of CPU
    and 4% of its time."""
    if info.fps is None or info.fps <= 0 or info.variable_frame_rate:
        return READ_PAST_US
    return _us(seg.speed / fps + 1 / float(info.fps)) + 1_000


def plan_runs(timeline: Timeline, infos: Mapping[Path, SourceInfo], fps: int) -> list[Run]:
    """The timeline's segments, in order, as runs of entries, for an output at ``fps``."""
    runs: list[tuple[tuple[object, ...], list[Entry], str | None]] = []
    for seg in timeline.segments:
        info = infos[seg.source]
        key = decoder_key(info)
        # Where the container's seeks land late, read from earlier (before the file's start,
        # if need be: a seek there finds the first keyframe, one to the very start may not).
        seek_us = _us(seg.in_s - info.seek_preroll_s)
        crossfades = seg.transition_in is not None and seg.transition_in.kind == "crossfade"
        if runs and runs[-1][0] == key and not crossfades:
            last = runs[-1][1][-1]
            slot = last.slot_us + last.read_us + SLOT_MARGIN_US + max(seek_us, 0)
        else:
            runs.append((key, [], info.demuxer))
            slot = 0  # the demuxer starts its timeline with the first entry's in-point
        runs[-1][1].append(_entry(seg, info, seek_us, slot, read_past_us(seg, info, fps)))
    return [Run(tuple(entries), demuxer) for _, entries, demuxer in runs]


def _entry(seg: Segment, info: SourceInfo, seek_us: int, slot_us: int, past_us: int) -> Entry:
    lead = _us(seg.in_s) - seek_us
    read = lead + _us(seg.out_s) - _us(seg.in_s) + past_us
    return Entry(seg.source, _us(info.start_time_s) + seek_us, read, slot_us, lead)


def quote(text: str) -> str:
    """A token of the ffconcat format: single-quoted, a quote written as ``'\\''``."""
    if any(c in text for c in "\n\r\0"):
        raise ValueError(f"a source path may not hold line breaks: {text!r}")
    return "'" + text.replace("'", "'\\''") + "'"


def _us(seconds: float) -> int:
    return round(seconds * US)


def _s(us: int) -> str:
    return f"{us // US}.{us % US:06d}" if us >= 0 else f"-{_s(-us)}"
