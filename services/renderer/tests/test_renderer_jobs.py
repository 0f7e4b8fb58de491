"""The job state machine and its lease, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc
import pytest
from sqlalchemy import update

from editbay_common.broker import DEAD_ERROR_HEADER, DEAD_REASON_HEADER
from editbay_common.db import Database
from editbay_common.errors import ServiceError
from editbay_common.ids import utc_now
from editbay_renderer import jobs
from editbay_renderer.models import RenderAttemptRow, RenderJobRow

from .conftest import outbox_rows

PARENT = "shows/kitchen/episodes/e1"
SEGMENTS = [
    {"scene_number": 1, "take": "t1", "storage_key": "takes/a.mp4", "in_s": 0.5, "out_s": 2.0},
    {"scene_number": 2, "take": "t2", "storage_key": "takes/b.mp4", "in_s": 1.0, "out_s": 2.25},
]
LEASE_S = 30.0


async def new_job(db: Database, *, max_attempts: int = 3, request_id: str | None = None) -> str:
    row = await db.run_in_transaction(
        lambda s: jobs.create_job(
            s,
            parent=PARENT,
            edit_plan=f"{PARENT}/editPlans/p1",
            preset="landscape-720p",
            segments=SEGMENTS,
            max_attempts=max_attempts,
            request_id=request_id,
        )
    )
    return row.id


async def claim(db: Database, job_id: str, worker: str = "w1") -> jobs.Claim | None:
    return await db.run_in_transaction(
        lambda s: jobs.claim_job(s, job_id, lease_s=LEASE_S, worker=worker)
    )


async def job(db: Database, job_id: str) -> RenderJobRow:
    async with db.transaction() as session:
        row = await session.get(RenderJobRow, job_id)
    assert row is not None
    return row


async def expire_lease(db: Database, job_id: str) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(RenderJobRow)
            .where(RenderJobRow.id == job_id)
            .values(lease_expires_at=utc_now() - timedelta(seconds=1))
        )


def output(key: str) -> jobs.Output:
    return jobs.Output(key, f"file:///{key}", 2.75, 1234, 1280, 720)


def messages_to(rows: list[dict], target: str) -> list[dict]:
    return [r for r in rows if r["target"] == target]


async def test_create_queues_job_and_message(db: Database) -> None:
    job_id = await new_job(db)
    row = await job(db, job_id)
    assert row.state == jobs.State.QUEUED
    assert row.attempt_count == 0 and row.max_attempts == 3
    assert row.expected_duration_s == pytest.approx(1.5 + 1.25)
    sent = messages_to(await outbox_rows(db), "render")
    assert [m["payload"] for m in sent] == [{"render_job": f"{PARENT}/renderJobs/{job_id}"}]
    assert sent[0]["kind"] == "work"


async def test_claim_twice_only_one_wins(db: Database) -> None:
    job_id = await new_job(db)
    first = await claim(db, job_id, "w1")
    second = await claim(db, job_id, "w2")
    assert first is not None and second is None
    row = await job(db, job_id)
    assert row.state == jobs.State.RUNNING
    assert row.attempt_token == first.token and row.attempt_count == 1
    assert jobs.aware(row.lease_expires_at) > utc_now()
    assert first.segments == SEGMENTS


async def test_concurrent_claims_only_one_wins(db: Database) -> None:
    job_id = await new_job(db)
    results = await asyncio.gather(*(claim(db, job_id, f"w{i}") for i in range(4)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert (await job(db, job_id)).attempt_count == 1


@pytest.mark.postgres
async def test_skip_locked_claimer_does_not_wait_for_the_holder(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("row locks are a PostgreSQL feature")
    job_id = await new_job(db)
    async with db.sessions() as holder, holder.begin():
        held = await jobs.claim_job(holder, job_id, lease_s=LEASE_S, worker="holder")
        assert held is not None
        # The first claimer still holds the row lock (uncommitted): the second skips it at once.
        other = await asyncio.wait_for(claim(db, job_id, "other"), timeout=10)
        assert other is None
    assert (await job(db, job_id)).attempt_token == held.token


async def test_completion_with_stale_token_is_refused(db: Database) -> None:
    job_id = await new_job(db)
    first = await claim(db, job_id)
    assert first is not None
    await expire_lease(db, job_id)
    second = await claim(db, job_id, "w2")  # the first worker looks dead: another takes over
    assert second is not None and second.token != first.token and second.attempt == 2
    stale = await db.run_in_transaction(
        lambda s: jobs.complete_job(s, job_id, first.token, output("renders/x/first.mp4"))
    )
    assert stale is False
    assert (await job(db, job_id)).state == jobs.State.RUNNING
    done = await db.run_in_transaction(
        lambda s: jobs.complete_job(s, job_id, second.token, output("renders/x/second.mp4"))
    )
    assert done is True
    row = await job(db, job_id)
    assert row.state == jobs.State.SUCCEEDED and row.output_key == "renders/x/second.mp4"
    assert row.end_time is not None and row.progress_percent == 100.0
    succeeded = messages_to(await outbox_rows(db), "render.succeeded")
    assert len(succeeded) == 1
    assert succeeded[0]["payload"]["storage_key"] == "renders/x/second.mp4"
    assert succeeded[0]["payload"]["episode"] == PARENT
    # A second completion, even with the winning token, changes nothing.
    again = await db.run_in_transaction(
        lambda s: jobs.complete_job(s, job_id, second.token, output("renders/x/again.mp4"))
    )
    assert again is False
    assert len(messages_to(await outbox_rows(db), "render.succeeded")) == 1


async def test_expired_lease_is_requeued_by_the_sweeper(db: Database) -> None:
    job_id = await new_job(db)
    first = await claim(db, job_id)
    assert first is not None
    assert await db.run_in_transaction(jobs.sweep_expired_leases) == {}  # lease still valid
    await expire_lease(db, job_id)
    swept = await db.run_in_transaction(jobs.sweep_expired_leases)
    assert swept == {job_id: "requeued"}
    row = await job(db, job_id)
    assert row.state == jobs.State.QUEUED and row.attempt_token is None
    assert row.failure_reason == jobs.LEASE_EXPIRED_REASON and row.attempt_count == 1
    assert len(messages_to(await outbox_rows(db), "render")) == 2  # the first and the retry
    renewed = await db.run_in_transaction(
        lambda s: jobs.renew_lease(s, job_id, first.token, lease_s=LEASE_S)
    )
    assert renewed is jobs.LeaseStatus.LOST
    async with db.transaction() as session:
        attempt = await session.get(RenderAttemptRow, first.token)
    assert attempt is not None and attempt.outcome == "lost"


async def test_attempt_limit_fails_job_and_dead_letters_it(db: Database) -> None:
    job_id = await new_job(db, max_attempts=3)
    outcomes = []
    for n in range(3):
        attempt = await claim(db, job_id)
        assert attempt is not None and attempt.attempt == n + 1
        outcomes.append(
            await db.run_in_transaction(
                lambda s, t=attempt.token, n=n: jobs.fail_attempt(s, job_id, t, f"boom {n}")
            )
        )
    assert outcomes == [
        jobs.AttemptOutcome.REQUEUED,
        jobs.AttemptOutcome.REQUEUED,
        jobs.AttemptOutcome.FAILED,
    ]
    row = await job(db, job_id)
    assert row.state == jobs.State.FAILED and row.failure_reason == "boom 2"
    assert row.end_time is not None and row.attempt_count == 3
    assert await claim(db, job_id) is None
    rows = await outbox_rows(db)
    assert len(messages_to(rows, "render")) == 3  # the first message and two retries
    [failed] = messages_to(rows, "render.failed")
    assert failed["payload"]["reason"] == "boom 2" and failed["payload"]["attempts"] == 3
    [dead] = messages_to(rows, "render.dead")
    assert dead["kind"] == "work"
    assert dead["payload"] == {"render_job": f"{PARENT}/renderJobs/{job_id}"}
    assert dead["headers"][DEAD_ERROR_HEADER] == "boom 2"
    assert dead["headers"][DEAD_REASON_HEADER] == "delivery-limit"


async def test_sweeper_fails_job_whose_last_attempt_was_lost(db: Database) -> None:
    job_id = await new_job(db, max_attempts=1)
    assert await claim(db, job_id) is not None
    await expire_lease(db, job_id)
    assert await claim(db, job_id) is None  # no attempt left: only the sweeper may end it
    assert await db.run_in_transaction(jobs.sweep_expired_leases) == {job_id: "failed"}
    row = await job(db, job_id)
    assert row.state == jobs.State.FAILED and row.failure_reason == jobs.LEASE_EXPIRED_REASON
    assert len(messages_to(await outbox_rows(db), "render.dead")) == 1


async def test_stale_failure_changes_nothing(db: Database) -> None:
    job_id = await new_job(db)
    first = await claim(db, job_id)
    assert first is not None
    await expire_lease(db, job_id)
    second = await claim(db, job_id)
    assert second is not None
    outcome = await db.run_in_transaction(
        lambda s: jobs.fail_attempt(s, job_id, first.token, "late")
    )
    assert outcome is jobs.AttemptOutcome.STALE
    row = await job(db, job_id)
    assert row.state == jobs.State.RUNNING and row.attempt_token == second.token


async def test_release_requeues_without_counting_the_attempt(db: Database) -> None:
    job_id = await new_job(db)
    attempt = await claim(db, job_id)
    assert attempt is not None
    assert await db.run_in_transaction(lambda s: jobs.release_job(s, job_id, attempt.token))
    row = await job(db, job_id)
    assert row.state == jobs.State.QUEUED and row.attempt_count == 0
    assert len(messages_to(await outbox_rows(db), "render")) == 2
    assert not await db.run_in_transaction(lambda s: jobs.release_job(s, job_id, attempt.token))


async def test_cancel_running_job_is_seen_by_heartbeat(db: Database) -> None:
    job_id = await new_job(db)
    attempt = await claim(db, job_id)
    assert attempt is not None
    row = await db.run_in_transaction(lambda s: jobs.cancel_job(s, job_id))
    assert row is not None and row.state == jobs.State.CANCELLED and row.end_time is not None
    status = await db.run_in_transaction(
        lambda s: jobs.renew_lease(s, job_id, attempt.token, lease_s=LEASE_S)
    )
    assert status is jobs.LeaseStatus.CANCELLED
    done = await db.run_in_transaction(
        lambda s: jobs.complete_job(s, job_id, attempt.token, output("renders/x/y.mp4"))
    )
    assert done is False and (await job(db, job_id)).state == jobs.State.CANCELLED
    # Cancelling again returns it unchanged.
    again = await db.run_in_transaction(lambda s: jobs.cancel_job(s, job_id))
    assert again is not None and again.state == jobs.State.CANCELLED


async def test_cancel_finished_job_is_a_failed_precondition(db: Database) -> None:
    job_id = await new_job(db)
    attempt = await claim(db, job_id)
    assert attempt is not None
    await db.run_in_transaction(
        lambda s: jobs.complete_job(s, job_id, attempt.token, output("renders/x/y.mp4"))
    )
    with pytest.raises(ServiceError) as caught:
        await db.run_in_transaction(lambda s: jobs.cancel_job(s, job_id))
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.reason == "JOB_ALREADY_FINISHED"
    assert (await job(db, job_id)).state == jobs.State.SUCCEEDED


async def test_progress_needs_the_current_token(db: Database) -> None:
    job_id = await new_job(db)
    attempt = await claim(db, job_id)
    assert attempt is not None
    assert await db.run_in_transaction(
        lambda s: jobs.record_progress(s, job_id, attempt.token, 42.5)
    )
    assert not await db.run_in_transaction(
        lambda s: jobs.record_progress(s, job_id, "not-the-token", 99.0)
    )
    assert (await job(db, job_id)).progress_percent == 42.5


async def test_replayed_dead_letter_revives_a_failed_job(db: Database) -> None:
    job_id = await new_job(db, max_attempts=1)
    attempt = await claim(db, job_id)
    assert attempt is not None
    await db.run_in_transaction(lambda s: jobs.fail_attempt(s, job_id, attempt.token, "boom"))
    assert (await job(db, job_id)).state == jobs.State.FAILED
    assert await claim(db, job_id) is None  # an ordinary message does not revive it
    revived = await db.run_in_transaction(
        lambda s: jobs.claim_job(s, job_id, lease_s=LEASE_S, worker="w", revive_failed=True)
    )
    assert revived is not None and revived.attempt == 1
    row = await job(db, job_id)
    assert row.state == jobs.State.RUNNING and row.end_time is None
