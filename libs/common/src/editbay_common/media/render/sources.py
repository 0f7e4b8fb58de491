"""What the renderer needs to know about its source files (ffprobe, run asynchronously).

Sources are probed with the hardened ``editbay_common.media.probe``; this module adds the
packet layout the smart path cuts by and a packet count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from editbay_common.media import process
from editbay_common.media.limits import DEFAULT_LIMITS, MediaLimits
from editbay_common.media.probe import input_url, probe


@dataclass(frozen=True)
class SourceInfo:
    duration_s: float
    has_audio: bool
    video_codec: str | None = None
    width: int = 0
    height: int = 0
    fps: Fraction | None = None
    pix_fmt: str | None = None
    profile: str | None = None
    audio_codec: str | None = None
    channels: int = 0
    sample_rate: int = 0
    demuxer: str | None = None
    rotation: int = 0
    variable_frame_rate: bool = False

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None


async def ffprobe_json(path: Path, *entries: str) -> dict:
    """ffprobe's JSON for ``path``, hardened as the probe is (local files, allowed demuxers):
    the smart path reads packets while the sources are still being validated."""
    args = [
        process.FFPROBE, "-v", "error", "-protocol_whitelist", process.PROTOCOL_WHITELIST,
        "-format_whitelist", DEFAULT_LIMITS.demuxer_whitelist(),
        "-print_format", "json", *entries, input_url(path),
    ]  # fmt: skip
    result = await process.run(args, timeout=60)
    return json.loads(result.stdout or b"{}")


async def source_info(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> SourceInfo:
    """Probe a source through the hardened ``probe`` (limits, allow-listed demuxers)."""
    info = await probe(path, limits, keyframe_interval=False)
    v, a = info.video, info.audio
    fields: dict = {"duration_s": info.duration_s, "has_audio": a is not None,
                    "demuxer": info.demuxer}  # fmt: skip
    if v is not None:
        fields |= {
            "video_codec": v.codec, "width": v.width, "height": v.height,
            "fps": Fraction(v.fps).limit_denominator(1001) if v.fps else None,
            "pix_fmt": v.pix_fmt, "profile": v.profile, "rotation": v.rotation,
            "variable_frame_rate": v.variable_frame_rate,
        }  # fmt: skip
    if a is not None:
        fields |= {"audio_codec": a.codec, "channels": a.channels, "sample_rate": a.sample_rate}
    return SourceInfo(**fields)


async def video_packets(path: Path) -> list[tuple[float, bool]]:
    """``(presentation time, is keyframe)`` of every video packet, in decode order (packet
    headers only, nothing decoded)."""
    data = await ffprobe_json(
        path, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags"
    )
    return [
        (float(p["pts_time"]), "K" in p.get("flags", ""))
        for p in data.get("packets", [])
        if p.get("pts_time") not in (None, "N/A")
    ]


async def count_frames(path: Path) -> int:
    """Decoded-free frame count of the first video stream (counts packets)."""
    data = await ffprobe_json(
        path, "-select_streams", "v:0", "-count_packets", "-show_entries", "stream=nb_read_packets"
    )
    streams = data.get("streams") or [{}]
    return int(streams[0].get("nb_read_packets", 0))
