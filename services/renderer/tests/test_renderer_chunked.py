"""Chunked renders: a long job split into parts that several workers render, then joined.

Every unit runs in this process (the API and workers sharing one database, broker and storage),
on the embedded defaults and on PostgreSQL + RabbitMQ, with real FFmpeg renders.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from editbay.renderer.v1 import renderer_service_pb2 as pb
from editbay.renderer.v1 import renderer_service_pb2_grpc as pb_grpc
from editbay_renderer import chunked as chunked_work
from editbay_renderer.models import RenderAttemptRow, RenderPartRow
from editbay_renderer.parts import PartView
from editbay_renderer.plans import PlanChoice

from .conftest import SLOW, TINY, Stack, State, create, eventually, get, reaches

NINE_SECONDS = [  # three takes of 3 s: a 9 s programme
    PlanChoice(1, "takes/a.mp4", 0.0, 3.0),
    PlanChoice(2, "takes/b.mp4", 0.0, 3.0),
    PlanChoice(3, "takes/c.mp4", 0.0, 3.0),
]


def chunked(stack: Stack, seconds: float = 2.0) -> None:
    """Workers started from now on split renders into parts of about ``seconds``."""
    stack.settings = stack.settings.model_copy(update={"render_chunk_seconds": seconds})


async def part_rows(stack: Stack, job_id: str) -> list[RenderPartRow]:
    db = stack.database()
    try:
        async with db.transaction() as session:
            query = select(RenderPartRow).where(RenderPartRow.job_id == job_id)
            return list((await session.execute(query.order_by(RenderPartRow.number))).scalars())
    finally:
        await db.dispose()


def streams(path: Path) -> dict[str, dict]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_streams", "-of", "json", str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}


async def test_a_long_render_is_shared_by_two_workers_and_joined(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    chunked(stack)
    plan = stack.approve("p-parts", NINE_SECONDS)
    job = await create(api, plan, preset=SLOW.name)
    job_id = job.name.rsplit("/", 1)[-1]
    await stack.start(frozenset({"worker"}))
    await stack.start(frozenset({"worker"}))

    seen: list[pb.RenderJob] = []
    async for update in api.WatchRenderJob(pb.WatchRenderJobRequest(name=job.name), timeout=180):
        seen.append(update)
    final = seen[-1]
    assert final.state == State.SUCCEEDED, final.failure_reason
    assert final.attempt_count == 1
    percents = [u.progress_percent for u in seen]
    assert percents == sorted(percents) and any(0 < p < 100 for p in percents)

    # four stretches of picture (9 s in parts of about 2 s) and the sound
    rows = await part_rows(stack, job_id)
    assert [(r.kind, r.state) for r in rows] == [("video", "SUCCEEDED")] * 4 + [
        ("audio", "SUCCEEDED")
    ]
    assert [(r.frame_lo, r.frame_hi) for r in rows[:4]] == [(0, 56), (56, 112), (112, 169),
                                                           (169, 225)]  # fmt: skip
    assert len({r.worker for r in rows}) == 2  # both workers rendered parts
    # the joined output: every frame of the programme, one sound track, verified durations
    out = stack.storage.path_for(final.output.storage_key)
    found = streams(out)
    assert int(found["video"]["nb_read_packets"]) == 9 * SLOW.fps
    assert (found["video"]["width"], found["video"]["height"]) == (SLOW.width, SLOW.height)
    assert found["audio"]["codec_name"] == "aac"
    assert abs(final.output.duration_seconds - 9.0) <= 0.05
    # the parts' own outputs are gone; only the joined render stays under the job
    assert [p.name for p in (stack.storage.root / "renders" / job_id).rglob("*.m*")] == [out.name]
    await eventually(lambda: stack.events_for("render.succeeded", job.name))
    assert len(stack.events_for("render.succeeded", job.name)) == 1


async def test_one_worker_renders_every_part_itself(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    chunked(stack, 3.0)
    plan = stack.approve("p-alone", NINE_SECONDS)
    job = await create(api, plan)
    await stack.start(frozenset({"worker"}))
    final = await reaches(api, job.name, State.SUCCEEDED, State.FAILED)
    assert final.state == State.SUCCEEDED, final.failure_reason
    rows = await part_rows(stack, job.name.rsplit("/", 1)[-1])
    assert [r.kind for r in rows] == ["video"] * 3 + ["audio"]
    assert len({r.worker for r in rows}) == 1  # no help came: the attempt's worker did it all
    out = stack.storage.path_for(final.output.storage_key)
    assert int(streams(out)["video"]["nb_read_packets"]) == 9 * TINY.fps


async def test_a_failed_part_fails_the_attempt_and_the_next_attempt_succeeds(
    stack: Stack, api: pb_grpc.RendererServiceStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunked(stack)
    render_chunk = chunked_work.render_chunk
    failures: list[Path] = []

    async def fails_once(chunk, preset, dest, **kwargs):
        if not failures:
            failures.append(dest)
            raise RuntimeError("the encoder gave up")
        return await render_chunk(chunk, preset, dest, **kwargs)

    monkeypatch.setattr(chunked_work, "render_chunk", fails_once)
    plan = stack.approve("p-retry", NINE_SECONDS)
    job = await create(api, plan)
    job_id = job.name.rsplit("/", 1)[-1]
    await stack.start(frozenset({"worker"}))
    final = await reaches(api, job.name, State.SUCCEEDED, State.FAILED)
    assert final.state == State.SUCCEEDED and final.attempt_count == 2
    db = stack.database()
    try:
        async with db.transaction() as session:
            query = select(RenderAttemptRow).where(RenderAttemptRow.job_id == job_id)
            attempts = sorted((await session.execute(query)).scalars(), key=lambda r: r.number)
    finally:
        await db.dispose()
    assert [a.outcome for a in attempts] == ["failed", "succeeded"]
    assert "part 0 (video)" in attempts[0].reason and "the encoder gave up" in attempts[0].reason
    rows = await part_rows(stack, job_id)
    by_attempt = {a.token: [r.state for r in rows if r.attempt_token == a.token] for a in attempts}
    assert by_attempt[attempts[0].token][0] == "FAILED"
    assert set(by_attempt[attempts[1].token]) == {"SUCCEEDED"}
    assert all(r.output_key is None for r in rows)  # every part's output deleted


async def test_a_short_render_is_not_split(stack: Stack, api: pb_grpc.RendererServiceStub) -> None:
    chunked(stack, 5.0)  # 9 s is less than twice 5 s
    plan = stack.approve("p-whole", NINE_SECONDS)
    job = await create(api, plan)
    await stack.start(frozenset({"worker"}))
    final = await reaches(api, job.name, State.SUCCEEDED, State.FAILED)
    assert final.state == State.SUCCEEDED, final.failure_reason
    assert await part_rows(stack, job.name.rsplit("/", 1)[-1]) == []
    assert (await get(api, job.name)).output.duration_seconds == pytest.approx(9.0, abs=0.05)


def test_progress_weighs_parts_by_their_work() -> None:
    views = [
        PartView(0, "video", 100, "SUCCEEDED", 1.0, "k", "", "w1"),
        PartView(1, "video", 300, "RUNNING", 0.5, None, "", "w2"),
        PartView(2, "audio", 400, "QUEUED", 0.0, None, "", ""),
    ]
    # the sound counts as a tenth of the picture's 400 frames
    assert chunked_work.parts_progress(views) == pytest.approx((100 + 150) / 440)
    assert chunked_work.parts_progress([]) == 0.0


async def test_a_worker_shutting_down_hands_its_part_back(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    chunked(stack)
    plan = stack.approve("p-handback", NINE_SECONDS)
    job = await create(api, plan, preset=SLOW.name)
    job_id = job.name.rsplit("/", 1)[-1]
    await stack.start(frozenset({"worker"}))
    await reaches(api, job.name, State.RUNNING)  # the first worker holds the attempt
    helper = await stack.start(frozenset({"worker"}))
    db = stack.database()
    try:
        async with db.transaction() as session:
            [attempt] = (await session.execute(select(RenderAttemptRow))).scalars().all()
        held: list[RenderPartRow] = []

        async def helper_renders_a_part() -> bool:
            held[:] = [r for r in await part_rows(stack, job_id)
                       if r.state == "RUNNING" and r.worker != attempt.worker]  # fmt: skip
            return bool(held)

        await eventually(helper_renders_a_part, within=60)
        await stack.stop(helper)  # what SIGTERM does: the part goes back to the queue
        number = held[0].number
        [after] = [r for r in await part_rows(stack, job_id) if r.number == number]
        assert after.state in ("QUEUED", "RUNNING") and after.claim_token != held[0].claim_token

        final = await reaches(api, job.name, State.SUCCEEDED, State.FAILED)
    finally:
        await db.dispose()
    assert final.state == State.SUCCEEDED and final.attempt_count == 1, final.failure_reason
    [done] = [r for r in await part_rows(stack, job_id) if r.number == number]
    assert done.state == "SUCCEEDED" and done.worker == attempt.worker
