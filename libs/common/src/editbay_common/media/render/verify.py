"""Checks a rendered file before anyone sees it: streams, size, duration, a strict decode."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from editbay_common.media import process
from editbay_common.media.limits import MediaRejected
from editbay_common.media.probe import probe, verify_decode
from editbay_common.media.render.presets import Preset

AAC_FRAME = 1024  # samples per AAC frame: the audio track may end up to one frame late


class RenderVerificationError(Exception):
    """The output is not what the timeline and preset promised."""


def _size(path: Path) -> int:
    return os.path.getsize(path) if os.path.isfile(path) else 0


async def verify_output(
    path: Path, *, expected_duration_s: float, preset: Preset, decode: bool = True
) -> None:
    """Raise ``RenderVerificationError`` unless ``path`` is a clean H.264/AAC file of the preset's
    size whose video lasts ``expected_duration_s`` within one frame and whose audio is aligned.

    ``decode=False`` skips the strict full decode and checks only the container and streams."""
    if await asyncio.to_thread(_size, path) == 0:
        raise RenderVerificationError(f"{path.name}: missing or empty")
    try:
        info = await probe(path, keyframe_interval=False)
    except MediaRejected as exc:
        raise RenderVerificationError(f"{path.name}: {exc}") from exc
    v, a = info.video, info.audio
    if v is None or v.codec != "h264":
        raise RenderVerificationError(f"{path.name}: expected an h264 video stream")
    if a is None or a.codec != "aac":
        raise RenderVerificationError(f"{path.name}: expected an aac audio stream")
    if (v.width, v.height, v.pix_fmt) != (preset.width, preset.height, "yuv420p"):
        raise RenderVerificationError(
            f"{path.name}: video is {v.width}x{v.height} {v.pix_fmt}, preset wants "
            f"{preset.width}x{preset.height} yuv420p"
        )
    frame = 1.0 / preset.fps
    if (
        v.frame_count is not None
        and abs(v.frame_count * frame - expected_duration_s) > frame + 1e-6
    ):
        raise RenderVerificationError(
            f"{path.name}: {v.frame_count} frames, timeline lasts {expected_duration_s:.3f}s"
        )
    # The container's duration is the longer stream: AAC may end up to one frame late.
    slack = frame + AAC_FRAME / preset.audio_rate + 1e-6
    if abs(info.duration_s - expected_duration_s) > slack:
        raise RenderVerificationError(
            f"{path.name}: lasts {info.duration_s:.3f}s, timeline {expected_duration_s:.3f}s"
        )
    if not decode:
        return
    try:
        await verify_decode(path, info)
    except MediaRejected as exc:
        raise RenderVerificationError(f"{path.name}: {exc}") from exc


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
