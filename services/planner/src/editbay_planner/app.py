"""Builds the planner's ``ServiceUnit``: database and migrations, catalog client, servicer,
outbox relay, and the check for plans abandoned by a process that died.

Roles: ``api`` serves ``PlannerService`` (generation runs in background tasks of the process
that accepted the request); the outbox relay and the abandoned-plan check run in every role,
so a process never leaves its own outbox unsent.
"""

from __future__ import annotations

from pathlib import Path

from editbay.planner.v1 import planner_service_pb2 as pb
from editbay.planner.v1 import planner_service_pb2_grpc as pb_grpc
from editbay_common.broker import Broker
from editbay_common.db import Database
from editbay_common.outbox import OutboxRelay
from editbay_common.runtime import Servicer, ServiceUnit
from editbay_common.settings import Settings
from editbay_common.storage import Storage
from editbay_planner.catalog import CatalogReader, GrpcCatalogReader
from editbay_planner.generator import Generator, HeuristicGenerator
from editbay_planner.models import outbox
from editbay_planner.plans import PlanService
from editbay_planner.servicer import PlannerServicer

SERVICE = "planner"
MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["PlannerService"].full_name


async def build_unit(
    settings: Settings,
    *,
    broker: Broker,
    storage: Storage,
    roles: frozenset[str] = frozenset({"api", "worker"}),
    schema: str | None = None,
    catalog: CatalogReader | None = None,
) -> ServiceUnit:
    """The planner unit. ``catalog`` replaces the gRPC catalog client (tests pass plain data);
    ``schema`` replaces the PostgreSQL schema ``planner`` (tests use a unique one). The broker and
    storage are the caller's: the unit never closes them. (Storage is unused for now: plans carry
    storage keys only.)"""
    del storage
    db = Database(settings.database_url_for(SERVICE), schema=schema or SERVICE)
    unit = ServiceUnit(name=SERVICE)
    unit.on_stop.append(db.dispose)  # on_stop runs in reverse: this one last
    await db.migrate(MIGRATIONS)
    if catalog is None:
        catalog = GrpcCatalogReader.connect(
            settings.catalog_addr, timeout_s=settings.rpc_timeout_seconds
        )
        unit.on_stop.append(catalog.close)
    relay = OutboxRelay(db.sessions, outbox, broker)
    generators: dict[str, Generator] = {pb.Generator.Name(pb.HEURISTIC): HeuristicGenerator()}
    plans = PlanService(db, catalog, generators, on_outbox=relay.wake)
    unit.on_stop.append(plans.stop)
    await plans.fail_abandoned()
    if "api" in roles:
        unit.servicers.append(
            Servicer(
                pb_grpc.add_PlannerServiceServicer_to_server, PlannerServicer(plans), SERVICE_NAME
            )
        )
    unit.tasks.append(relay.run)
    unit.tasks.append(plans.reap_forever)
    return unit
