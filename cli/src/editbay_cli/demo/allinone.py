"""The all-in-one mode: every service's unit in ONE gRPC server on a loopback port, one
in-process broker shared by all of them, SQLite files and a local media folder under the data
dir, and the gateway served by uvicorn in the same event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from editbay_cli.serve import storage_for
from editbay_cli.units import build_units
from editbay_common.broker.memory import InProcessBroker
from editbay_common.runtime import RunningServer, ServiceUnit, start_server
from editbay_common.settings import SERVICES, Settings
from editbay_gateway.app import create_app
from editbay_gateway.serving import RunningHttp, start_http

log = logging.getLogger(__name__)

REQUIRED = ("catalog", "planner", "renderer")  # training is optional: the demo skips its step
T = TypeVar("T")


class UnitFailed(RuntimeError):
    """A background task of a service ended with an error while the demo ran."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now. The services must know their peers' address before the server
    starts (they open their client channels while being built), hence a port chosen up front."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def demo_settings(data_dir: Path, grpc_port: int) -> Settings:
    """Embedded defaults, whatever EDITBAY_* variables say: this mode needs no servers."""
    address = f"127.0.0.1:{grpc_port}"
    return Settings(
        data_dir=data_dir.resolve(),
        database_url="",
        broker_url="memory://",
        storage_url="",
        s3_endpoint_url="",
        grpc_host="127.0.0.1",
        grpc_port=grpc_port,
        http_host="127.0.0.1",
        http_port=0,
        catalog_addr=address,
        planner_addr=address,
        renderer_addr=address,
        training_addr=address,
        grace_seconds=5.0,
    )


@dataclass
class AllInOne:
    settings: Settings
    server: RunningServer
    http: RunningHttp
    units: list[ServiceUnit]

    @property
    def base_url(self) -> str:
        return self.http.base_url

    @property
    def services(self) -> list[str]:
        return [unit.name for unit in self.units]

    async def guard(self, work: Awaitable[T]) -> T:
        """Await ``work``, failing fast if a service's background task dies meanwhile."""
        job = asyncio.ensure_future(work)
        tasks = set(self.server.tasks)
        while True:
            done, _ = await asyncio.wait({job, *tasks}, return_when=asyncio.FIRST_COMPLETED)
            if job in done:
                return job.result()
            for task in done:
                tasks.discard(task)
                if not task.cancelled() and task.exception() is not None:
                    job.cancel()
                    with contextlib.suppress(BaseException):
                        await job
                    raise UnitFailed(f"{task.get_name()}: {task.exception()}")


@contextlib.asynccontextmanager
async def all_in_one(data_dir: Path) -> AsyncIterator[AllInOne]:
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    port = free_port()
    settings = demo_settings(data_dir, port)
    broker = InProcessBroker(f"all-in-one-{uuid.uuid4().hex[:8]}")
    await broker.start()
    storage = storage_for(settings)
    units: list[ServiceUnit] = []
    server: RunningServer | None = None
    http: RunningHttp | None = None
    try:
        units = await build_units(
            settings, SERVICES, broker=broker, storage=storage, required=REQUIRED
        )
        server = await start_server(units, host="127.0.0.1", port=port, grace_s=5.0)
        http = await start_http(create_app(settings))
        yield AllInOne(settings, server, http, units)
    finally:
        if http is not None:
            await http.stop()
        if server is not None:
            await server.stop()  # ends the tasks and runs the units' on_stop hooks
        else:
            await _run_stop_hooks(units)
        await storage.close()
        await broker.close()


async def _run_stop_hooks(units: list[ServiceUnit]) -> None:
    for unit in reversed(units):
        for hook in reversed(unit.on_stop):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook of %s failed", unit.name)
