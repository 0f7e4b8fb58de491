"""The render job state machine and its lease, as units of work on the renderer's database.

States::

    QUEUED --claim--> RUNNING --complete with the current token--> SUCCEEDED
    RUNNING --attempt failed or lease expired, attempts left--> QUEUED (+ a new message)
    RUNNING --attempt failed or lease expired, no attempt left--> FAILED (+ render.failed,
                                                                    + message in render.dead)
    RUNNING --release (worker shutdown; the attempt is not counted)--> QUEUED (+ a new message)
    QUEUED | RUNNING --cancel--> CANCELLED
    FAILED --its message replayed from render.dead--> QUEUED, attempts start over --> RUNNING

A claim gives the worker a fresh attempt token and a lease (``lease_expires_at``); the worker
renews the lease with heartbeats. Every write a worker makes (progress, completion, failure,
release) names its token and is refused once the token is no longer current: after the lease
expired and the sweeper or another worker took the job, or after a cancel. That is what makes a
job finish once even when two workers ran it.

Every function here runs inside the caller's transaction and only touches the database (the
messages they send go to the outbox), so ``Database.run_in_transaction`` may retry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from editbay_common.errors import failed_precondition
from editbay_common.ids import new_id, utc_now
from editbay_renderer import messages
from editbay_renderer.models import RenderAttemptRow, RenderJobRow

DOMAIN = "renderer.editbay.dev"
LEASE_EXPIRED_REASON = "worker lost (lease expired)"
MAX_REASON_CHARS = 2_000


class State(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


FINISHED = frozenset({State.SUCCEEDED, State.FAILED, State.CANCELLED})


class AttemptOutcome(StrEnum):
    REQUEUED = "requeued"  # another attempt is queued
    FAILED = "failed"  # the job gave up
    STALE = "stale"  # the token was no longer current: nothing changed


class LeaseStatus(StrEnum):
    HELD = "held"
    LOST = "lost"  # another attempt owns the job, or it finished
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Claim:
    """What a worker needs to run one attempt."""

    job_id: str
    name: str
    token: str
    attempt: int
    preset: str
    segments: list[dict[str, Any]]
    expected_duration_s: float


@dataclass(frozen=True)
class Output:
    key: str
    uri: str
    duration_s: float
    size_bytes: int
    width: int
    height: int


def job_name(parent: str, job_id: str) -> str:
    return f"{parent}/renderJobs/{job_id}"


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; every time we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def lease_expired(row: RenderJobRow, now: datetime) -> bool:
    expires = aware(row.lease_expires_at)
    return expires is None or expires <= now


def clip_reason(reason: str) -> str:
    return reason[:MAX_REASON_CHARS]


async def _locked(session: AsyncSession, job_id: str, *, skip_locked: bool) -> RenderJobRow | None:
    """The job row locked for update (PostgreSQL); with ``skip_locked`` None if another
    transaction holds it. SQLite has no row locks: its single writer serialises instead."""
    query = select(RenderJobRow).where(RenderJobRow.id == job_id)
    query = query.with_for_update(skip_locked=skip_locked)
    return (await session.execute(query)).scalar_one_or_none()


# ---- creation ---------------------------------------------------------------------------------


async def find_by_request_id(
    session: AsyncSession, parent: str, request_id: str
) -> RenderJobRow | None:
    query = select(RenderJobRow).where(
        RenderJobRow.parent == parent, RenderJobRow.request_id == request_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def create_job(
    session: AsyncSession,
    *,
    parent: str,
    edit_plan: str,
    preset: str,
    segments: list[dict[str, Any]],
    max_attempts: int,
    request_id: str | None,
) -> RenderJobRow:
    """Insert a QUEUED job and its first ``render`` message."""
    now = utc_now()
    row = RenderJobRow(
        id=new_id(),
        parent=parent,
        edit_plan=edit_plan,
        preset=preset,
        state=State.QUEUED,
        progress_percent=0.0,
        attempt_count=0,
        max_attempts=max_attempts,
        failure_reason="",
        segments=segments,
        expected_duration_s=expected_duration(segments),
        request_id=request_id or None,
        create_time=now,
        update_time=now,
    )
    session.add(row)
    await session.flush()
    messages.queue_render(session, job_name(parent, row.id))
    return row


def expected_duration(segments: list[dict[str, Any]]) -> float:
    return sum(float(s["out_s"]) - float(s["in_s"]) for s in segments)


# ---- worker side ------------------------------------------------------------------------------


async def claim_job(
    session: AsyncSession,
    job_id: str,
    *,
    lease_s: float,
    worker: str,
    revive_failed: bool = False,
) -> Claim | None:
    """Start a new attempt if the job is QUEUED, or RUNNING with an expired lease and attempts
    left; None otherwise (a duplicate message, a finished job, or another claimer holds it).

    ``revive_failed``: the message was replayed from ``render.dead`` by an operator, so a FAILED
    job starts over with a fresh set of attempts (its failure reason stays until one succeeds).
    """
    row = await _locked(session, job_id, skip_locked=True)
    if row is None:
        return None
    now = utc_now()
    if revive_failed and row.state == State.FAILED:
        row.state = State.QUEUED
        row.attempt_count = 0
        row.end_time = None
    if row.state == State.RUNNING:
        # A worker died; the sweeper fails the attempt when no attempt is left.
        if not lease_expired(row, now) or row.attempt_count >= row.max_attempts:
            return None
        await _end_attempt(session, row.attempt_token, "lost", LEASE_EXPIRED_REASON, now)
    elif row.state != State.QUEUED:
        return None
    token = new_id()
    row.state = State.RUNNING
    row.attempt_token = token
    row.attempt_count += 1
    row.lease_expires_at = now + timedelta(seconds=lease_s)
    row.progress_percent = 0.0
    row.update_time = now
    session.add(
        RenderAttemptRow(
            token=token, job_id=row.id, number=row.attempt_count, worker=worker, start_time=now
        )
    )
    return Claim(
        job_id=row.id,
        name=job_name(row.parent, row.id),
        token=token,
        attempt=row.attempt_count,
        preset=row.preset,
        segments=list(row.segments),
        expected_duration_s=row.expected_duration_s,
    )


def _holds(row: RenderJobRow | None, token: str) -> bool:
    return row is not None and row.state == State.RUNNING and row.attempt_token == token


async def renew_lease(
    session: AsyncSession, job_id: str, token: str, *, lease_s: float
) -> LeaseStatus:
    """Heartbeat: push the lease expiry forward while the token is current."""
    row = await _locked(session, job_id, skip_locked=False)
    if row is not None and row.state == State.CANCELLED:
        return LeaseStatus.CANCELLED
    if not _holds(row, token):
        return LeaseStatus.LOST
    assert row is not None
    row.lease_expires_at = utc_now() + timedelta(seconds=lease_s)
    return LeaseStatus.HELD


async def record_progress(session: AsyncSession, job_id: str, token: str, percent: float) -> bool:
    row = await _locked(session, job_id, skip_locked=False)
    if not _holds(row, token):
        return False
    assert row is not None
    row.progress_percent = max(0.0, min(100.0, percent))
    row.update_time = utc_now()
    return True


async def complete_job(session: AsyncSession, job_id: str, token: str, output: Output) -> bool:
    """SUCCEEDED with the output, and ``render.succeeded``; False (nothing changed) if the
    token is no longer current."""
    row = await _locked(session, job_id, skip_locked=False)
    if not _holds(row, token):
        await _end_attempt(session, token, "stale", "completed after losing the job", utc_now())
        return False
    assert row is not None
    now = utc_now()
    row.state = State.SUCCEEDED
    row.progress_percent = 100.0
    row.output_key = output.key
    row.output_uri = output.uri
    row.output_duration_s = output.duration_s
    row.output_size_bytes = output.size_bytes
    row.output_width = output.width
    row.output_height = output.height
    row.failure_reason = ""
    row.lease_expires_at = None
    row.end_time = now
    row.update_time = now
    await _end_attempt(session, token, "succeeded", "", now)
    messages.render_succeeded(
        session,
        job_name=job_name(row.parent, row.id),
        episode=row.parent,
        edit_plan=row.edit_plan,
        storage_key=output.key,
        duration_s=output.duration_s,
    )
    return True


async def fail_attempt(
    session: AsyncSession, job_id: str, token: str, reason: str
) -> AttemptOutcome:
    """An attempt failed: queue the next one, or fail the job after the last."""
    row = await _locked(session, job_id, skip_locked=False)
    if not _holds(row, token):
        await _end_attempt(session, token, "stale", clip_reason(reason), utc_now())
        return AttemptOutcome.STALE
    assert row is not None
    return await _after_failed_attempt(session, row, reason, outcome="failed")


async def _after_failed_attempt(
    session: AsyncSession, row: RenderJobRow, reason: str, *, outcome: str
) -> AttemptOutcome:
    now = utc_now()
    reason = clip_reason(reason)
    name = job_name(row.parent, row.id)
    await _end_attempt(session, row.attempt_token, outcome, reason, now)
    row.attempt_token = None
    row.lease_expires_at = None
    row.failure_reason = reason
    row.update_time = now
    if row.attempt_count < row.max_attempts:
        row.state = State.QUEUED
        row.progress_percent = 0.0
        messages.queue_render(session, name)
        return AttemptOutcome.REQUEUED
    row.state = State.FAILED
    row.end_time = now
    messages.render_failed(session, job_name=name, reason=reason, attempts=row.attempt_count)
    messages.dead_letter_render(session, name, reason=reason, attempts=row.attempt_count)
    return AttemptOutcome.FAILED


async def release_job(session: AsyncSession, job_id: str, token: str) -> bool:
    """The worker is shutting down: back to QUEUED with a new message. The interrupted attempt
    is not counted against the limit (a rolling deploy must not use up a job's attempts)."""
    row = await _locked(session, job_id, skip_locked=False)
    if not _holds(row, token):
        return False
    assert row is not None
    now = utc_now()
    await _end_attempt(session, token, "released", "worker shut down", now)
    row.state = State.QUEUED
    row.attempt_token = None
    row.lease_expires_at = None
    row.attempt_count = max(0, row.attempt_count - 1)
    row.progress_percent = 0.0
    row.update_time = now
    messages.queue_render(session, job_name(row.parent, row.id))
    return True


async def sweep_expired_leases(session: AsyncSession, *, limit: int = 50) -> dict[str, str]:
    """Jobs RUNNING with an expired lease (their worker died): fail that attempt. Returns
    {job id: outcome}. Rows another transaction holds are skipped (PostgreSQL)."""
    now = utc_now()
    query = (
        select(RenderJobRow)
        .where(RenderJobRow.state == State.RUNNING, RenderJobRow.lease_expires_at <= now)
        .order_by(RenderJobRow.lease_expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result: dict[str, str] = {}
    for row in (await session.execute(query)).scalars():
        outcome = await _after_failed_attempt(session, row, LEASE_EXPIRED_REASON, outcome="lost")
        result[row.id] = outcome.value
    return result


async def _end_attempt(
    session: AsyncSession, token: str | None, outcome: str, reason: str, now: datetime
) -> None:
    if token is None:
        return
    attempt = await session.get(RenderAttemptRow, token)
    if attempt is not None and not attempt.outcome:
        attempt.outcome = outcome
        attempt.reason = reason
        attempt.end_time = now


async def output_key_of(session: AsyncSession, job_id: str) -> str | None:
    query = select(RenderJobRow.output_key).where(RenderJobRow.id == job_id)
    return (await session.execute(query)).scalar_one_or_none()


# ---- API side ---------------------------------------------------------------------------------


async def cancel_job(session: AsyncSession, row_id: str) -> RenderJobRow | None:
    """QUEUED/RUNNING -> CANCELLED; a running worker sees it at its next heartbeat. Cancelling
    a cancelled job returns it unchanged; SUCCEEDED or FAILED is FAILED_PRECONDITION."""
    row = await _locked(session, row_id, skip_locked=False)
    if row is None or row.state == State.CANCELLED:
        return row
    if row.state in FINISHED:
        raise failed_precondition(
            "JOB_ALREADY_FINISHED",
            f"render job {job_name(row.parent, row.id)!r} already ended {row.state}",
            domain=DOMAIN,
            state=row.state,
        )
    now = utc_now()
    await _end_attempt(session, row.attempt_token, "cancelled", "cancelled", now)
    row.state = State.CANCELLED
    row.lease_expires_at = None
    row.end_time = now
    row.update_time = now
    return row
