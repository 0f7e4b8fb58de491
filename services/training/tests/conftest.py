"""Fixtures for the training service tests: a running unit over a real gRPC socket."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from editbay.training.v1 import training_service_pb2_grpc as pb_grpc
from editbay_common.broker import Broker, open_broker
from editbay_common.errors import not_found
from editbay_common.media.synth import synth_shots
from editbay_common.runtime import RunningServer, start_server
from editbay_common.settings import Settings
from editbay_common.storage import Storage, open_storage
from editbay_training.app import build_unit

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
SHOT_LENGTHS = [1.5, 2.0, 1.0, 2.5]  # cuts at 1.5, 3.5 and 4.5 s


class KnownShows:
    """The catalog's answer for a fixed set of shows (the real catalog is used end to end)."""

    def __init__(self, shows: set[str]) -> None:
        self.shows = shows

    async def require_show(self, show: str) -> None:
        if show not in self.shows:
            raise not_found("show", f"shows/{show}", domain="training.editbay.dev")


@dataclass
class Training:
    stub: pb_grpc.TrainingServiceStub
    storage: Storage
    broker: Broker
    data_dir: Path
    running: RunningServer


@pytest.fixture(scope="session")
def reference_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("refs") / "reference.mp4"
    asyncio.run(synth_shots(path, SHOT_LENGTHS, size=(160, 90)))
    return path


async def start_training(
    tmp_path: Path,
    *,
    database_url: str = "",
    broker_url: str = "memory://",
    schema: str | None = None,
) -> Training:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, broker_url=broker_url
    )
    broker = open_broker(broker_url)
    await broker.start()
    storage = open_storage(str(tmp_path / "media"))
    unit = await build_unit(
        settings, broker=broker, storage=storage, schema=schema, shows=KnownShows({"kitchen"})
    )
    running = await start_server([unit], port=0)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    return Training(
        pb_grpc.TrainingServiceStub(channel), storage, broker, settings.data_dir, running
    )


async def stop_training(training: Training) -> None:
    await training.running.stop()
    await training.broker.close()


@pytest.fixture
async def training(tmp_path: Path):
    service = await start_training(tmp_path)
    yield service
    await stop_training(service)


@pytest.fixture
def pg_schema():
    schema = f"training_test_{uuid.uuid4().hex[:8]}"
    yield schema
    drop = f"DROP SCHEMA IF EXISTS {schema} CASCADE"
    subprocess.run(["psql", PG_URL.replace("+asyncpg", ""), "-q", "-c", drop], check=False)
