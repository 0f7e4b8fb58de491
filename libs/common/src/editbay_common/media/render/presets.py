"""Output presets: size, rate and encoder settings of a finished video."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    width: int
    height: int
    fps: int = 30
    crf: int = 20
    x264_preset: str = "veryfast"
    audio_rate: int = 48000
    audio_bitrate: str = "160k"
    loudness_lufs: float = -14.0
    gop_s: float = 2.0

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2:
            raise ValueError("yuv420p needs even width and height")
        if self.fps <= 0 or self.audio_rate <= 0:
            raise ValueError("fps and audio rate must be positive")

    @property
    def gop_frames(self) -> int:
        return max(1, round(self.gop_s * self.fps))

    @property
    def frame_s(self) -> float:
        return 1.0 / self.fps


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("landscape-1080p", 1920, 1080),
        Preset("landscape-720p", 1280, 720),
        Preset("vertical-1080x1920", 1080, 1920),
        Preset("square-1080", 1080, 1080),
    )
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}") from None
