"""RendererService over a real gRPC socket, with real FFmpeg renders, the worker and the sweeper.

Every unit runs in this process: the API, and workers sharing its database, broker and storage.
Runs on the embedded defaults (SQLite, in-process broker) and on PostgreSQL + RabbitMQ.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from editbay.renderer.v1 import renderer_service_pb2 as pb
from editbay.renderer.v1 import renderer_service_pb2_grpc as pb_grpc
from editbay_common.errors import error_info
from editbay_renderer import jobs, renders
from editbay_renderer.models import RenderAttemptRow
from editbay_renderer.plans import PlanChoice

from .conftest import MEDIUM, PARENT, SLOW, TINY, Stack, State, create, eventually, get, reaches


def ffmpeg_running_for(job_id: str) -> bool:
    """True while an FFmpeg process works on this job (its scratch path names the job)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"ffmpeg") and any(job_id.encode() in a for a in args):
            return True
    return False


def probe_duration(path: Path) -> float:
    import json
    import subprocess

    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    return float(json.loads(out)["format"]["duration"])


# ---- the happy path ---------------------------------------------------------------------------


async def test_render_job_succeeds_with_verified_output(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    choices = [  # listed out of scene order: the job renders them in scene order
        PlanChoice(3, "takes/c.mp4", 1.0, 2.5),
        PlanChoice(1, "takes/a.mp4", 0.5, 2.0),
        PlanChoice(2, "takes/long.mp4", 0.0, 12.0),
    ]
    expected = sum(c.out_seconds - c.in_seconds for c in choices)
    plan = stack.approve("p1", choices)
    job = await create(api, plan)
    assert job.state == State.QUEUED and job.preset == TINY.name
    assert job.expected_duration_seconds == pytest.approx(expected)
    assert job.max_attempts == stack.settings.render_max_attempts

    await stack.start(frozenset({"worker"}))
    seen: list[pb.RenderJob] = []
    async for update in api.WatchRenderJob(pb.WatchRenderJobRequest(name=job.name), timeout=120):
        seen.append(update)
    final = seen[-1]
    assert final.state == State.SUCCEEDED, final.failure_reason
    percents = [u.progress_percent for u in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0

    out = final.output
    assert abs(out.duration_seconds - expected) <= 0.1
    assert (out.width, out.height) == (TINY.width, TINY.height)
    stored = stack.storage.path_for(out.storage_key)
    assert out.storage_key.startswith(f"renders/{job.name.rsplit('/', 1)[-1]}/")
    assert stored.is_file() and stored.stat().st_size == out.size_bytes
    assert abs(probe_duration(stored) - expected) <= 0.1
    assert out.uri == stored.as_uri()
    assert final.attempt_count == 1 and final.end_time.seconds > 0

    await eventually(lambda: stack.events_for("render.succeeded", job.name))
    [event] = stack.events_for("render.succeeded", job.name)
    assert event["storage_key"] == out.storage_key and event["episode"] == PARENT
    assert event["edit_plan"] == plan
    progress_events = stack.events_for("render.progress", job.name)
    progress = [e.get("progress_percent", 0.0) for e in progress_events]
    assert progress and progress == sorted(progress)
    assert any(0 < p < 100 for p in progress)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await api.CancelRenderJob(pb.CancelRenderJobRequest(name=job.name), timeout=30)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "JOB_ALREADY_FINISHED"

    listed = await api.ListRenderJobs(
        pb.ListRenderJobsRequest(parent=PARENT, filter="state = SUCCEEDED"), timeout=30
    )
    assert [j.name for j in listed.render_jobs] == [job.name]


# ---- failures ---------------------------------------------------------------------------------


async def test_missing_source_fails_after_the_attempt_limit(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    plan = stack.approve(
        "p-missing",
        [PlanChoice(1, "takes/a.mp4", 0.0, 1.0), PlanChoice(2, "takes/gone.mp4", 0.0, 1.0)],
    )
    job = await create(api, plan)
    await stack.start(frozenset({"worker"}))
    final = await reaches(api, job.name, State.FAILED)
    assert final.attempt_count == 3 == final.max_attempts
    assert "source missing in storage: takes/gone.mp4" in final.failure_reason
    assert not final.HasField("output")

    async def dead_letter_parked() -> bool:
        dead = await stack.broker.dead_letters("render")
        return any(d.payload.get("render_job") == job.name for d in dead)

    await eventually(dead_letter_parked)
    await eventually(lambda: stack.events_for("render.failed", job.name))
    [failed] = stack.events_for("render.failed", job.name)
    assert failed["attempts"] == 3 and "takes/gone.mp4" in failed["reason"]


async def test_a_hung_ffmpeg_is_killed_and_the_attempt_fails(
    stack: Stack, api: pb_grpc.RendererServiceStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if FFmpeg hung: a render takes longer than its time limit (here 0.3 s for a slow render)
    monkeypatch.setattr(renders, "ffmpeg_timeout_s", lambda duration_s: 0.3)
    plan = stack.approve("p-hung", [PlanChoice(1, "takes/long.mp4", 0.0, 12.0)])
    job = await create(api, plan, preset=SLOW.name)
    await stack.start(frozenset({"worker"}))
    final = await reaches(api, job.name, State.FAILED)
    assert final.attempt_count == 3
    assert "ffmpeg failed" in final.failure_reason and "0.3" in final.failure_reason
    assert not ffmpeg_running_for(job.name.rsplit("/", 1)[-1])


# ---- cancellation and shutdown ----------------------------------------------------------------


async def running_with_ffmpeg(api: pb_grpc.RendererServiceStub, name: str) -> None:
    job_id = name.rsplit("/", 1)[-1]

    async def check() -> bool:
        job = await get(api, name)
        return job.state == State.RUNNING and ffmpeg_running_for(job_id)

    await eventually(check, within=120)


async def test_cancel_running_job_kills_ffmpeg(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    plan = stack.approve("p-long", [PlanChoice(1, "takes/long.mp4", 0.0, 40.0)])
    job = await create(api, plan, preset=SLOW.name)
    job_id = job.name.rsplit("/", 1)[-1]
    await stack.start(frozenset({"worker"}))
    await running_with_ffmpeg(api, job.name)

    cancelled = await api.CancelRenderJob(pb.CancelRenderJobRequest(name=job.name), timeout=30)
    assert cancelled.state == State.CANCELLED
    await eventually(lambda: not ffmpeg_running_for(job_id), within=30)
    # The worker noticed (its attempt ended as cancelled) and left nothing behind.
    db = stack.database()
    try:

        async def attempt_closed() -> bool:
            async with db.transaction() as session:
                rows = (await session.execute(select(RenderAttemptRow))).scalars().all()
            return [r.outcome for r in rows if r.job_id == job_id] == ["cancelled"]

        await eventually(attempt_closed)
    finally:
        await db.dispose()
    final = await get(api, job.name)
    assert final.state == State.CANCELLED and not final.HasField("output")
    assert not list((stack.storage.root / "renders").glob(f"{job_id}/*"))
    assert not stack.events_for("render.succeeded", job.name)


async def test_worker_shutdown_releases_job_to_another_worker(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    plan = stack.approve("p-handover", [PlanChoice(1, "takes/long.mp4", 0.0, 12.0)])
    job = await create(api, plan, preset=MEDIUM.name)
    job_id = job.name.rsplit("/", 1)[-1]
    first = await stack.start(frozenset({"worker"}))
    await running_with_ffmpeg(api, job.name)

    await stack.stop(first)  # what SIGTERM does: the unit's tasks are cancelled
    assert not ffmpeg_running_for(job_id)
    released = await get(api, job.name)
    assert released.state == State.QUEUED and released.attempt_count == 0

    await stack.start(frozenset({"worker"}))
    final = await reaches(api, job.name, State.SUCCEEDED)
    assert final.attempt_count == 1
    assert abs(final.output.duration_seconds - 12.0) <= 0.1
    await eventually(lambda: stack.events_for("render.succeeded", job.name))
    assert len(stack.events_for("render.succeeded", job.name)) == 1
    db = stack.database()
    try:
        async with db.transaction() as session:
            rows = (await session.execute(select(RenderAttemptRow))).scalars().all()
    finally:
        await db.dispose()
    outcomes = sorted((r.outcome, r.worker) for r in rows if r.job_id == job_id)
    assert [o for o, _ in outcomes] == ["released", "succeeded"]
    assert outcomes[0][1] != outcomes[1][1]  # two different workers


async def test_job_of_a_dead_worker_is_finished_once_by_another(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    plan = stack.approve("p-orphan", [PlanChoice(1, "takes/a.mp4", 0.0, 2.0)])
    job = await create(api, plan)
    job_id = job.name.rsplit("/", 1)[-1]
    db = stack.database()
    try:
        # A worker claims the job and dies at once: no heartbeat, no release, no completion.
        dead = await db.run_in_transaction(
            lambda s: jobs.claim_job(s, job_id, lease_s=1.0, worker="dead-worker")
        )
        assert dead is not None
        await stack.start(frozenset({"worker"}))
        final = await reaches(api, job.name, State.SUCCEEDED)
        assert final.attempt_count == 2
        async with db.transaction() as session:
            rows = (await session.execute(select(RenderAttemptRow))).scalars().all()
    finally:
        await db.dispose()
    outcomes = {r.worker: r.outcome for r in rows if r.job_id == job_id}
    assert outcomes.pop("dead-worker") == "lost"
    assert list(outcomes.values()) == ["succeeded"]
    await eventually(lambda: stack.events_for("render.succeeded", job.name))
    assert len(stack.events_for("render.succeeded", job.name)) == 1


async def test_replaying_the_dead_letter_renders_a_failed_job_again(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    plan = stack.approve("p-late", [PlanChoice(1, "takes/late.mp4", 0.0, 1.0)])
    job = await create(api, plan)
    await stack.start(frozenset({"worker"}))
    failed = await reaches(api, job.name, State.FAILED)
    assert "takes/late.mp4" in failed.failure_reason

    async def parked() -> bool:
        dead = await stack.broker.dead_letters("render")
        return any(d.payload.get("render_job") == job.name for d in dead)

    await eventually(parked)
    # The operator fixes the cause (the source arrives) and replays the dead letters.
    await stack.storage.put_file("takes/late.mp4", stack.storage.path_for("takes/b.mp4"))
    assert await stack.broker.replay_dead_letters("render") >= 1
    final = await reaches(api, job.name, State.SUCCEEDED)
    assert final.attempt_count == 1 and abs(final.output.duration_seconds - 1.0) <= 0.1


async def test_one_worker_renders_queued_jobs_one_after_another(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    plan = stack.approve("p-short", [PlanChoice(1, "takes/c.mp4", 0.0, 1.0)])
    names = [(await create(api, plan)).name for _ in range(3)]
    await stack.start(frozenset({"worker"}))  # worker_concurrency = 1
    for name in names:
        final = await reaches(api, name, State.SUCCEEDED)
        assert final.attempt_count == 1
    assert not await stack.broker.dead_letters("render")
    assert not any(stack.settings.scratch_dir("renderer").iterdir())  # scratch cleaned
