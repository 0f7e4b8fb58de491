"""What every render of a worker needs, whole or in parts: its timeline over local copies of
the sources, a time limit for each FFmpeg run, and the words for why it failed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from editbay_common.media.process import FFmpegError
from editbay_common.media.render import RenderVerificationError, Segment, Timeline
from editbay_common.media.render.engine import RenderInputError
from editbay_common.storage import ObjectNotFound, Storage


def ffmpeg_timeout_s(duration_s: float) -> float:
    """How long one FFmpeg run of a render may take before it is killed and the attempt fails:
    five minutes and twenty times the programme's length, far beyond a healthy render, so that
    only a hung FFmpeg reaches it instead of holding its job (and renewing its lease) forever."""
    return 300.0 + 20.0 * duration_s


async def source_timeline(
    storage: Storage, segments: list[dict[str, Any]], sources_dir: Path
) -> Timeline:
    """The job's timeline over local copies of its sources (each fetched once)."""
    await asyncio.to_thread(sources_dir.mkdir, parents=True, exist_ok=True)
    sources: dict[str, Path] = {}
    for segment in segments:
        key = segment["storage_key"]
        if key not in sources:
            sources[key] = await storage.local_path(key, sources_dir)
    return Timeline(
        segments=tuple(
            Segment(source=sources[s["storage_key"]], in_s=s["in_s"], out_s=s["out_s"])
            for s in segments
        )
    )


def describe_failure(error: Exception) -> str:
    """Why an attempt failed, for people reading ``failure_reason``."""
    if isinstance(error, ObjectNotFound):
        return f"source missing in storage: {error.key}"
    if isinstance(error, RenderVerificationError):
        return f"output failed verification: {error}"
    if isinstance(error, RenderInputError):
        return f"unusable source: {error}"
    if isinstance(error, FFmpegError):
        return f"ffmpeg failed: {error}"
    return f"{type(error).__name__}: {error}"


async def cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
