"""The gRPC face of the planner: validate requests, call ``PlanService``, build responses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from editbay.planner.v1 import planner_service_pb2 as pb
from editbay.planner.v1 import planner_service_pb2_grpc as pb_grpc
from editbay_common.errors import invalid_argument
from editbay_common.paging import page, parse_filter, parse_order_by
from editbay_planner.plans import PlanService
from editbay_planner.resources import DOMAIN, STATES, parse_episode, to_proto

DEFAULT_GENERATOR = pb.Generator.Name(pb.HEURISTIC)


class PlannerServicer(pb_grpc.PlannerServiceServicer):
    def __init__(self, plans: PlanService) -> None:
        self.plans = plans

    async def GenerateEditPlan(
        self, request: pb.GenerateEditPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.EditPlan:
        parse_episode(request.parent)
        plan = await self.plans.generate(
            request.parent, _generator(request.generator), request.request_id
        )
        return to_proto(plan)

    async def GetEditPlan(
        self, request: pb.GetEditPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.EditPlan:
        return to_proto(await self.plans.get(request.name))

    async def ListEditPlans(
        self, request: pb.ListEditPlansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListEditPlansResponse:
        parse_episode(request.parent)
        filters = parse_filter(request.filter, {"state"}, domain=DOMAIN)
        state = filters.get("state")
        if state is not None and state not in STATES:
            raise invalid_argument(
                "filter", f"state must be one of {', '.join(sorted(STATES))}", domain=DOMAIN
            )
        _, descending = parse_order_by(request.order_by, {"version"}, "version desc", domain=DOMAIN)
        window = page(
            request.page_size,
            request.page_token,
            request.parent,
            state or "",
            "desc" if descending else "asc",
            domain=DOMAIN,
        )
        rows, has_more = await self.plans.list(
            request.parent,
            offset=window.offset,
            limit=window.size,
            state=state,
            descending=descending,
        )
        return pb.ListEditPlansResponse(
            edit_plans=[to_proto(row) for row in rows],
            next_page_token=window.next_token(len(rows), has_more),
        )

    async def ApproveEditPlan(
        self, request: pb.ApproveEditPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.EditPlan:
        plan = await self.plans.approve(request.name, request.etag, request.request_id)
        return to_proto(plan)

    async def RejectEditPlan(
        self, request: pb.RejectEditPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.EditPlan:
        plan = await self.plans.reject(
            request.name, request.feedback, request.etag, request.request_id
        )
        return to_proto(plan)

    async def WatchEditPlan(
        self, request: pb.WatchEditPlanRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.EditPlan]:
        async for plan in self.plans.watch(request.name):
            yield to_proto(plan)


def _generator(value: int) -> str:
    if value == pb.GENERATOR_UNSPECIFIED:
        return DEFAULT_GENERATOR
    if value not in pb.Generator.values():
        raise invalid_argument("generator", f"unknown generator {value}", domain=DOMAIN)
    return pb.Generator.Name(value)
