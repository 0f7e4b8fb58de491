"""Chunked renders: the parts of one attempt, claimed by any worker, joined by the attempt's.

A job longer than twice ``render_chunk_seconds`` is rendered in parts. The worker that claimed
the job's attempt (it holds the job's lease, as for any render) splits the timeline and writes
one row per part: each stretch of the picture, and the programme's sound. A ``render`` message
per part lets idle workers help; the attempt's worker also takes parts itself while any is
unclaimed, so an attempt never waits for help that is not coming. When every part has
succeeded it joins their outputs (stream copy) and completes the job as usual.

States of a part::

    QUEUED --claim--> RUNNING --complete with its claim token--> SUCCEEDED
    RUNNING --lease expired (its worker died)--> claimable again
    RUNNING --release (worker shutdown)--> QUEUED
    RUNNING --failed--> FAILED (the attempt's worker then fails the job's attempt)

A part belongs to one attempt (``attempt_token``): once the job's attempt is no longer current
(finished, cancelled, retried after a crash) its parts can be neither claimed nor renewed, and
a worker rendering one stops at its next heartbeat. The attempt's worker deletes its parts'
outputs when it ends; their rows stay as the record of which worker rendered what. Like
``jobs.py``, every function runs in the caller's transaction and touches only the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from editbay_common.ids import new_id, utc_now
from editbay_renderer import messages
from editbay_renderer.jobs import State, aware, job_name
from editbay_renderer.models import RenderJobRow, RenderPartRow

VIDEO, AUDIO = "video", "audio"


class PartState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class PartClaim:
    """What a worker needs to render one part."""

    part_id: str
    job_id: str
    job_name: str
    attempt_token: str
    claim_token: str
    number: int
    kind: str
    frame_lo: int
    frame_hi: int
    preset: str
    segments: list[dict[str, Any]]


@dataclass(frozen=True)
class PartView:
    """A part as the attempt's worker follows it."""

    number: int
    kind: str
    frames: int
    state: str
    progress: float
    output_key: str | None
    failure_reason: str
    worker: str


async def create_parts(
    session: AsyncSession, job_id: str, attempt_token: str, bounds: list[tuple[int, int]]
) -> None:
    """One part per stretch of the picture, and one for the sound (numbered last), each with
    its ``render`` message."""
    job = await _current_job(session, job_id, attempt_token)
    if job is None:
        raise LookupError(f"render job {job_id} has no current attempt {attempt_token}")
    total = bounds[-1][1] if bounds else 0
    stretches = [(VIDEO, lo, hi) for lo, hi in bounds] + [(AUDIO, 0, total)]
    now = utc_now()
    for number, (kind, lo, hi) in enumerate(stretches):
        session.add(
            RenderPartRow(
                id=new_id(), job_id=job_id, attempt_token=attempt_token, number=number, kind=kind,
                frame_lo=lo, frame_hi=hi, state=PartState.QUEUED, worker="", progress=0.0,
                failure_reason="", update_time=now,
            )
        )  # fmt: skip
        messages.queue_part(session, job_name(job.parent, job_id), attempt_token, number)


async def _current_job(
    session: AsyncSession, job_id: str, attempt_token: str
) -> RenderJobRow | None:
    """The job, if ``attempt_token`` is its current attempt (else None)."""
    job = await session.get(RenderJobRow, job_id)
    if job is None or job.state != State.RUNNING or job.attempt_token != attempt_token:
        return None
    return job


def _claimable(part: RenderPartRow, now: datetime) -> bool:
    expires = aware(part.lease_expires_at)
    return part.state == PartState.QUEUED or (
        part.state == PartState.RUNNING and (expires is None or expires <= now)
    )


async def claim_part(
    session: AsyncSession, job_id: str, attempt_token: str, *, number: int | None, worker: str,
    lease_s: float,
) -> PartClaim | None:  # fmt: skip
    """Claim part ``number`` (or, with None, the first claimable part) of a current attempt:
    QUEUED, or RUNNING with an expired lease (its worker died). None if there is nothing to
    claim: the attempt is over, or the part is done or held by a live worker."""
    job = await _current_job(session, job_id, attempt_token)
    if job is None:
        return None
    query = select(RenderPartRow).where(
        RenderPartRow.job_id == job_id, RenderPartRow.attempt_token == attempt_token
    )
    if number is not None:
        query = query.where(RenderPartRow.number == number)
    query = query.order_by(RenderPartRow.number).with_for_update(skip_locked=True)
    now = utc_now()
    part = next((p for p in (await session.execute(query)).scalars() if _claimable(p, now)), None)
    if part is None:
        return None
    part.state = PartState.RUNNING
    part.claim_token = new_id()
    part.worker = worker
    part.progress = 0.0
    part.lease_expires_at = now + timedelta(seconds=lease_s)
    part.update_time = now
    return PartClaim(
        part_id=part.id, job_id=job_id, job_name=job_name(job.parent, job_id),
        attempt_token=attempt_token, claim_token=part.claim_token, number=part.number,
        kind=part.kind, frame_lo=part.frame_lo, frame_hi=part.frame_hi, preset=job.preset,
        segments=list(job.segments),
    )  # fmt: skip


