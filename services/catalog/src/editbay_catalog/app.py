"""Wiring: the catalog's ServiceUnit (gRPC servicer, outbox relay, render.succeeded consumer)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay.catalog.v1 import catalog_service_pb2_grpc as pb_grpc
from editbay_catalog import models
from editbay_catalog.final_video import QUEUE, RENDER_SUCCEEDED, FinalVideoConsumer
from editbay_catalog.ingest import Ingest
from editbay_catalog.servicer import CatalogServicer
from editbay_catalog.store import CatalogStore
from editbay_catalog.takes import TakeStore
from editbay_common.broker import Broker
from editbay_common.db import Database
from editbay_common.outbox import OutboxRelay
from editbay_common.runtime import Servicer, ServiceUnit
from editbay_common.settings import Settings
from editbay_common.storage import Storage

log = logging.getLogger(__name__)

SERVICE = "catalog"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CatalogService"].full_name
ALL_ROLES = frozenset({"api", "worker"})


async def build_unit(
    settings: Settings,
    *,
    broker: Broker,
    storage: Storage,
    roles: frozenset[str] = ALL_ROLES,
    schema: str | None = None,
) -> ServiceUnit:
    """The catalog as a unit: migrates its database, then serves.

    Roles: ``api`` serves the gRPC API and runs the outbox relay (the API writes the outbox);
    ``worker`` consumes ``render.succeeded``. ``schema`` overrides the PostgreSQL schema (tests).
    The broker and storage belong to the caller, who starts the broker before starting the unit
    and closes both after stopping it.
    """
    unknown = set(roles) - ALL_ROLES
    if unknown:
        raise ValueError(f"unknown catalog roles {sorted(unknown)}; use {sorted(ALL_ROLES)}")
    db = Database(settings.database_url_for(SERVICE), schema=schema or SERVICE)
    try:
        await db.migrate(MIGRATIONS_DIR)
    except BaseException:
        await db.dispose()
        raise
    unit = ServiceUnit(SERVICE, on_stop=[db.dispose])
    if "api" in roles:
        relay = OutboxRelay(db.sessions, models.outbox, broker)
        takes = TakeStore(db)
        ingest = Ingest(
            takes,
            storage,
            settings.scratch_dir(SERVICE),
            max_upload_bytes=settings.max_upload_bytes,
            on_commit=relay.wake,
        )
        servicer = CatalogServicer(CatalogStore(db), takes, ingest)
        unit.servicers.append(
            Servicer(pb_grpc.add_CatalogServiceServicer_to_server, servicer, SERVICE_NAME)
        )
        unit.tasks.append(relay.run)
    if "worker" in roles:
        consumer = FinalVideoConsumer(db)

        async def consume_render_succeeded() -> None:
            subscription = await broker.subscribe(QUEUE, [RENDER_SUCCEEDED], consumer.handle)
            try:
                await asyncio.Event().wait()  # until cancelled at shutdown
            finally:
                await subscription.cancel()

        unit.tasks.append(consume_render_succeeded)
    return unit
