"""Takes in the database: the checks before an upload, the insert after it, and queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay.events.v1 import events_pb2
from editbay_catalog import faults, models
from editbay_catalog.resources import take_name, take_proto
from editbay_catalog.store import ListQuery, fetch_page, find_episode
from editbay_common.db import Database
from editbay_common.ids import utc_now
from editbay_common.outbox import add_to_outbox
from editbay_common.protoconv import to_payload

TAKE_INGESTED = "take.ingested"


@dataclass(frozen=True)
class TakeSlot:
    """Where a new take goes: its episode and numbers, checked free before the upload."""

    show_id: str
    episode_id: str
    scene_number: int
    take_number: int


class TakeAlreadyExists(Exception):
    """Raised by ``insert`` when another take got the same numbers first."""


class TakeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_request_id(self, request_id: str) -> pb.Take | None:
        """The take an earlier upload with ``request_id`` created, if any."""
        if not request_id:
            return None

        async def find(session: AsyncSession) -> pb.Take | None:
            row = await session.scalar(
                select(models.Take).where(models.Take.request_id == request_id)
            )
            return None if row is None else take_proto(row)

        return await self.db.run_in_transaction(find)

    async def reserve(
        self, show_id: str, episode_id: str, scene_number: int, take_number: int | None
    ) -> TakeSlot:
        """Check the episode is live and the numbers free; pick the next take number when the
        client gave none. Nothing is written: the unique index decides at insert time."""

        async def check(session: AsyncSession) -> TakeSlot:
            await find_episode(session, show_id, episode_id, live=True)
            take = models.Take
            same_scene = (
                take.show_id == show_id,
                take.episode_id == episode_id,
                take.scene_number == scene_number,
            )
            number = take_number
            if number is None:
                highest = await session.scalar(
                    select(func.max(take.take_number)).where(*same_scene)
                )
                number = (highest or 0) + 1
            existing = await session.scalar(
                select(take).where(
                    *same_scene, take.take_number == number, take.delete_time.is_(None)
                )
            )
            if existing is not None:
                raise _exists(
                    existing.show_id, existing.episode_id, existing.id, scene_number, number
                )
            return TakeSlot(show_id, episode_id, scene_number, number)

        return await self.db.run_in_transaction(check)

    async def insert(self, row: models.Take) -> pb.Take:
        """Insert the take and, when READY, its ``take.ingested`` event, in one transaction."""

        async def insert(session: AsyncSession) -> pb.Take:
            session.add(row)
            await session.flush()
            message = take_proto(row)
            if row.state == "READY":
                event = events_pb2.TakeIngested(
                    take=message.name,
                    scene_number=row.scene_number,
                    take_number=row.take_number,
                    storage_key=row.storage_key,
                    duration_seconds=message.media.duration_seconds,
                )
                add_to_outbox(
                    session,
                    models.outbox,
                    kind="event",
                    target=TAKE_INGESTED,
                    payload=to_payload(event),
                )
            return message

        try:
            return await self.db.run_in_transaction(insert)
        except IntegrityError as error:
            raise TakeAlreadyExists(str(error.orig)) from error

    async def get(self, show_id: str, episode_id: str, take_id: str) -> pb.Take:
        async def get(session: AsyncSession) -> pb.Take:
            return take_proto(await _take(session, show_id, episode_id, take_id))

        return await self.db.run_in_transaction(get)

    async def list(
        self, show_id: str, episode_id: str, query: ListQuery
    ) -> tuple[list[pb.Take], str]:
        async def list_(session: AsyncSession) -> tuple[list[pb.Take], str]:
            await find_episode(session, show_id, episode_id, live=False)
            take = models.Take
            stmt = select(take).where(take.show_id == show_id, take.episode_id == episode_id)
            if not query.show_deleted:
                stmt = stmt.where(take.delete_time.is_(None))
            conditions: dict[str, Any] = query.filters
            if "scene_number" in conditions:
                stmt = stmt.where(take.scene_number == conditions["scene_number"])
            if "state" in conditions:
                stmt = stmt.where(take.state == conditions["state"])
            stmt = stmt.order_by(take.scene_number, take.take_number, take.id)
            rows, token = await fetch_page(session, stmt, query.page)
            return [take_proto(r) for r in rows], token

        return await self.db.run_in_transaction(list_)

    async def delete(self, show_id: str, episode_id: str, take_id: str) -> pb.Take:
        async def delete(session: AsyncSession) -> pb.Take:
            row = await _take(session, show_id, episode_id, take_id)
            if row.delete_time is not None:
                raise faults.missing("take", take_name(show_id, episode_id, take_id))
            now = utc_now()
            row.delete_time = now
            row.update_time = now
            return take_proto(row)

        return await self.db.run_in_transaction(delete)


async def _take(session: AsyncSession, show_id: str, episode_id: str, take_id: str) -> models.Take:
    await find_episode(session, show_id, episode_id, live=False)
    row = await session.get(models.Take, take_id)
    if row is None or (row.show_id, row.episode_id) != (show_id, episode_id):
        raise faults.missing("take", take_name(show_id, episode_id, take_id))
    return row


def _exists(show_id: str, episode_id: str, take_id: str, scene: int, take: int) -> Exception:
    name = take_name(show_id, episode_id, take_id)
    return faults.exists(
        "take", name, f"scene {scene} take {take} already exists in this episode as {name}"
    )
