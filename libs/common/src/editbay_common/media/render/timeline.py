"""The timeline: pure data describing an edit, with frame-accurate arithmetic.

Times are given in seconds (what people and plans speak), but every length that decides where a
cut lands is converted to whole frames at the output rate, as OpenTimelineIO does with rational
time. ``frames_at`` rounds half up (never banker's rounding) so that splitting a segment into two
pieces always gives the same total frame count as the whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Literal, get_args

TransitionKind = Literal["fade", "crossfade"]
OverlayKind = Literal["image", "title", "lower_third", "pip", "split"]
Position = Literal[
    "center", "top", "bottom", "top-left", "top-right", "bottom-left", "bottom-right"
]


POSITIONS: tuple[str, ...] = get_args(Position)
OVERLAY_KINDS: tuple[str, ...] = get_args(OverlayKind)


def _finite(owner: object, *fields: str) -> None:
    """Raise ``ValueError`` naming the first of ``fields`` of ``owner`` that is NaN or
    infinite (which would pass the range checks and fail later, deep in the arithmetic)."""
    for name in fields:
        value = getattr(owner, name)
        if not math.isfinite(value):
            raise ValueError(f"{type(owner).__name__}.{name} must be a finite number, not {value}")


def frames_at(seconds: float, fps: int) -> int:
    """Whole frames at ``fps`` closest to ``seconds`` (half rounds up; tolerant of float noise)."""
    return math.floor(seconds * fps + 0.5 + 1e-9)


def samples_for_frames(frames: int, fps: int, sample_rate: int) -> int:
    """Audio samples that last exactly as long as ``frames`` video frames (rounded half up)."""
    return math.floor(Fraction(frames * sample_rate, fps) + Fraction(1, 2))


@dataclass(frozen=True)
class Transform:
    """A per-segment picture transform, applied before scaling to the preset.

    ``crop`` is a rectangle ``(x, y, w, h)`` in fractions of the source picture (0..1).
    """

    crop: tuple[float, float, float, float] | None = None
    hflip: bool = False
    vflip: bool = False

    def __post_init__(self) -> None:
        if self.crop is not None:
            if not all(math.isfinite(v) for v in self.crop):
                raise ValueError(f"Transform.crop must be finite numbers, not {self.crop}")
            x, y, w, h = self.crop
            if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 - x + 1e-9 and 0 < h <= 1 - y + 1e-9):
                raise ValueError(f"crop {self.crop} is not inside the picture")


@dataclass(frozen=True)
class Transition:
    """How a segment enters.

    ``fade``: the segment fades in from black (picture and sound); the timeline keeps its length.
    ``crossfade``: the segment overlaps the previous one by ``duration_s`` (xfade + acrossfade),
    so the timeline is ``duration_s`` shorter than the sum of its segments.
    """

    kind: TransitionKind = "fade"
    duration_s: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in ("fade", "crossfade"):
            raise ValueError(f"unknown transition kind {self.kind!r}")
        _finite(self, "duration_s")
        if self.duration_s <= 0:
            raise ValueError("transition duration must be positive")

    def frames(self, fps: int) -> int:
        return max(1, frames_at(self.duration_s, fps))


@dataclass(frozen=True)
class Segment:
    """A piece of a source file: ``[in_s, out_s)`` in source time, played at ``speed``."""

    source: Path
    in_s: float
    out_s: float
    speed: float = 1.0
    transform: Transform | None = None
    transition_in: Transition | None = None

    def __post_init__(self) -> None:
        _finite(self, "in_s", "out_s", "speed")
        if self.in_s < 0 or self.out_s <= self.in_s:
            raise ValueError(f"segment [{self.in_s}, {self.out_s}) is empty or negative")
        if not 0.25 <= self.speed <= 4.0:
            raise ValueError("speed must be between 0.25 and 4")

    @property
    def duration_s(self) -> float:
        """Length on the timeline (source length divided by speed)."""
        return (self.out_s - self.in_s) / self.speed

    def frames(self, fps: int) -> int:
        return max(1, frames_at(self.duration_s, fps))

    @property
    def is_plain_cut(self) -> bool:
        return self.speed == 1.0 and self.transform is None and self.transition_in is None


@dataclass(frozen=True)
class Overlay:
    """A layer drawn over the main picture between ``start_s`` and ``end_s`` (timeline time).

    Use the constructors: ``Overlay.image``, ``.title``, ``.lower_third``, ``.pip``, ``.split``.
    ``scale`` is the overlay's width as a fraction of the output width (image, pip);
    ``source_in_s`` is where a pip/split source starts playing.
    """

    kind: OverlayKind
    start_s: float
    end_s: float
    text: str | None = None
    subtitle: str | None = None
    source: Path | None = None
    source_in_s: float = 0.0
    position: Position = "center"
    scale: float = 0.25
    margin: float = 0.04
    font_size: float = 0.07  # fraction of output height
    color: str = "white"

    def __post_init__(self) -> None:
        if self.kind not in OVERLAY_KINDS:
            raise ValueError(f"unknown overlay kind {self.kind!r}")
        if self.position not in POSITIONS:
            raise ValueError(
                f"Overlay.position {self.position!r} is not one of {', '.join(POSITIONS)}"
            )
        _finite(self, "start_s", "end_s", "source_in_s", "scale", "margin", "font_size")
        if self.end_s <= self.start_s or self.start_s < 0:
            raise ValueError(f"overlay window [{self.start_s}, {self.end_s}) is empty")
        needs_text = self.kind in ("title", "lower_third")
        if needs_text and not self.text:
            raise ValueError(f"a {self.kind} overlay needs text")
        if not needs_text and self.source is None:
            raise ValueError(f"a {self.kind} overlay needs a source")

    @classmethod
    def image(
        cls,
        source: Path,
        start_s: float,
        end_s: float,
        *,
        position: Position = "top-right",
        scale: float = 0.15,
    ) -> Overlay:
        return cls("image", start_s, end_s, source=source, position=position, scale=scale)

    @classmethod
    def title(
        cls,
        text: str,
        start_s: float,
        end_s: float,
        *,
        position: Position = "center",
        font_size: float = 0.08,
    ) -> Overlay:
        return cls("title", start_s, end_s, text=text, position=position, font_size=font_size)

    @classmethod
    def lower_third(
        cls, text: str, start_s: float, end_s: float, *, subtitle: str | None = None
    ) -> Overlay:
        return cls(
            "lower_third",
            start_s,
            end_s,
            text=text,
            subtitle=subtitle,
            position="bottom-left",
            font_size=0.06,
        )

    @classmethod
    def pip(
        cls,
        source: Path,
        start_s: float,
        end_s: float,
        *,
        source_in_s: float = 0.0,
        position: Position = "bottom-right",
        scale: float = 0.3,
    ) -> Overlay:
        return cls(
            "pip",
            start_s,
            end_s,
            source=source,
            source_in_s=source_in_s,
            position=position,
            scale=scale,
        )

    @classmethod
    def split(
        cls, source: Path, start_s: float, end_s: float, *, source_in_s: float = 0.0
    ) -> Overlay:
        """Side by side: the main picture on the left half, ``source`` on the right half."""
        return cls("split", start_s, end_s, source=source, source_in_s=source_in_s)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def shifted(self, offset_s: float, length_s: float) -> Overlay | None:
        """This overlay in a window of the timeline starting at ``offset_s``; None if outside."""
        start, end = self.start_s - offset_s, self.end_s - offset_s
        if end <= 0 or start >= length_s:
            return None
        clipped_start = max(0.0, start)
        skipped = clipped_start - start
        return replace(
            self,
            start_s=clipped_start,
            end_s=min(end, length_s),
            source_in_s=self.source_in_s + skipped,
        )


@dataclass(frozen=True)
class MusicBed:
    """Music under the whole timeline, looped as needed, ducked under dialogue when ``duck``."""

    source: Path
    gain_db: float = -12.0
    duck: bool = True
    offset_s: float = 0.0  # where in the music the timeline starts (chunks continue the bed)

    def __post_init__(self) -> None:
        _finite(self, "gain_db", "offset_s")


@dataclass(frozen=True)
class Timeline:
    segments: tuple[Segment, ...]
    overlays: tuple[Overlay, ...] = ()
    captions: Path | None = None  # SRT or VTT, timed on this timeline
    burn_captions: bool = False
    music: MusicBed | None = None
    fade_out_s: float = 0.0  # fade to black and silence at the very end
    captions_offset_s: float = 0.0  # caption clock time at which this timeline starts
    normalize_loudness: bool = True

    def __post_init__(self) -> None:
        _finite(self, "fade_out_s", "captions_offset_s")
        if self.fade_out_s < 0:
            raise ValueError("Timeline.fade_out_s must not be negative")
        if not self.segments:
            raise ValueError("a timeline needs at least one segment")
        first = self.segments[0].transition_in
        if first is not None and first.kind == "crossfade":
            raise ValueError("the first segment cannot cross-fade from nothing")
        for prev, seg in zip(self.segments, self.segments[1:], strict=False):
            tr = seg.transition_in
            if (
                tr
                and tr.kind == "crossfade"
                and tr.duration_s >= min(prev.duration_s, seg.duration_s)
            ):
                raise ValueError("a crossfade must be shorter than both segments it joins")

    @property
    def duration_s(self) -> float:
        """Length in seconds: segments (after speed) minus crossfade overlaps."""
        total = sum(s.duration_s for s in self.segments)
        return total - sum(
            s.transition_in.duration_s
            for s in self.segments
            if s.transition_in and s.transition_in.kind == "crossfade"
        )

    def frame_count(self, fps: int) -> int:
        """Exact number of output frames at ``fps`` (what the renderer produces)."""
        return sum(s.frames(fps) for s in self.segments) - sum(
            s.transition_in.frames(fps)
            for s in self.segments
            if s.transition_in and s.transition_in.kind == "crossfade"
        )

    def exact_duration(self, fps: int) -> Fraction:
        return Fraction(self.frame_count(fps), fps)

    def segment_starts(self, fps: int) -> list[int]:
        """Frame at which each segment's first frame appears on the output."""
        starts, pos = [], 0
        for seg in self.segments:
            tr = seg.transition_in
            if tr and tr.kind == "crossfade":
                pos -= tr.frames(fps)
            starts.append(pos)
            pos += seg.frames(fps)
        return starts

    @property
    def is_cut_only(self) -> bool:
        """True when the edit is only cuts: no overlays, transitions, speed, transforms."""
        return (
            not self.overlays
            and not (self.captions and self.burn_captions)
            and self.fade_out_s == 0
            and all(s.is_plain_cut for s in self.segments)
        )
