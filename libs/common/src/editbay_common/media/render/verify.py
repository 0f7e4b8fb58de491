"""Checks a rendered file before anyone sees it: streams, size, duration, a strict decode."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
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
    _check_timing(path.name, v.frame_count, info.duration_s, expected_duration_s, preset)
    await check_streams(path, expected_duration_s=expected_duration_s, preset=preset)
    if not decode:
        return
    try:
        await verify_decode(path, info)
    except MediaRejected as exc:
        raise RenderVerificationError(f"{path.name}: {exc}") from exc


def _check_timing(
    name: str, frames: int | None, duration_s: float, expected_duration_s: float, preset: Preset
) -> None:
    """The video's frames last the timeline within one frame, and so does the whole file."""
    frame = 1.0 / preset.fps
    if frames is not None and abs(frames * frame - expected_duration_s) > frame + 1e-6:
        raise RenderVerificationError(
            f"{name}: {frames} frames, timeline lasts {expected_duration_s:.3f}s"
        )
    # The container's duration is the longer stream: AAC may end up to one frame late.
    slack = frame + AAC_FRAME / preset.audio_rate + 1e-6
    if abs(duration_s - expected_duration_s) > slack:
        raise RenderVerificationError(
            f"{name}: lasts {duration_s:.3f}s, timeline {expected_duration_s:.3f}s"
        )


async def stream_durations(path: Path) -> dict[str, float]:
    """Each stream kind's own duration as the container declares it (the first stream of each
    ``codec_type``; a stream that declares none is left out): only the header is read."""
    args = [
        process.FFPROBE, "-v", "error", "-protocol_whitelist", process.PROTOCOL_WHITELIST,
        "-show_entries", "stream=codec_type,duration", "-of", "json", str(path),
    ]  # fmt: skip
    try:
        result = await process.run(args, timeout=60)  # the header alone
        streams = json.loads(result.stdout or b"{}").get("streams") or []
    except (process.FFmpegError, ValueError) as exc:
        raise RenderVerificationError(f"{path.name}: cannot read its streams: {exc}") from exc
    out: dict[str, float] = {}
    for st in streams:
        kind, raw = st.get("codec_type"), st.get("duration")
        if kind in ("video", "audio") and kind not in out and raw not in (None, "N/A"):
            out[kind] = float(raw)
    return out


async def check_streams(path: Path, *, expected_duration_s: float, preset: Preset) -> None:
    """Raise ``RenderVerificationError`` unless the video and the audio stream each last the
    timeline: the video within one frame, the audio within one frame and one AAC frame (the
    container's duration is the longer stream's, so a short track passes a check of it)."""
    durations = await stream_durations(path)
    frame = 1.0 / preset.fps
    slack = {"video": frame + 1e-6, "audio": frame + AAC_FRAME / preset.audio_rate + 1e-6}
    for kind, allowed in slack.items():
        got = durations.get(kind)
        if got is None:
            raise RenderVerificationError(f"{path.name}: the {kind} stream declares no duration")
        if abs(got - expected_duration_s) > allowed:
            raise RenderVerificationError(
                f"{path.name}: {kind} lasts {got:.3f}s, timeline {expected_duration_s:.3f}s"
            )


@dataclass(frozen=True)
class MuxReport:
    """What FFmpeg's last ``-progress`` block says it wrote: video frames, the output's end
    time and its size."""

    frames: int
    duration_s: float
    size_bytes: int

    @classmethod
    def of(cls, block: Mapping[str, str]) -> MuxReport:
        def number(key: str) -> int:
            raw = block.get(key, "")
            return int(raw) if raw.lstrip("-").isdigit() else -1

        return cls(number("frame"), number("out_time_us") / 1e6, number("total_size"))


def check_report(
    path: Path,
    report: MuxReport,
    *,
    expected_frames: int,
    expected_duration_s: float,
    preset: Preset,
) -> None:
    """Raise ``RenderVerificationError`` unless the mux that wrote ``path`` reports exactly the
    timeline's frames and as long an output: the cheap check of a file whose streams are known
    (the mux maps one H.264 stream of the preset's size and one AAC stream), without reading it
    back. The report cannot tell the streams' lengths apart: ``check_streams`` reads them from
    the file's header."""
    if report.size_bytes <= 0 or report.frames <= 0:
        raise RenderVerificationError(f"{path.name}: the mux reported no video written")
    if report.frames != expected_frames:
        raise RenderVerificationError(
            f"{path.name}: {report.frames} frames written, the timeline has {expected_frames}"
        )
    _check_timing(path.name, report.frames, report.duration_s, expected_duration_s, preset)


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
