"""Wiring: the renderer's ServiceUnit for ``editbay serve renderer`` and the all-in-one mode.

Roles: ``api`` serves RendererService and runs the lease sweeper; ``worker`` consumes the
``render`` queue. Both run an outbox relay (the worker writes messages too). A worker-only
process serves no RendererService RPCs, only health.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import editbay_renderer
from editbay.planner.v1 import planner_service_pb2 as planner_pb
from editbay.renderer.v1 import renderer_service_pb2 as pb
from editbay.renderer.v1 import renderer_service_pb2_grpc as pb_grpc
from editbay_common.broker import Broker
from editbay_common.clients import open_channel
from editbay_common.db import Database
from editbay_common.media.render import PRESETS, Preset
from editbay_common.outbox import OutboxRelay
from editbay_common.runtime import Servicer, ServiceUnit
from editbay_common.settings import Settings
from editbay_common.storage import Storage
from editbay_renderer.messages import declare_queues
from editbay_renderer.models import outbox
from editbay_renderer.plans import GrpcPlanReader, PlanReader
from editbay_renderer.servicer import RendererServicer
from editbay_renderer.sweeper import run_sweeper
from editbay_renderer.worker import RenderWorker

SERVICE = "renderer"
MIGRATIONS_DIR = Path(editbay_renderer.__file__).parent / "migrations"
ROLES = frozenset({"api", "worker"})


async def build_unit(
    settings: Settings,
    *,
    broker: Broker,
    storage: Storage,
    roles: frozenset[str] = ROLES,
    schema: str | None = None,
    plans: PlanReader | None = None,
    presets: Mapping[str, Preset] | None = None,
) -> ServiceUnit:
    """The renderer unit. ``plans`` defaults to the planner at ``settings.planner_addr``;
    ``presets`` to the standard output presets (tests pass a small one)."""
    unknown = set(roles) - ROLES
    if unknown or not roles:
        raise ValueError(f"renderer roles must be a non-empty subset of {sorted(ROLES)}")
    presets = dict(presets if presets is not None else PRESETS)
    db = Database(settings.database_url_for(SERVICE), schema=schema or SERVICE)
    unit = ServiceUnit(SERVICE)
    unit.on_stop.append(db.dispose)
    await db.migrate(MIGRATIONS_DIR)

    relay = OutboxRelay(db.sessions, outbox, broker)

    async def run_relay() -> None:
        await declare_queues(broker)  # so the relay can route `render` and `render.dead`
        await relay.run()

    unit.tasks.append(run_relay)

    if "api" in roles:
        if plans is None:
            channel = open_channel(
                settings.planner_addr,
                [planner_pb.DESCRIPTOR.services_by_name["PlannerService"]],
                default_timeout_s=settings.rpc_timeout_seconds,
            )
            unit.on_stop.append(channel.close)
            plans = GrpcPlanReader(channel)
        servicer = RendererServicer(
            db,
            storage,
            plans,
            presets=presets,
            default_preset=settings.render_preset,
            max_attempts=settings.render_max_attempts,
            wake_relay=relay.wake,
        )
        unit.servicers.append(
            Servicer(
                pb_grpc.add_RendererServiceServicer_to_server,
                servicer,
                pb.DESCRIPTOR.services_by_name["RendererService"].full_name,
            )
        )
        interval = settings.render_lease_seconds / 2
        unit.tasks.append(lambda: run_sweeper(db, interval_s=interval, wake_relay=relay.wake))

    if "worker" in roles:
        worker = RenderWorker(
            db,
            broker,
            storage,
            presets=presets,
            scratch_root=settings.scratch_dir(SERVICE),
            lease_s=settings.render_lease_seconds,
            concurrency=settings.worker_concurrency,
            grace_s=settings.grace_seconds,
            wake_relay=relay.wake,
            chunk_s=settings.render_chunk_seconds,
            max_parts=settings.render_max_parts,
        )
        unit.tasks.append(worker.run)
    return unit
