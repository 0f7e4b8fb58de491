"""Checks a rendered file before anyone sees it: streams, size, duration, a strict decode."""

from __future__ import annotations

import os
from pathlib import Path

from editbay_common.media import process
from editbay_common.media.render.presets import Preset
from editbay_common.media.render.sources import ffprobe_json

AAC_FRAME = 1024  # samples per AAC frame: the audio track may end up to one frame late


class RenderVerificationError(Exception):
    """The output is not what the timeline and preset promised."""


async def verify_output(path: Path, *, expected_duration_s: float, preset: Preset) -> None:
    """Raise ``RenderVerificationError`` unless ``path`` is a clean H.264/AAC file of the preset's
    size whose video lasts ``expected_duration_s`` within one frame and whose audio is aligned."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise RenderVerificationError(f"{path.name}: missing or empty")
    data = await ffprobe_json(path, "-show_streams", "-show_format")
    streams = data.get("streams", [])
    video = [s for s in streams if s.get("codec_type") == "video"]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if len(video) != 1 or video[0].get("codec_name") != "h264":
        raise RenderVerificationError(f"{path.name}: expected one h264 video stream")
    if len(audio) != 1 or audio[0].get("codec_name") != "aac":
        raise RenderVerificationError(f"{path.name}: expected one aac audio stream")
    v, a = video[0], audio[0]
    size = (int(v.get("width", 0)), int(v.get("height", 0)))
    if size != (preset.width, preset.height) or v.get("pix_fmt") != "yuv420p":
        raise RenderVerificationError(
            f"{path.name}: video is {size} {v.get('pix_fmt')}, preset wants "
            f"{preset.width}x{preset.height} yuv420p"
        )
    frame = 1.0 / preset.fps
    vdur = float(v.get("duration") or 0)
    if abs(vdur - expected_duration_s) > frame + 1e-6:
        raise RenderVerificationError(
            f"{path.name}: video lasts {vdur:.3f}s, timeline {expected_duration_s:.3f}s"
        )
    adur = float(a.get("duration") or 0)
    if abs(adur - expected_duration_s) > frame + AAC_FRAME / preset.audio_rate + 1e-6:
        raise RenderVerificationError(
            f"{path.name}: audio lasts {adur:.3f}s, timeline {expected_duration_s:.3f}s"
        )
    decoded = await strict_decode(path)
    declared = int(v.get("nb_frames") or 0)
    if declared and decoded != declared:
        raise RenderVerificationError(f"{path.name}: {decoded} frames decode of {declared}")


async def strict_decode(path: Path, timeout_s: float | None = None) -> int:
    """Decode every stream, failing on the first error; returns the number of video frames."""
    last: dict[str, str] = {}

    def keep(block: dict[str, str]) -> None:
        last.update(block)

    args = [
        *process.ffmpeg_base_args(), "-xerror", "-err_detect", "explode",
        "-protocol_whitelist", process.PROTOCOL_WHITELIST, "-i", str(path),
        "-map", "0", "-f", "null", "-progress", "pipe:1", "-nostats", "-",
    ]  # fmt: skip
    try:
        result = await process.run(args, timeout=timeout_s, on_progress=keep, check=False)
    except process.FFmpegTimeout as exc:
        raise RenderVerificationError(f"{path.name}: decode timed out") from exc
    if result.returncode != 0 or result.stderr.strip():
        tail = result.stderr.decode("utf-8", "replace")[-400:]
        raise RenderVerificationError(f"{path.name}: strict decode failed: {tail}")
    return int(last.get("frame", "0") or 0)
