"""Chunked renders, the worker's side (the parts' states are in ``parts.py``).

The worker holding a job's attempt splits a long render into parts and follows them: it renders
any part still unclaimed itself, and when every part has succeeded it joins their outputs
without re-encoding and verifies the result. Any worker with a free slot renders a part whose
message it receives. Either way a part is rendered under its own claim and lease: a heartbeat
renews the lease with the part's progress and stops the render once the part (or its attempt)
is no longer this worker's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from editbay_common.db import Database
from editbay_common.media.render import (
    Preset,
    Timeline,
    chunk_bounds,
    chunk_of,
    join_chunks,
    render_chunk,
    render_programme_audio,
    verify_output,
)
from editbay_common.media.render.engine import RenderResult
from editbay_common.storage import Storage
from editbay_renderer import jobs, parts, renders

log = logging.getLogger(__name__)

PART_POLL_S = 0.25  # how often the attempt's worker looks at its parts
AUDIO_PART_WEIGHT = 0.1  # the sound's share of a chunked render's work, against the picture's
JOIN_SHARE = 0.97  # of a chunked render's progress, before the join and its verification
RELEASE_TIMEOUT_S = 10.0


@dataclass
class PartProgress:
    """What the tasks rendering one part share."""

    claim: parts.PartClaim
    fraction: float = 0.0
    lost: bool = False  # set by the heartbeat when the part is no longer ours
    uploaded_key: str | None = None

    def on_progress(self, fraction: float) -> None:
        self.fraction = max(self.fraction, fraction)


class PartFailed(RuntimeError):
    """A part of a chunked render failed: so does the attempt."""


def parts_progress(views: list[parts.PartView]) -> float:
    """The parts' progress, 0..1, each part weighted by its share of the work."""
    total = sum(v.frames for v in views if v.kind == parts.VIDEO) or 1
    weights = [v.frames if v.kind == parts.VIDEO else AUDIO_PART_WEIGHT * total for v in views]
    done = sum(w * v.progress for w, v in zip(weights, views, strict=True))
    return done / (sum(weights) or 1.0)


