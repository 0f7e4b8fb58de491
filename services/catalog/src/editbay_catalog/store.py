"""Shows, episodes, scripts and scenes: the catalog's state changes and queries.

Each public method is one unit of work (``Database.run_in_transaction``) and returns protobuf
messages built inside it; errors are ``ServiceError``s from ``faults``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay_catalog import faults, models
from editbay_catalog.resources import (
    episode_name,
    episode_proto,
    etag,
    scene_proto,
    script_proto,
    show_name,
    show_proto,
)
from editbay_catalog.scripts import ParsedScene
from editbay_common.db import Database
from editbay_common.ids import utc_now
from editbay_common.paging import Page

T = TypeVar("T")


@dataclass(frozen=True)
class ListQuery:
    """A validated List request: page, equality filters, order and soft-delete visibility."""

    page: Page
    filters: dict[str, Any]
    order_field: str = "create_time"
    descending: bool = True
    show_deleted: bool = False


async def fetch_page(
    session: AsyncSession, query: Select[Any], page: Page
) -> tuple[list[Any], str]:
    """One page of ``query`` and the token of the next page ("" on the last)."""
    rows = list((await session.scalars(query.offset(page.offset).limit(page.size + 1))).all())
    has_more = len(rows) > page.size
    rows = rows[: page.size]
    return rows, page.next_token(len(rows), has_more)


def check_etag(name: str, given: str, revision: int) -> None:
    """ABORTED unless ``given`` is empty or the resource's current etag."""
    current = etag(name, revision)
    if given and given != current:
        raise faults.etag_mismatch(name, given, current)


async def live_show(session: AsyncSession, show_id: str, *, lock: bool = False) -> models.Show:
    """The show, or NOT_FOUND if it does not exist or is deleted. ``lock`` (for a change that
    checks the etag) holds the row until commit, so two writers with the same etag cannot both
    pass the check on PostgreSQL; SQLite's single writer needs no lock."""
    show = await session.get(models.Show, show_id, with_for_update=lock)
    if show is None or show.delete_time is not None:
        raise faults.missing("show", show_name(show_id))
    return show


async def find_episode(
    session: AsyncSession, show_id: str, episode_id: str, *, live: bool, lock: bool = False
) -> models.Episode:
    """The episode of a live show; NOT_FOUND if missing (or deleted, when ``live``). ``lock``
    as in ``live_show``, on the episode's row."""
    await live_show(session, show_id)
    episode = await session.get(models.Episode, (show_id, episode_id), with_for_update=lock)
    if episode is None or (live and episode.delete_time is not None):
        raise faults.missing("episode", episode_name(show_id, episode_id))
    return episode


def request_id_reused(field: str, target: str) -> Exception:
    """INVALID_ARGUMENT: a request id repeated for another parent is a new request, not a retry
    (answering with the first result would hand back another show's resource)."""
    return faults.invalid(
        field,
        f"was already used for a request on {target}; use a new id for a new request",
        reason="REQUEST_ID_REUSED",
    )


class CatalogStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _run(self, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await self.db.run_in_transaction(fn)

    # ---- shows --------------------------------------------------------------------------

    async def create_show(
        self, show_id: str, display_name: str, description: str, request_id: str
    ) -> pb.Show:
        async def create(session: AsyncSession) -> pb.Show:
            if request_id:
                first = await session.scalar(
                    select(models.Show).where(models.Show.request_id == request_id)
                )
                if first is not None:
                    return show_proto(first)
            if await session.get(models.Show, show_id) is not None:
                raise faults.exists("show", show_name(show_id))
            now = utc_now()
            row = models.Show(
                id=show_id,
                display_name=display_name,
                description=description,
                request_id=request_id or None,
                revision=1,
                create_time=now,
                update_time=now,
            )
            session.add(row)
            await session.flush()
            return show_proto(row)

        return await self._create(create, request_id, "show", show_name(show_id))

    async def _create(
        self,
        create: Callable[[AsyncSession], Awaitable[T]],
        request_id: str,
        resource: str,
        name: str,
    ) -> T:
        try:
            return await self._run(create)
        except IntegrityError:
            # A concurrent create won the race: same request id (return its result) or same id.
            if request_id:
                return await self._run(create)
            raise faults.exists(resource, name) from None

    async def get_show(self, show_id: str) -> pb.Show:
        async def get(session: AsyncSession) -> pb.Show:
            show = await session.get(models.Show, show_id)
            if show is None:
                raise faults.missing("show", show_name(show_id))
            return show_proto(show)

        return await self._run(get)

    async def list_shows(self, query: ListQuery) -> tuple[list[pb.Show], str]:
        async def list_(session: AsyncSession) -> tuple[list[pb.Show], str]:
            stmt = _listing(select(models.Show), models.Show, query)
            rows, token = await fetch_page(session, stmt, query.page)
            return [show_proto(r) for r in rows], token

        return await self._run(list_)

    async def update_show(self, show_id: str, changes: dict[str, str], given_etag: str) -> pb.Show:
        async def update(session: AsyncSession) -> pb.Show:
            show = await live_show(session, show_id, lock=True)
            check_etag(show_name(show_id), given_etag, show.revision)
            _apply(show, changes)
            return show_proto(show)

        return await self._run(update)

    async def delete_show(self, show_id: str, given_etag: str) -> pb.Show:
        async def delete(session: AsyncSession) -> pb.Show:
            show = await live_show(session, show_id, lock=True)
            check_etag(show_name(show_id), given_etag, show.revision)
            now = utc_now()
            _bump(show, now)
            show.delete_time = now
            return show_proto(show)

        return await self._run(delete)

    async def undelete_show(self, show_id: str) -> pb.Show:
        async def undelete(session: AsyncSession) -> pb.Show:
            show = await session.get(models.Show, show_id, with_for_update=True)
            if show is None:
                raise faults.missing("show", show_name(show_id))
            if show.delete_time is None:
                raise faults.not_deleted("show", show_name(show_id))
            _bump(show, utc_now())
            show.delete_time = None
            return show_proto(show)

        return await self._run(undelete)

    # ---- episodes -----------------------------------------------------------------------

    async def create_episode(
        self, show_id: str, episode_id: str, display_name: str, description: str, request_id: str
    ) -> pb.Episode:
        name = episode_name(show_id, episode_id)

        async def create(session: AsyncSession) -> pb.Episode:
            if request_id:
                first = await session.scalar(
                    select(models.Episode).where(models.Episode.request_id == request_id)
                )
                if first is not None:
                    if first.show_id != show_id:
                        raise request_id_reused("request_id", show_name(first.show_id))
                    return episode_proto(first)
            await live_show(session, show_id)
            if await session.get(models.Episode, (show_id, episode_id)) is not None:
                raise faults.exists("episode", name)
            now = utc_now()
            row = models.Episode(
                show_id=show_id,
                id=episode_id,
                display_name=display_name,
                description=description,
                request_id=request_id or None,
                revision=1,
                create_time=now,
                update_time=now,
            )
            session.add(row)
            await session.flush()  # the script's foreign key needs the episode first
            session.add(
                models.Script(
                    show_id=show_id,
                    episode_id=episode_id,
                    text="",
                    scene_count=0,
                    revision=1,
                    update_time=now,
                )
            )
            await session.flush()
            return episode_proto(row)

        return await self._create(create, request_id, "episode", name)

    async def get_episode(self, show_id: str, episode_id: str) -> pb.Episode:
        async def get(session: AsyncSession) -> pb.Episode:
            return episode_proto(await find_episode(session, show_id, episode_id, live=False))

        return await self._run(get)

    async def list_episodes(self, show_id: str, query: ListQuery) -> tuple[list[pb.Episode], str]:
        async def list_(session: AsyncSession) -> tuple[list[pb.Episode], str]:
            await live_show(session, show_id)
            stmt = select(models.Episode).where(models.Episode.show_id == show_id)
            rows, token = await fetch_page(
                session, _listing(stmt, models.Episode, query), query.page
            )
            return [episode_proto(r) for r in rows], token

        return await self._run(list_)

    async def update_episode(
        self, show_id: str, episode_id: str, changes: dict[str, str], given_etag: str
    ) -> pb.Episode:
        async def update(session: AsyncSession) -> pb.Episode:
            episode = await find_episode(session, show_id, episode_id, live=True, lock=True)
            check_etag(episode_name(show_id, episode_id), given_etag, episode.revision)
            _apply(episode, changes)
            return episode_proto(episode)

        return await self._run(update)

    async def delete_episode(self, show_id: str, episode_id: str, given_etag: str) -> pb.Episode:
        async def delete(session: AsyncSession) -> pb.Episode:
            episode = await find_episode(session, show_id, episode_id, live=True, lock=True)
            check_etag(episode_name(show_id, episode_id), given_etag, episode.revision)
            now = utc_now()
            _bump(episode, now)
            episode.delete_time = now
            return episode_proto(episode)

        return await self._run(delete)

    # ---- script and scenes --------------------------------------------------------------

    async def get_script(self, show_id: str, episode_id: str) -> pb.Script:
        async def get(session: AsyncSession) -> pb.Script:
            await find_episode(session, show_id, episode_id, live=False)
            script = await session.get(models.Script, (show_id, episode_id))
            if script is None:  # every episode has one; a missing row is a bug
                raise RuntimeError(f"episode {show_id}/{episode_id} has no script row")
            return script_proto(script)

        return await self._run(get)

    async def update_script(
        self,
        show_id: str,
        episode_id: str,
        text: str,
        scenes: Sequence[ParsedScene],
        given_etag: str,
    ) -> pb.Script:
        """Replace the script text and its scenes (already parsed from ``text``)."""

        async def update(session: AsyncSession) -> pb.Script:
            await find_episode(session, show_id, episode_id, live=True)
            script = await session.get(models.Script, (show_id, episode_id), with_for_update=True)
            if script is None:
                raise RuntimeError(f"episode {show_id}/{episode_id} has no script row")
            check_etag(f"{episode_name(show_id, episode_id)}/script", given_etag, script.revision)
            old = await session.scalars(
                select(models.Scene).where(
                    models.Scene.show_id == show_id, models.Scene.episode_id == episode_id
                )
            )
            for scene in old.all():
                await session.delete(scene)
            await session.flush()
            for parsed in scenes:
                session.add(
                    models.Scene(
                        show_id=show_id,
                        episode_id=episode_id,
                        number=parsed.number,
                        heading=parsed.heading,
                        text=parsed.text,
                    )
                )
            script.text = text
            script.scene_count = len(scenes)
            script.revision += 1
            script.update_time = utc_now()
            return script_proto(script)

        return await self._run(update)

    async def get_scene(self, show_id: str, episode_id: str, number: int) -> pb.Scene:
        async def get(session: AsyncSession) -> pb.Scene:
            await find_episode(session, show_id, episode_id, live=False)
            scene = await session.get(models.Scene, (show_id, episode_id, number))
            if scene is None:
                raise faults.missing(
                    "scene", f"{episode_name(show_id, episode_id)}/scenes/{number}"
                )
            counts = await ready_take_counts(session, show_id, episode_id)
            return scene_proto(scene, counts.get(number, 0))

        return await self._run(get)

    async def list_scenes(
        self, show_id: str, episode_id: str, page: Page
    ) -> tuple[list[pb.Scene], str]:
        async def list_(session: AsyncSession) -> tuple[list[pb.Scene], str]:
            await find_episode(session, show_id, episode_id, live=False)
            stmt = (
                select(models.Scene)
                .where(models.Scene.show_id == show_id, models.Scene.episode_id == episode_id)
                .order_by(models.Scene.number)
            )
            rows, token = await fetch_page(session, stmt, page)
            counts = await ready_take_counts(session, show_id, episode_id)
            return [scene_proto(r, counts.get(r.number, 0)) for r in rows], token

        return await self._run(list_)


async def ready_take_counts(session: AsyncSession, show_id: str, episode_id: str) -> dict[int, int]:
    """Scene number -> how many live takes of it are READY."""
    take = models.Take
    rows = await session.execute(
        select(take.scene_number, func.count())
        .where(
            take.show_id == show_id,
            take.episode_id == episode_id,
            take.state == "READY",
            take.delete_time.is_(None),
        )
        .group_by(take.scene_number)
    )
    return {int(number): int(count) for number, count in rows.all()}


def _listing(
    stmt: Select[Any], model: type[models.Show] | type[models.Episode], query: ListQuery
) -> Select[Any]:
    if not query.show_deleted:
        stmt = stmt.where(model.delete_time.is_(None))
    if "display_name" in query.filters:
        stmt = stmt.where(model.display_name == query.filters["display_name"])
    column = getattr(model, query.order_field)
    if query.descending:
        return stmt.order_by(column.desc(), model.id.desc())
    return stmt.order_by(column.asc(), model.id.asc())


def _apply(row: models.Show | models.Episode, changes: dict[str, str]) -> None:
    for field, value in changes.items():
        setattr(row, field, value)
    _bump(row, utc_now())


def _bump(row: models.Show | models.Episode, now: Any) -> None:
    """Every change gets a new revision (so a new etag) and update time."""
    row.revision += 1
    row.update_time = now
