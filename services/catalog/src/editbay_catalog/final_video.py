"""``render.succeeded``: a finished render becomes its episode's final video."""

from __future__ import annotations

import logging

from google.protobuf.json_format import ParseError
from sqlalchemy.ext.asyncio import AsyncSession

from editbay.events.v1 import events_pb2
from editbay_catalog import models
from editbay_catalog.resources import EPISODE, parse
from editbay_common.broker import Delivery, Reject
from editbay_common.db import Database
from editbay_common.errors import ServiceError
from editbay_common.ids import utc_now
from editbay_common.protoconv import from_payload

log = logging.getLogger(__name__)

RENDER_SUCCEEDED = "render.succeeded"
QUEUE = "catalog.render-succeeded"


class FinalVideoConsumer:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def handle(self, delivery: Delivery) -> None:
        """Set the episode's final video; a message that can never apply is dead-lettered."""
        try:
            event = from_payload(delivery.payload, events_pb2.RenderSucceeded)
            ids = parse(event.episode, EPISODE, "episode")
        except (ParseError, ServiceError) as error:
            log.error("render.succeeded %s is malformed: %s", delivery.message_id, error)
            raise Reject(f"malformed render.succeeded: {error}") from None
        if not event.render_job or not event.storage_key:
            raise Reject("render.succeeded without render_job or storage_key")
        found = await self.set_final_video(ids["show"], ids["episode"], event)
        if not found:
            log.error(
                "render.succeeded %s names unknown episode %s", delivery.message_id, event.episode
            )
            raise Reject(f"unknown episode {event.episode}")

    async def set_final_video(
        self, show_id: str, episode_id: str, event: events_pb2.RenderSucceeded
    ) -> bool:
        """Apply ``event``; False if the episode does not exist. A redelivery changes nothing."""

        async def apply(session: AsyncSession) -> bool:
            # Locked: the revision bump must not race an UpdateEpisode (a lost update).
            episode = await session.get(models.Episode, (show_id, episode_id), with_for_update=True)
            if episode is None:
                return False
            if (
                episode.final_render_job == event.render_job
                and episode.final_storage_key == event.storage_key
            ):
                return True  # already applied (redelivery)
            now = utc_now()
            episode.final_render_job = event.render_job
            episode.final_storage_key = event.storage_key
            episode.final_duration_s = event.duration_seconds
            episode.final_render_time = now
            episode.revision += 1
            episode.update_time = now
            return True

        return await self.db.run_in_transaction(apply)
