"""The render worker: takes jobs from the ``render`` work queue and renders them with FFmpeg.

For each message the worker claims the job in the database (a new attempt token and a lease),
then lets the broker acknowledge the message at once: a render may outlast any broker timeout,
so the lease, renewed by a heartbeat, is what says a worker is still on it. The attempt then
runs as its own task:

* the heartbeat renews the lease every lease/3 and cancels the render when the job was
  cancelled or taken over (the media engine kills FFmpeg's process group on cancellation);
* the progress reporter writes ``progress_percent`` (at most 4 times a second) and publishes
  ``render.progress`` straight to the broker (best effort: progress is not worth an outbox row);
* the output is stored under an attempt-scoped key, and the completion is accepted only with
  the current token; otherwise the orphan output is deleted.

The worker runs at most ``worker_concurrency`` attempts. While full it stops consuming, so no
message waits unacknowledged behind a long render. On shutdown (the unit task is cancelled) it
stops consuming, cancels its renders and releases their jobs (back to QUEUED with a new message).

A FAILED job's message waits in ``render.dead``; ``broker.replay_dead_letters("render")`` sends
it back, and the worker then starts the job over with a fresh set of attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path

from editbay_common.broker import Broker, Consumer, Delivery, Reject
from editbay_common.broker.base import DEAD_ROUTING_KEY_HEADER
from editbay_common.db import Database
from editbay_common.ids import new_id
from editbay_common.media.render import Preset
from editbay_common.media.render import engine as render_engine
from editbay_common.names import parse
from editbay_common.storage import Storage
from editbay_renderer import jobs, messages, parts, renders
from editbay_renderer.chunked import PartWork

log = logging.getLogger(__name__)

JOB_PATTERN = "shows/{show}/episodes/{episode}/renderJobs/{render_job}"
PROGRESS_INTERVAL_S = 0.25
PROGRESS_PUBLISH_TIMEOUT_S = 2.0
RELEASE_TIMEOUT_S = 10.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"


@dataclass
class AttemptState:
    """What the tasks of one attempt share."""

    claim: jobs.Claim
    fraction: float = 0.0
    lost: jobs.LeaseStatus | None = None  # set by the heartbeat when the job is no longer ours
    uploaded_key: str | None = None

    def on_progress(self, fraction: float) -> None:
        self.fraction = max(self.fraction, fraction)


class RenderWorker:
    def __init__(
        self,
        db: Database,
        broker: Broker,
        storage: Storage,
        *,
        presets: Mapping[str, Preset],
        scratch_root: Path,
        lease_s: float,
        concurrency: int = 1,
        grace_s: float = 20.0,
        wake_relay: Callable[[], None] = lambda: None,
        chunk_s: float = 0.0,
        max_parts: int = 8,
    ) -> None:
        self._db = db
        self._broker = broker
        self._storage = storage
        self._presets = presets
        self._scratch_root = scratch_root
        self._lease_s = lease_s
        self._concurrency = max(1, concurrency)
        self._grace_s = grace_s
        self._wake_relay = wake_relay
        self.worker_id = worker_id()
        self._parts = PartWork(
            db, storage, presets=dict(presets), lease_s=lease_s, worker_id=self.worker_id,
            wake_relay=wake_relay, chunk_s=chunk_s, max_parts=max_parts,
        )  # fmt: skip
        self._attempts: set[asyncio.Task[None]] = set()
        self._has_slot = asyncio.Event()
        self._full = asyncio.Event()
        self._stopping = False
        self._update_slots()

    # ---- consuming ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume ``render`` until cancelled; then release the running jobs and re-raise."""
        await messages.declare_queues(self._broker)
        try:
            while True:
                await self._has_slot.wait()
                consumer = await self._broker.consume(
                    messages.RENDER_QUEUE, self._on_message, prefetch=1
                )
                try:
                    await self._full.wait()
                finally:
                    await _stop_consuming(consumer)
        finally:
            await self._shutdown()

    def _update_slots(self) -> None:
        if len(self._attempts) >= self._concurrency:
            self._has_slot.clear()
            self._full.set()
        else:
            self._full.clear()
            self._has_slot.set()

    async def _on_message(self, delivery: Delivery) -> None:
        name = str(delivery.payload.get("render_job", ""))
        try:
            parsed = parse(name, JOB_PATTERN, field="render_job")
        except Exception as error:
            raise Reject(f"not a render job name: {name!r}") from error
        if self._stopping or len(self._attempts) >= self._concurrency:
            # Delivered just before consuming paused. Put it back at the end of the queue as a
            # fresh message rather than holding it unacknowledged behind a long render.
            keep = {k: v for k, v in delivery.headers.items() if k == DEAD_ROUTING_KEY_HEADER}
            await self._broker.enqueue(messages.RENDER_QUEUE, delivery.payload, headers=keep)
            return
        if delivery.payload.get("attempt_token"):
            await self._on_part_message(parsed["render_job"], delivery.payload)
            return
        # A message replayed from render.dead still names the queue it died in.
        replayed = DEAD_ROUTING_KEY_HEADER in delivery.headers
        claim = await self._db.run_in_transaction(
            lambda s: jobs.claim_job(
                s,
                parsed["render_job"],
                lease_s=self._lease_s,
                worker=self.worker_id,
                revive_failed=replayed,
            )
        )
        if claim is None:
            log.info("render message for %s dropped: job not claimable (duplicate)", name)
            return
        log.info("claimed %s, attempt %d", name, claim.attempt)
        self._start(self._attempt(claim), f"render {claim.job_id}")

    async def _on_part_message(self, job_id: str, payload: Mapping[str, object]) -> None:
        token, number = str(payload["attempt_token"]), int(str(payload.get("part") or 0))
        claim = await self._db.run_in_transaction(
            lambda s: parts.claim_part(
                s, job_id, token, number=number, worker=self.worker_id, lease_s=self._lease_s
            )
        )
        if claim is None:
            log.info("part %d of render job %s dropped: nothing to claim", number, job_id)
            return
        log.info("claimed part %d (%s) of %s", number, claim.kind, claim.job_name)
        scratch = self._scratch_root / job_id / f"part-{claim.claim_token}"
        self._start(self._parts.attempt(claim, scratch), f"render {job_id} part {number}")

    def _start(self, attempt: Coroutine[object, object, None], name: str) -> None:
        task = asyncio.create_task(attempt, name=name)
        self._attempts.add(task)
        task.add_done_callback(self._attempt_done)
        self._update_slots()

    def _attempt_done(self, task: asyncio.Task[None]) -> None:
        self._attempts.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("render attempt task crashed", exc_info=task.exception())
        self._update_slots()

    async def _shutdown(self) -> None:
        self._stopping = True
        running = list(self._attempts)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=self._grace_s)

    # ---- one attempt --------------------------------------------------------------------------

    async def _attempt(self, claim: jobs.Claim) -> None:
        state = AttemptState(claim)
        scratch = self._scratch_root / claim.job_id / claim.token
        work = asyncio.create_task(self._produce(state, scratch))
        helpers = [
            asyncio.create_task(self._heartbeat(state, work)),
            asyncio.create_task(self._report_progress(state)),
        ]
        try:
            try:
                output = await work
            finally:
                await renders.cancel_all(helpers)
            if not await self._db.run_in_transaction(
                lambda s: jobs.complete_job(s, claim.job_id, claim.token, output)
            ):
                log.warning("%s finished after losing its lease; output discarded", claim.name)
                await self._delete_output(state)
                return
            self._wake_relay()
            log.info("%s succeeded (attempt %d)", claim.name, claim.attempt)
        except asyncio.CancelledError:
            if state.lost is None:  # shutdown: give the job back, then let the cancel go on
                await self._release(claim)
                await self._delete_output(state)
                raise
            await self._delete_output(state)
            log.info("%s: render stopped, job %s", claim.name, state.lost.value)
        except Exception as error:
            await self._delete_output(state)
            await self._fail(claim, renders.describe_failure(error))
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
            with contextlib.suppress(OSError):
                scratch.parent.rmdir()  # the job's folder, if no other attempt uses it

    async def _produce(self, state: AttemptState, scratch: Path) -> jobs.Output:
        """Fetch the sources, render, verify (the engine does) and store the output."""
        claim = state.claim
        preset = self._presets.get(claim.preset)
        if preset is None:
            raise ValueError(f"unknown preset {claim.preset!r}")
        timeline = await renders.source_timeline(self._storage, claim.segments, scratch / "sources")
        dest = scratch / "output.mp4"
        count = self._parts.count(timeline)
        if count > 1:
            result = await self._parts.render(claim, state.on_progress, timeline, preset, dest,
                                              scratch, count)  # fmt: skip
        else:
            result = await render_engine.render(
                timeline, preset, dest, on_progress=state.on_progress,
                timeout_s=renders.ffmpeg_timeout_s(timeline.duration_s),
            )  # fmt: skip
        key = f"renders/{claim.job_id}/{claim.token}.mp4"
        state.uploaded_key = key  # before the upload: a cancel during it still cleans up
        await self._storage.put_file(key, dest, content_type="video/mp4")
        uri = await self._storage.url(key)
        return jobs.Output(
            key=key,
            uri=uri,
            duration_s=result.duration_s,
            size_bytes=result.size_bytes,
            width=preset.width,
            height=preset.height,
        )

    async def _heartbeat(self, state: AttemptState, work: asyncio.Task[jobs.Output]) -> None:
        claim = state.claim
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                status = await self._db.run_in_transaction(
                    lambda s: jobs.renew_lease(s, claim.job_id, claim.token, lease_s=self._lease_s)
                )
            except Exception:
                # The lease may still hold; if it expires meanwhile, the completion is refused.
                log.warning("%s: heartbeat failed", claim.name, exc_info=True)
                continue
            if status is not jobs.LeaseStatus.HELD:
                log.info("%s: lease %s; stopping the render", claim.name, status.value)
                state.lost = status
                work.cancel()
                return

    async def _report_progress(self, state: AttemptState) -> None:
        claim = state.claim
        reported = -1.0
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL_S)
            percent = round(state.fraction * 100.0, 1)
            if percent <= reported:
                continue
            reported = percent
            try:
                await self._db.run_in_transaction(
                    lambda s, p=percent: jobs.record_progress(s, claim.job_id, claim.token, p)
                )
                payload = messages.progress_payload(claim.name, claim.attempt, percent)
                await asyncio.wait_for(
                    self._broker.publish(messages.PROGRESS_KEY, payload),
                    PROGRESS_PUBLISH_TIMEOUT_S,
                )
            except Exception:
                log.debug("%s: progress not reported", claim.name, exc_info=True)

    async def _fail(self, claim: jobs.Claim, reason: str) -> None:
        outcome = await self._db.run_in_transaction(
            lambda s: jobs.fail_attempt(s, claim.job_id, claim.token, reason)
        )
        self._wake_relay()
        log.warning("%s attempt %d failed (%s): %s", claim.name, claim.attempt, outcome, reason)

    async def _release(self, claim: jobs.Claim) -> None:
        try:
            released = await asyncio.wait_for(
                self._db.run_in_transaction(
                    lambda s: jobs.release_job(s, claim.job_id, claim.token)
                ),
                RELEASE_TIMEOUT_S,
            )
        except Exception:
            # The lease expires and the sweeper re-queues the job instead.
            log.exception("%s: could not release the job on shutdown", claim.name)
            return
        self._wake_relay()
        log.info("%s released on shutdown (%s)", claim.name, released)

    async def _delete_output(self, state: AttemptState) -> None:
        """Delete this attempt's stored output unless the job references it (a completion whose
        commit was interrupted may still have committed)."""
        key = state.uploaded_key
        if key is None:
            return
        try:
            committed = await self._db.run_in_transaction(
                lambda s: jobs.output_key_of(s, state.claim.job_id)
            )
            if committed != key:
                await self._storage.delete(key)
        except Exception:
            log.warning("could not delete orphan output %s", state.uploaded_key, exc_info=True)


async def _stop_consuming(consumer: Consumer) -> None:
    try:
        await consumer.cancel()
    except Exception:
        # The connection is gone: so is the consumer. Never mask the shutdown in progress.
        log.warning("could not cancel the render consumer cleanly", exc_info=True)