async def _held(session: AsyncSession, claim: PartClaim) -> RenderPartRow | None:
    """The part row while ``claim`` still holds it and its attempt is current."""
    if await _current_job(session, claim.job_id, claim.attempt_token) is None:
        return None
    part = await session.get(RenderPartRow, claim.part_id, with_for_update=True)
    if part is None or part.state != PartState.RUNNING or part.claim_token != claim.claim_token:
        return None
    return part


async def renew_part(
    session: AsyncSession, claim: PartClaim, *, lease_s: float, progress: float
) -> bool:
    """Heartbeat of a part (with its progress, 0..1); False once the claim is lost."""
    part = await _held(session, claim)
    if part is None:
        return False
    now = utc_now()
    part.lease_expires_at = now + timedelta(seconds=lease_s)
    part.progress = max(part.progress, min(max(progress, 0.0), 1.0))
    part.update_time = now
    return True


async def _end_claim(session: AsyncSession, claim: PartClaim, **changes: Any) -> bool:
    """End a claim with ``changes`` to its part (and no lease); False, nothing changed, if the
    claim was already lost."""
    part = await _held(session, claim)
    if part is None:
        return False
    for field, value in changes.items():
        setattr(part, field, value)
    part.lease_expires_at = None
    part.update_time = utc_now()
    return True


async def complete_part(session: AsyncSession, claim: PartClaim, output_key: str) -> bool:
    """SUCCEEDED with its output; False (nothing changed) if the claim was lost."""
    return await _end_claim(session, claim, state=PartState.SUCCEEDED, output_key=output_key,
                            progress=1.0)  # fmt: skip


async def fail_part(session: AsyncSession, claim: PartClaim, reason: str) -> bool:
    """FAILED with the reason: the attempt's worker fails the job's attempt when it sees it."""
    return await _end_claim(session, claim, state=PartState.FAILED, failure_reason=reason[:2000])


async def release_part(session: AsyncSession, claim: PartClaim) -> bool:
    """The worker is shutting down: the part is QUEUED again for anyone to take."""
    return await _end_claim(session, claim, state=PartState.QUEUED, claim_token=None,
                            progress=0.0)  # fmt: skip


async def parts_of(session: AsyncSession, job_id: str, attempt_token: str) -> list[PartView]:
    query = (
        select(RenderPartRow)
        .where(RenderPartRow.job_id == job_id, RenderPartRow.attempt_token == attempt_token)
        .order_by(RenderPartRow.number)
    )
    return [_view(p) for p in (await session.execute(query)).scalars()]


def _view(p: RenderPartRow) -> PartView:
    return PartView(p.number, p.kind, p.frame_hi - p.frame_lo, p.state, p.progress, p.output_key,
                    p.failure_reason, p.worker)  # fmt: skip


async def take_outputs(session: AsyncSession, job_id: str, attempt_token: str) -> list[str]:
    """The storage keys of an attempt's part outputs, to delete once it ended; the rows stay,
    without them, as the record of which worker rendered what."""
    query = select(RenderPartRow).where(
        RenderPartRow.job_id == job_id,
        RenderPartRow.attempt_token == attempt_token,
        RenderPartRow.output_key.is_not(None),
    )
    keys = []
    for part in (await session.execute(query)).scalars():
        keys.append(part.output_key)
        part.output_key = None
    return keys


def part_key(job_id: str, attempt_token: str, number: int, claim_token: str, kind: str) -> str:
    """Where a part's output is stored: scoped to its attempt and its claim, so that a late
    upload of a lost claim never overwrites the output the part succeeded with."""
    suffix = ".m4a" if kind == AUDIO else ".mp4"
    return f"renders/{job_id}/parts/{attempt_token}/{number:03d}-{claim_token}{suffix}"
