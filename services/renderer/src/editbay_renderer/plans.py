"""What the renderer needs from the planner, behind a small interface.

The renderer only reads an edit plan: its state and, per scene, the chosen take's storage key
and in/out points. ``GrpcPlanReader`` reads it from the planner service; tests pass any object
with the same method returning plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import grpc

from editbay.planner.v1 import planner_service_pb2 as planner_pb
from editbay.planner.v1 import planner_service_pb2_grpc as planner_grpc
from editbay_common.errors import ServiceError

DOMAIN = "renderer.editbay.dev"


@dataclass(frozen=True)
class PlanChoice:
    """The take chosen for one scene and the part of it to use, in source seconds."""

    scene_number: int
    take_storage_key: str
    in_seconds: float
    out_seconds: float
    take: str = ""


@dataclass(frozen=True)
class PlanView:
    """An edit plan as the renderer sees it. ``state`` is the planner's enum name."""

    name: str
    state: str
    choices: tuple[PlanChoice, ...]


class PlanReader(Protocol):
    async def get_edit_plan(self, name: str) -> PlanView | None:
        """The plan called ``name``, or None if the planner does not know it."""


class GrpcPlanReader:
    """Reads plans from the planner service over gRPC (GetEditPlan is a retried read)."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = planner_grpc.PlannerServiceStub(channel)

    async def get_edit_plan(self, name: str) -> PlanView | None:
        try:
            plan = await self._stub.GetEditPlan(planner_pb.GetEditPlanRequest(name=name))
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                return None  # the planner cannot read the name: it has no such plan
            raise ServiceError(
                grpc.StatusCode.UNAVAILABLE,
                "PLANNER_UNAVAILABLE",
                f"could not read edit plan {name!r} from the planner: {error.code().name}",
                domain=DOMAIN,
                edit_plan=name,
            ) from error
        return plan_view(plan)


def plan_view(plan: planner_pb.EditPlan) -> PlanView:
    """Plain data from the planner's message."""
    return PlanView(
        name=plan.name,
        state=planner_pb.EditPlan.State.Name(plan.state),
        choices=tuple(
            PlanChoice(
                scene_number=c.scene_number,
                take_storage_key=c.take_storage_key,
                in_seconds=c.in_seconds,
                out_seconds=c.out_seconds,
                take=c.take,
            )
            for c in plan.choices
        ),
    )
