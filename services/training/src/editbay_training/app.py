"""Wiring of the training service: database, servicer, worker and outbox relay."""

from __future__ import annotations

from pathlib import Path

import editbay_training
from editbay.training.v1 import training_service_pb2 as pb
from editbay.training.v1 import training_service_pb2_grpc as pb_grpc
from editbay_common.broker import Broker
from editbay_common.db import Database
from editbay_common.media.limits import DEFAULT_LIMITS
from editbay_common.outbox import OutboxRelay
from editbay_common.runtime import Servicer, ServiceUnit
from editbay_common.settings import Settings
from editbay_common.storage import Storage
from editbay_training.models import outbox
from editbay_training.servicer import TrainingServicer
from editbay_training.shows import GrpcShowReader, ShowReader
from editbay_training.worker import TrainingWorker

MIGRATIONS = Path(editbay_training.__file__).parent / "migrations"
ALL_ROLES = frozenset({"api", "worker"})


async def build_unit(
    settings: Settings,
    *,
    broker: Broker,
    storage: Storage,
    roles: frozenset[str] = ALL_ROLES,
    schema: str | None = None,
    shows: ShowReader | None = None,
) -> ServiceUnit:
    """The training service as a unit: ``api`` serves RPCs, ``worker`` analyses videos."""
    db = Database(settings.database_url_for("training"), schema=schema or "training")
    await db.migrate(MIGRATIONS)
    scratch = settings.scratch_dir("training")
    relay = OutboxRelay(db.sessions, outbox, broker)
    unit = ServiceUnit("training", tasks=[relay.run], on_stop=[db.dispose])
    if "worker" in roles:
        await broker.declare_work_queue("training", max_deliveries=3)
        unit.tasks.append(TrainingWorker(db, storage, broker, scratch).run)
    if "api" in roles:
        if shows is None:
            reader = GrpcShowReader(settings.catalog_addr, settings.rpc_timeout_seconds)
            unit.on_stop.append(reader.close)
            shows = reader
        servicer = TrainingServicer(
            db,
            storage,
            shows,
            scratch=scratch,
            max_upload_bytes=settings.max_upload_bytes,
            limits=DEFAULT_LIMITS,
            on_queued=relay.wake,
        )
        name = pb.DESCRIPTOR.services_by_name["TrainingService"].full_name
        unit.servicers.append(
            Servicer(pb_grpc.add_TrainingServiceServicer_to_server, servicer, name)
        )
    return unit
