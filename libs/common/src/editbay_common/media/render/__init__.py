"""The FFmpeg render engine: timelines, presets, rendering, verification, chunks, smart path."""

from editbay_common.media.render.audio import render_programme_audio
from editbay_common.media.render.chunks import (
    chunk_bounds,
    chunk_of,
    join_chunks,
    render_chunk,
    render_chunked,
    split_timeline,
)
from editbay_common.media.render.engine import ProgressFn, RenderInputError, RenderResult, render
from editbay_common.media.render.presets import PRESETS, Preset, get_preset
from editbay_common.media.render.timeline import (
    MusicBed,
    Overlay,
    Segment,
    Timeline,
    Transform,
    Transition,
)
from editbay_common.media.render.verify import RenderVerificationError, verify_output

__all__ = [
    "PRESETS",
    "MusicBed",
    "Overlay",
    "Preset",
    "ProgressFn",
    "RenderInputError",
    "RenderResult",
    "RenderVerificationError",
    "Segment",
    "Timeline",
    "Transform",
    "Transition",
    "chunk_bounds",
    "chunk_of",
    "get_preset",
    "join_chunks",
    "render",
    "render_chunk",
    "render_chunked",
    "render_programme_audio",
    "split_timeline",
    "verify_output",
]