class PartWork:
    """A worker's share of chunked renders: splitting its own attempts, rendering parts."""

    def __init__(
        self, db: Database, storage: Storage, *, presets: dict[str, Preset], lease_s: float,
        worker_id: str, wake_relay: Callable[[], None], chunk_s: float, max_parts: int,
    ) -> None:  # fmt: skip
        self._db, self._storage, self._presets = db, storage, presets
        self._lease_s, self._worker_id, self._wake_relay = lease_s, worker_id, wake_relay
        self._chunk_s, self._max_parts = chunk_s, max(2, max_parts)

    def count(self, timeline: Timeline) -> int:
        """How many stretches of picture to render apart: 1 (no parts) below twice the chunk."""
        if self._chunk_s <= 0 or timeline.duration_s < 2 * self._chunk_s:
            return 1
        return min(self._max_parts, int(timeline.duration_s // self._chunk_s))

    async def render(
        self, claim: jobs.Claim, on_progress: Callable[[float], None], timeline: Timeline,
        preset: Preset, dest: Path, scratch: Path, count: int,
    ) -> RenderResult:  # fmt: skip
        """Split the attempt into parts that any worker may render, take parts while any is
        unclaimed, then join the parts' outputs without re-encoding and verify the result."""
        bounds = chunk_bounds(timeline, count, fps=preset.fps)
        await self._db.run_in_transaction(
            lambda s: parts.create_parts(s, claim.job_id, claim.token, bounds)
        )
        self._wake_relay()
        try:
            views = await self._follow(claim, on_progress, scratch)
            joined = scratch / "parts"
            await asyncio.to_thread(joined.mkdir, exist_ok=True)
            local = [await self._storage.local_path(v.output_key or "", joined) for v in views]
            timeout_s = renders.ffmpeg_timeout_s(timeline.duration_s)
            await join_chunks(local[:-1], local[-1], dest, timeout_s=timeout_s)  # sound is last
            expected = float(timeline.exact_duration(preset.fps))
            await verify_output(dest, expected_duration_s=expected, preset=preset)
            size = await asyncio.to_thread(os.path.getsize, dest)
            return RenderResult(dest, expected, timeline.frame_count(preset.fps), size, False)
        finally:
            await self._delete_outputs(claim)

    async def _follow(
        self, claim: jobs.Claim, on_progress: Callable[[float], None], scratch: Path
    ) -> list[parts.PartView]:
        """Wait for every part to succeed, rendering unclaimed ones here meanwhile; raise when
        one failed. The job's progress is the parts' progress, weighted by their work."""
        own: asyncio.Task[None] | None = None
        try:
            while True:
                views = await self._db.run_in_transaction(
                    lambda s: parts.parts_of(s, claim.job_id, claim.token)
                )
                on_progress(JOIN_SHARE * parts_progress(views))
                failed = next((v for v in views if v.state == parts.PartState.FAILED), None)
                if failed is not None:
                    raise PartFailed(f"part {failed.number} ({failed.kind}): "
                                     f"{failed.failure_reason}")  # fmt: skip
                if all(v.state == parts.PartState.SUCCEEDED for v in views):
                    return views
                if own is not None and own.done() and not own.cancelled() and own.exception():
                    raise PartFailed(f"rendering a part here broke: {own.exception()}")
                if own is None or own.done():
                    own = await self._take_one(claim, scratch)
                await asyncio.sleep(PART_POLL_S)
        finally:
            if own is not None:
                await renders.cancel_all([own])

    async def _take_one(self, claim: jobs.Claim, scratch: Path) -> asyncio.Task[None] | None:
        part = await self._db.run_in_transaction(
            lambda s: parts.claim_part(
                s,
                claim.job_id,
                claim.token,
                number=None,
                worker=self._worker_id,
                lease_s=self._lease_s,
            )
        )
        if part is None:
            return None
        log.info("%s: rendering part %d (%s) here", claim.name, part.number, part.kind)
        return asyncio.create_task(self._run(part, scratch / f"part-{part.number}"))

    async def _delete_outputs(self, claim: jobs.Claim) -> None:
        """Delete the outputs of the attempt's parts (best effort: an orphan only costs
        storage, and its key names its job and attempt)."""
        try:
            keys = await self._db.run_in_transaction(
                lambda s: parts.take_outputs(s, claim.job_id, claim.token)
            )
            for key in keys:
                await self._storage.delete(key)
        except Exception:
            log.warning("%s: could not remove the attempt's parts", claim.name, exc_info=True)

    async def attempt(self, claim: parts.PartClaim, scratch: Path) -> None:
        """A part taken from the queue; on shutdown it is handed back for anyone to take."""
        try:
            await self._run(claim, scratch)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self._db.run_in_transaction(lambda s: parts.release_part(s, claim)),
                    RELEASE_TIMEOUT_S,
                )
            raise
        finally:
            with contextlib.suppress(OSError):
                scratch.parent.rmdir()  # the job's folder, if nothing else uses it

    async def _run(self, claim: parts.PartClaim, scratch: Path) -> None:
        """Render one part, store it and mark it done; a failure marks it FAILED. Stops
        quietly when the part or its attempt is no longer ours."""
        state = PartProgress(claim)
        work = asyncio.create_task(self._render(state, scratch))
        beat = asyncio.create_task(self._heartbeat(state, work))
        try:
            try:
                key = await work
            finally:
                await renders.cancel_all([beat])
            if not await self._db.run_in_transaction(lambda s: parts.complete_part(s, claim, key)):
                await self._delete_key(key)
        except asyncio.CancelledError:
            await self._delete_key(state.uploaded_key)
            if not state.lost:
                raise
            log.info("part %d of %s stopped: no longer ours", claim.number, claim.job_name)
        except Exception as error:
            await self._delete_key(state.uploaded_key)
            reason = renders.describe_failure(error)
            log.warning("part %d of %s failed: %s", claim.number, claim.job_name, reason)
            await self._db.run_in_transaction(lambda s: parts.fail_part(s, claim, reason))
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)

    async def _render(self, state: PartProgress, scratch: Path) -> str:
        claim = state.claim
        preset = self._presets.get(claim.preset)
        if preset is None:
            raise ValueError(f"unknown preset {claim.preset!r}")
        timeline = await renders.source_timeline(self._storage, claim.segments, scratch / "sources")
        if claim.kind == parts.AUDIO:
            dest = scratch / "sound.m4a"
            await render_programme_audio(
                timeline, preset, dest, timeout_s=renders.ffmpeg_timeout_s(timeline.duration_s)
            )
        else:
            dest = scratch / "picture.mp4"
            chunk = chunk_of(timeline, claim.frame_lo, claim.frame_hi, fps=preset.fps)
            await render_chunk(chunk, preset, dest, on_progress=state.on_progress,
                               timeout_s=renders.ffmpeg_timeout_s(chunk.duration_s))  # fmt: skip
        key = parts.part_key(claim.job_id, claim.attempt_token, claim.number, claim.claim_token,
                             claim.kind)  # fmt: skip
        state.uploaded_key = key  # before the upload: a cancel during it still cleans up
        await self._storage.put_file(key, dest)
        return key

    async def _heartbeat(self, state: PartProgress, work: asyncio.Task[str]) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                held = await self._db.run_in_transaction(
                    lambda s: parts.renew_part(
                        s, state.claim, lease_s=self._lease_s, progress=state.fraction
                    )
                )
            except Exception:
                log.warning("part heartbeat failed", exc_info=True)
                continue
            if not held:
                state.lost = True
                work.cancel()
                return

    async def _delete_key(self, key: str | None) -> None:
        if key is None:
            return
        try:
            await self._storage.delete(key)
        except Exception:
            log.warning("could not delete %s", key, exc_info=True)
