"""RendererService validation, errors, idempotency and listing (no worker running)."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from editbay.renderer.v1 import renderer_service_pb2 as pb
from editbay.renderer.v1 import renderer_service_pb2_grpc as pb_grpc
from editbay_common.errors import error_info
from editbay_renderer.plans import PlanChoice

from .conftest import PARENT, PRESETS, TINY, Stack, State, create, get

CHOICES = [PlanChoice(1, "takes/a.mp4", 0.0, 1.0), PlanChoice(2, "takes/b.mp4", 0.5, 2.0)]


async def rpc_error(call) -> grpc.aio.AioRpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def test_create_rejects_bad_names_and_presets(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    plan = stack.approve("p1", CHOICES)
    cases = [
        (pb.CreateRenderJobRequest(parent="shows/x", render_job=pb.RenderJob(edit_plan=plan)),
         "parent", "INVALID_FIELD"),
        (pb.CreateRenderJobRequest(parent=PARENT), "render_job", "INVALID_FIELD"),
        (pb.CreateRenderJobRequest(parent=PARENT, render_job=pb.RenderJob(edit_plan="plans/1")),
         "render_job.edit_plan", "INVALID_FIELD"),
        (pb.CreateRenderJobRequest(
            parent=PARENT,
            render_job=pb.RenderJob(edit_plan="shows/kitchen/episodes/e2/editPlans/p1")),
         "render_job.edit_plan", "INVALID_FIELD"),
        (pb.CreateRenderJobRequest(
            parent=PARENT, render_job=pb.RenderJob(edit_plan=plan, preset="vhs-240p")),
         "render_job.preset", "UNKNOWN_PRESET"),
    ]  # fmt: skip
    for request, field, reason in cases:
        error = await rpc_error(api.CreateRenderJob(request, timeout=30))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, request
        info = error_info(error)
        assert info.reason == reason and info.metadata["field"] == field
        assert info.domain == "renderer.editbay.dev"
    error = await rpc_error(
        api.CreateRenderJob(
            pb.CreateRenderJobRequest(
                parent=PARENT, render_job=pb.RenderJob(edit_plan=plan, preset="vhs-240p")
            ),
            timeout=30,
        )
    )
    assert set(error_info(error).metadata["presets"].split(",")) == set(PRESETS)


async def test_create_needs_an_existing_approved_plan(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    missing = await rpc_error(create(api, f"{PARENT}/editPlans/nope"))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(missing).reason == "EDIT_PLAN_NOT_FOUND"
    proposed = stack.approve("p-proposed", CHOICES, state="PROPOSED")
    unapproved = await rpc_error(create(api, proposed))
    assert unapproved.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(unapproved).reason == "PLAN_NOT_APPROVED"
    assert error_info(unapproved).metadata["state"] == "PROPOSED"


async def test_default_preset_and_request_id_idempotency(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    plan = stack.approve("p1", CHOICES)
    first = await create(api, plan, preset="", request_id="req-1")
    assert first.preset == stack.settings.render_preset
    assert first.state == State.QUEUED and first.expected_duration_seconds == pytest.approx(2.5)
    again = await create(api, plan, preset="", request_id="req-1")
    assert again.name == first.name
    other = await create(api, plan, preset=TINY.name, request_id="req-2")
    assert other.name != first.name
    listed = await api.ListRenderJobs(pb.ListRenderJobsRequest(parent=PARENT), timeout=30)
    assert [j.name for j in listed.render_jobs] == [other.name, first.name]  # newest first


async def test_a_request_id_reused_for_another_plan_is_refused(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    first = await create(api, stack.approve("p1", CHOICES), request_id="req-1")
    error = await rpc_error(create(api, stack.approve("p2", CHOICES), request_id="req-1"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(error)
    assert (info.reason, info.metadata["field"]) == ("REQUEST_ID_REUSED", "request_id")
    listed = await api.ListRenderJobs(pb.ListRenderJobsRequest(parent=PARENT), timeout=30)
    assert [j.name for j in listed.render_jobs] == [first.name]


async def test_get_cancel_and_list(stack: Stack, api: pb_grpc.RendererServiceStub) -> None:
    plan = stack.approve("p1", CHOICES)
    names = [(await create(api, plan)).name for _ in range(5)]

    missing = await rpc_error(get(api, f"{PARENT}/renderJobs/nope"))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(missing).reason == "RENDER_JOB_NOT_FOUND"
    job_id = names[0].rsplit("/", 1)[-1]
    elsewhere = await rpc_error(get(api, f"shows/kitchen/episodes/e2/renderJobs/{job_id}"))
    assert elsewhere.code() == grpc.StatusCode.NOT_FOUND
    bad = await rpc_error(get(api, "renderJobs/x"))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT

    cancelled = await api.CancelRenderJob(pb.CancelRenderJobRequest(name=names[1]), timeout=30)
    assert cancelled.state == State.CANCELLED and cancelled.end_time.seconds > 0
    again = await api.CancelRenderJob(pb.CancelRenderJobRequest(name=names[1]), timeout=30)
    assert again.state == State.CANCELLED

    seen: list[str] = []
    token = ""
    while True:
        page = await api.ListRenderJobs(
            pb.ListRenderJobsRequest(parent=PARENT, page_size=2, page_token=token,
                                     order_by="create_time"),
            timeout=30,
        )  # fmt: skip
        assert len(page.render_jobs) <= 2
        seen += [j.name for j in page.render_jobs]
        token = page.next_page_token
        if not token:
            break
    assert seen == names

    queued = await api.ListRenderJobs(
        pb.ListRenderJobsRequest(parent=PARENT, filter="state = QUEUED"), timeout=30
    )
    assert {j.name for j in queued.render_jobs} == set(names) - {names[1]}
    only = await api.ListRenderJobs(
        pb.ListRenderJobsRequest(parent=PARENT, filter='state = "CANCELLED"'), timeout=30
    )
    assert [j.name for j in only.render_jobs] == [names[1]]
    for bad_filter in ("state = DONE", "colour = red", "state"):
        error = await rpc_error(
            api.ListRenderJobs(pb.ListRenderJobsRequest(parent=PARENT, filter=bad_filter))
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_info(error).metadata["field"] == "filter"
    stale = await rpc_error(
        api.ListRenderJobs(
            pb.ListRenderJobsRequest(parent=PARENT, page_token=token or "bm90LWEtdG9rZW4=")
        )
    )
    assert stale.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_watch_ends_when_the_job_is_finished(
    stack: Stack, api: pb_grpc.RendererServiceStub
) -> None:
    plan = stack.approve("p1", CHOICES)
    job = await create(api, plan)
    stream = api.WatchRenderJob(pb.WatchRenderJobRequest(name=job.name), timeout=60)
    first = await stream.read()
    assert first.name == job.name and first.state == State.QUEUED
    await api.CancelRenderJob(pb.CancelRenderJobRequest(name=job.name), timeout=30)
    rest = []
    while (update := await stream.read()) is not grpc.aio.EOF:
        rest.append(update)
    assert rest and rest[-1].state == State.CANCELLED


async def test_worker_only_process_serves_health_but_no_api(stack: Stack) -> None:
    running = await stack.start(frozenset({"worker"}))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        status = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
        assert status.status == health_pb2.HealthCheckResponse.SERVING
        error = await rpc_error(
            pb_grpc.RendererServiceStub(channel).GetRenderJob(
                pb.GetRenderJobRequest(name=f"{PARENT}/renderJobs/x"), timeout=10
            )
        )
        assert error.code() == grpc.StatusCode.UNIMPLEMENTED
