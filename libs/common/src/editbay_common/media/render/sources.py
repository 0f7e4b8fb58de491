"""What the renderer needs to know about its source files (ffprobe, run asynchronously).

This is deliberately small: stream presence and the parameters the smart path compares, plus the
keyframe positions it cuts at. Full hardened probing lives in ``editbay_common.media.probe``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from editbay_common.media import process


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

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None


async def ffprobe_json(path: Path, *entries: str) -> dict:
    args = [
        process.FFPROBE, "-v", "error", "-protocol_whitelist", process.PROTOCOL_WHITELIST,
        "-print_format", "json", *entries, str(path),
    ]  # fmt: skip
    result = await process.run(args, timeout=60)
    return json.loads(result.stdout or b"{}")


async def source_info(path: Path) -> SourceInfo:
    data = await ffprobe_json(path, "-show_format", "-show_streams")
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = float(data.get("format", {}).get("duration") or 0.0)
    info: dict = {"duration_s": duration, "has_audio": audio is not None}
    if video is not None:
        rate = video.get("avg_frame_rate") or video.get("r_frame_rate") or "0/1"
        fps = Fraction(rate) if rate != "0/0" else None
        info |= {
            "video_codec": video.get("codec_name"),
            "width": int(video.get("width", 0)),
            "height": int(video.get("height", 0)),
            "fps": fps,
            "pix_fmt": video.get("pix_fmt"),
            "profile": video.get("profile"),
        }
    if audio is not None:
        info |= {
            "audio_codec": audio.get("codec_name"),
            "channels": int(audio.get("channels", 0)),
            "sample_rate": int(audio.get("sample_rate", 0)),
        }
    return SourceInfo(**info)


async def keyframe_times(path: Path) -> list[float]:
    """Presentation times of the video keyframes, in order (packet flags, no decoding)."""
    data = await ffprobe_json(
        path, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags"
    )
    times = [
        float(p["pts_time"])
        for p in data.get("packets", [])
        if "K" in p.get("flags", "") and p.get("pts_time") not in (None, "N/A")
    ]
    return sorted(times)


async def count_frames(path: Path) -> int:
    """Decoded-free frame count of the first video stream (counts packets)."""
    data = await ffprobe_json(
        path, "-select_streams", "v:0", "-count_packets", "-show_entries", "stream=nb_read_packets"
    )
    streams = data.get("streams") or [{}]
    return int(streams[0].get("nb_read_packets", 0))
