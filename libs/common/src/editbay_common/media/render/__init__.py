"""The FFmpeg render engine: timelines, presets, rendering, verification, chunks, smart path."""

from editbay_common.media.render.engine import ProgressFn, RenderResult, render
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
    "RenderResult",
    "RenderVerificationError",
    "Segment",
    "Timeline",
    "Transform",
    "Transition",
    "get_preset",
    "render",
    "verify_output",
]
