"""The training worker: takes reference videos from the ``training`` work queue and analyses
them. A failed analysis is retried by the broker (the message is requeued) and, on its last
delivery, the video is FAILED with the reason and the message dead-lettered."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path

from editbay.events.v1 import events_pb2
from editbay_common import names
from editbay_common.broker import Broker, Delivery, Reject
from editbay_common.db import Database
from editbay_common.protoconv import from_payload
from editbay_common.storage import Storage
from editbay_training import store
from editbay_training.analysis import analyse_video
from editbay_training.models import ReferenceVideo

log = logging.getLogger(__name__)

MAX_DELIVERIES = 3


class TrainingWorker:
    def __init__(self, db: Database, storage: Storage, broker: Broker, scratch: Path) -> None:
        self.db, self.storage, self.broker, self.scratch = db, storage, broker, scratch

    async def run(self) -> None:
        await self.broker.declare_work_queue(store.TRAINING_QUEUE, max_deliveries=MAX_DELIVERIES)
        consumer = await self.broker.consume(store.TRAINING_QUEUE, self.handle)
        try:
            await asyncio.Event().wait()
        finally:
            await consumer.cancel()

    async def handle(self, delivery: Delivery) -> None:
        try:
            message = from_payload(delivery.payload, events_pb2.ReferenceVideoQueued)
            ids = names.parse(
                message.reference_video, "shows/{show}/referenceVideos/{reference_video}"
            )
        except Exception as error:
            # A message that can never be handled: dead-letter it now rather than retry it.
            raise Reject(f"malformed training message: {error}") from None
        video = await self._start(ids["show"], ids["reference_video"])
        if video is None:
            return  # unknown, or already finished: a duplicate delivery
        try:
            style = await self._analyse(video)
        except asyncio.CancelledError:
            await self._update(video, "QUEUED", progress_percent=0.0)
            raise
        except Exception as error:
            last = delivery.delivery_count >= MAX_DELIVERIES
            reason = f"analysis failed: {error}"[:2000]
            await self._update(video, "FAILED" if last else "QUEUED", failure_reason=reason)
            log.warning("analysis of %s failed", video.name, extra={"last": last})
            if last:
                raise Reject(reason) from error
            raise
        async with self.db.transaction() as session:
            row = await store.get_video(session, video.show, video.id)
            store.set_state(
                row,
                "SUCCEEDED",
                progress_percent=100.0,
                analysis=style.to_dict(),
                failure_reason="",
            )
            await store.refresh_profile(session, video.show)

    async def _start(self, show: str, video_id: str) -> ReferenceVideo | None:
        async with self.db.transaction() as session:
            row = await store.get_video(session, show, video_id)
            if row is None or row.state in store.TERMINAL:
                return None
            store.set_state(row, "RUNNING", progress_percent=0.0)
            return row

    async def _analyse(self, video: ReferenceVideo):
        workdir = Path(tempfile.mkdtemp(prefix="reference-", dir=self.scratch))
        try:
            path = await self.storage.local_path(video.storage_key, workdir)

            async def progress(percent: float) -> None:
                await self._update(video, "RUNNING", progress_percent=percent)

            return await analyse_video(path, progress)
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, True)

    async def _update(self, video: ReferenceVideo, state: str, **values) -> None:
        async with self.db.transaction() as session:
            row = await store.get_video(session, video.show, video.id)
            if row is not None and row.state not in store.TERMINAL:
                store.set_state(row, state, **values)
