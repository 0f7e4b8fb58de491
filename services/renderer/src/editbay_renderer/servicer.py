"""The RendererService gRPC API: validate, call the job functions, answer with protos."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import grpc
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from editbay.renderer.v1 import renderer_service_pb2 as pb
from editbay.renderer.v1 import renderer_service_pb2_grpc as pb_grpc
from editbay_common.db import Database
from editbay_common.errors import (
    ServiceError,
    failed_precondition,
    invalid_argument,
    not_found,
)
from editbay_common.media.render import Preset
from editbay_common.names import parse
from editbay_common.paging import page, parse_filter, parse_order_by
from editbay_common.storage import Storage
from editbay_renderer import jobs
from editbay_renderer.convert import job_to_proto
from editbay_renderer.models import RenderJobRow
from editbay_renderer.plans import PlanReader, PlanView

DOMAIN = jobs.DOMAIN
EPISODE_PATTERN = "shows/{show}/episodes/{episode}"
JOB_PATTERN = EPISODE_PATTERN + "/renderJobs/{render_job}"
PLAN_PATTERN = EPISODE_PATTERN + "/editPlans/{edit_plan}"
MAX_REQUEST_ID = 100
WATCH_POLL_S = 0.2


class RendererServicer(pb_grpc.RendererServiceServicer):
    def __init__(
        self,
        db: Database,
        storage: Storage,
        plans: PlanReader,
        *,
        presets: Mapping[str, Preset],
        default_preset: str,
        max_attempts: int,
        wake_relay: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._storage = storage
        self._plans = plans
        self._presets = presets
        self._default_preset = default_preset
        self._max_attempts = max_attempts
        self._wake_relay = wake_relay

    # ---- create -------------------------------------------------------------------------------

    async def CreateRenderJob(
        self, request: pb.CreateRenderJobRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenderJob:
        parent = request.parent
        parse(parent, EPISODE_PATTERN, field="parent", domain=DOMAIN)
        if not request.HasField("render_job"):
            raise invalid_argument("render_job", "is required", domain=DOMAIN)
        plan_name = request.render_job.edit_plan
        parse(plan_name, PLAN_PATTERN, field="render_job.edit_plan", domain=DOMAIN)
        if not plan_name.startswith(parent + "/"):
            raise invalid_argument(
                "render_job.edit_plan", f"{plan_name!r} is not under {parent!r}", domain=DOMAIN
            )
        preset = request.render_job.preset or self._default_preset
        if preset not in self._presets:
            raise invalid_argument(
                "render_job.preset",
                f"unknown preset {preset!r}; known presets: {', '.join(self._presets)}",
                domain=DOMAIN,
                reason="UNKNOWN_PRESET",
                presets=",".join(self._presets),
            )
        request_id = request.request_id
        if len(request_id) > MAX_REQUEST_ID:
            raise invalid_argument(
                "request_id", f"at most {MAX_REQUEST_ID} characters", domain=DOMAIN
            )
        if request_id:
            existing = await self._by_request_id(parent, request_id)
            if existing is not None:
                return await self._proto(_same_plan(existing, plan_name))
        plan = await self._plans.get_edit_plan(plan_name)
        segments = plan_segments(plan, plan_name)

        async def insert(session: AsyncSession) -> RenderJobRow:
            return await jobs.create_job(
                session,
                parent=parent,
                edit_plan=plan_name,
                preset=preset,
                segments=segments,
                max_attempts=self._max_attempts,
                request_id=request_id or None,
            )

        try:
            row = await self._db.run_in_transaction(insert)
        except IntegrityError:
            # A concurrent repeat with the same request id won the race: return its job.
            row = await self._by_request_id(parent, request_id) if request_id else None
            if row is None:
                raise
            _same_plan(row, plan_name)
        else:
            self._wake_relay()
        return await self._proto(row)

    async def _by_request_id(self, parent: str, request_id: str) -> RenderJobRow | None:
        async with self._db.transaction() as session:
            return await jobs.find_by_request_id(session, parent, request_id)

    # ---- read ---------------------------------------------------------------------------------

    async def GetRenderJob(
        self, request: pb.GetRenderJobRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenderJob:
        return await self._proto(await self._get(request.name))

    async def ListRenderJobs(
        self, request: pb.ListRenderJobsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRenderJobsResponse:
        parse(request.parent, EPISODE_PATTERN, field="parent", domain=DOMAIN)
        filters = parse_filter(request.filter, {"state", "edit_plan"}, domain=DOMAIN)
        state = filters.get("state")
        if state is not None and state not in jobs.State.__members__:
            raise invalid_argument(
                "filter",
                f"state must be one of {', '.join(jobs.State.__members__)}",
                domain=DOMAIN,
            )
        _, descending = parse_order_by(
            request.order_by, {"create_time"}, "create_time desc", domain=DOMAIN
        )
        window = page(
            request.page_size,
            request.page_token,
            request.parent,
            request.filter,
            request.order_by,
            domain=DOMAIN,
        )
        query = select(RenderJobRow).where(RenderJobRow.parent == request.parent)
        if state is not None:
            query = query.where(RenderJobRow.state == state)
        if "edit_plan" in filters:
            query = query.where(RenderJobRow.edit_plan == filters["edit_plan"])
        # Ids are time-ordered, so they break create_time ties in the same direction.
        order = (
            (RenderJobRow.create_time.desc(), RenderJobRow.id.desc())
            if descending
            else (RenderJobRow.create_time, RenderJobRow.id)
        )
        query = query.order_by(*order).offset(window.offset).limit(window.size + 1)
        async with self._db.transaction() as session:
            rows = list((await session.execute(query)).scalars())
        has_more = len(rows) > window.size
        rows = rows[: window.size]
        return pb.ListRenderJobsResponse(
            render_jobs=[await self._proto(row) for row in rows],
            next_page_token=window.next_token(len(rows), has_more),
        )

    async def WatchRenderJob(
        self, request: pb.WatchRenderJobRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.RenderJob]:
        row = await self._get(request.name)
        last: tuple[Any, ...] | None = None
        while True:
            seen = (row.state, row.progress_percent, row.attempt_count, row.update_time)
            if seen != last:
                last = seen
                yield await self._proto(row)
            if row.state in jobs.FINISHED:
                return
            await asyncio.sleep(WATCH_POLL_S)
            row = await self._get(request.name)

    # ---- cancel -------------------------------------------------------------------------------

    async def CancelRenderJob(
        self, request: pb.CancelRenderJobRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenderJob:
        job_id = self._job_id(request.name)
        row = await self._db.run_in_transaction(lambda s: jobs.cancel_job(s, job_id))
        if row is None or jobs.job_name(row.parent, row.id) != request.name:
            raise not_found("render_job", request.name, domain=DOMAIN)
        return await self._proto(row)

    # ---- helpers ------------------------------------------------------------------------------

    def _job_id(self, name: str) -> str:
        return parse(name, JOB_PATTERN, field="name", domain=DOMAIN)["render_job"]

    async def _get(self, name: str) -> RenderJobRow:
        job_id = self._job_id(name)
        async with self._db.transaction() as session:
            row = await session.get(RenderJobRow, job_id)
        # The id alone finds the row; the rest of the name must match too.
        if row is None or jobs.job_name(row.parent, row.id) != name:
            raise not_found("render_job", name, domain=DOMAIN)
        return row

    async def _proto(self, row: RenderJobRow) -> pb.RenderJob:
        uri = None
        if row.output_key:
            try:
                uri = await self._storage.url(row.output_key)  # fresh if presigned
            except Exception:
                uri = None  # the stored one will do
        return job_to_proto(row, output_uri=uri)


def _same_plan(row: RenderJobRow, plan_name: str) -> RenderJobRow:
    """The job a request id already made, if it renders the same plan: a request id reused for
    another plan is a new request, and answering with the first job would render the wrong one."""
    if row.edit_plan != plan_name:
        raise invalid_argument(
            "request_id",
            f"was already used to render {row.edit_plan!r}; use a new id for a new request",
            domain=DOMAIN,
            reason="REQUEST_ID_REUSED",
        )
    return row


def plan_segments(plan: PlanView | None, plan_name: str) -> list[dict[str, Any]]:
    """The segments to render, in scene order, from an approved plan; errors name the reason."""
    if plan is None:
        raise ServiceError(
            grpc.StatusCode.NOT_FOUND,
            "EDIT_PLAN_NOT_FOUND",
            f"edit plan {plan_name!r} not found",
            domain=DOMAIN,
            edit_plan=plan_name,
        )
    if plan.state != "APPROVED":
        raise failed_precondition(
            "PLAN_NOT_APPROVED",
            f"edit plan {plan_name!r} is {plan.state}; only an APPROVED plan can be rendered",
            domain=DOMAIN,
            edit_plan=plan_name,
            state=plan.state,
        )
    if not plan.choices:
        raise failed_precondition(
            "PLAN_EMPTY", f"edit plan {plan_name!r} has no scenes", domain=DOMAIN
        )
    segments = []
    for choice in sorted(plan.choices, key=lambda c: c.scene_number):
        if not choice.take_storage_key or choice.out_seconds <= choice.in_seconds:
            raise failed_precondition(
                "PLAN_INVALID",
                f"edit plan {plan_name!r}: scene {choice.scene_number} has no take or an empty "
                f"range [{choice.in_seconds}, {choice.out_seconds})",
                domain=DOMAIN,
                scene_number=choice.scene_number,
            )
        segments.append(
            {
                "scene_number": choice.scene_number,
                "take": choice.take,
                "storage_key": choice.take_storage_key,
                "in_s": choice.in_seconds,
                "out_s": choice.out_seconds,
            }
        )
    return segments
