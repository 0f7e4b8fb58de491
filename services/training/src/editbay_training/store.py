"""Queries and state changes of reference videos and profiles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from editbay_common.ids import utc_now
from editbay_common.outbox import add_to_outbox
from editbay_training.models import ReferenceVideo, StyleProfile, outbox
from editbay_training.style import VideoStyle, pool

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}
TRAINING_QUEUE = "training"


async def get_video(session: AsyncSession, show: str, video_id: str) -> ReferenceVideo | None:
    return await session.scalar(
        select(ReferenceVideo).where(ReferenceVideo.show == show, ReferenceVideo.id == video_id)
    )


async def find_by_request(session: AsyncSession, show: str, request_id: str):
    return await session.scalar(
        select(ReferenceVideo).where(
            ReferenceVideo.show == show, ReferenceVideo.request_id == request_id
        )
    )


async def list_videos(
    session: AsyncSession, show: str, offset: int, limit: int
) -> list[ReferenceVideo]:
    rows = await session.scalars(
        select(ReferenceVideo)
        .where(ReferenceVideo.show == show)
        .order_by(ReferenceVideo.create_time.desc(), ReferenceVideo.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


def queue_video(session: AsyncSession, video: ReferenceVideo) -> None:
    """Insert a new QUEUED video and its work message, in the caller's transaction."""
    session.add(video)
    add_to_outbox(
        session,
        outbox,
        kind="work",
        target=TRAINING_QUEUE,
        payload={"reference_video": video.name},
        message_id=f"training-{video.id}",
    )


def set_state(video: ReferenceVideo, state: str, **values: Any) -> None:
    video.state = state
    for key, value in values.items():
        setattr(video, key, value)
    video.update_time = utc_now()


async def refresh_profile(session: AsyncSession, show: str) -> StyleProfile | None:
    """Recompute a show's profile from all its analysed videos."""
    rows = await session.scalars(
        select(ReferenceVideo).where(
            ReferenceVideo.show == show, ReferenceVideo.state == "SUCCEEDED"
        )
    )
    styles = [VideoStyle.from_dict(r.analysis) for r in rows if r.analysis]
    profile = await session.get(StyleProfile, show)
    if not styles:
        return profile
    pooled = pool(styles).to_dict()
    pooled["cut_count"] = sum(len(s.cut_times_s) for s in styles)
    if profile is None:
        profile = StyleProfile(show=show)
        session.add(profile)
    profile.reference_video_count = len(styles)
    profile.style = pooled
    profile.update_time = utc_now()
    return profile
