"""One way to run services: a gRPC server with health, reflection, error mapping and graceful
shutdown on SIGTERM, plus the service's background tasks (consumers, workers, outbox relays).

Each service builds a ``ServiceUnit``. ``editbay serve <service>`` runs one unit on its own port;
the all-in-one mode runs every unit in one process on one server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from editbay_common.errors import ErrorInterceptor

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 8 * 1024 * 1024


@dataclass
class Servicer:
    """A servicer and the generated function that registers it."""

    add_to_server: Callable[[Any, grpc.aio.Server], None]
    implementation: Any
    service_name: str  # full name, e.g. "editbay.catalog.v1.CatalogService"


@dataclass
class ServiceUnit:
    """What one service contributes to a running process."""

    name: str
    servicers: list[Servicer] = field(default_factory=list)
    # Long-running coroutines: consumers, workers, relays. One that ends with an error stops
    # the process (non-zero exit) rather than leaving a service that silently does nothing.
    tasks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Called once on shutdown, after the tasks ended, in reverse order of registration.
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


class UnitTaskFailed(RuntimeError):
    """A background task of a unit ended with an error."""


@dataclass
class RunningServer:
    """Handle on a started server, for tests and the all-in-one mode."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    tasks: list[asyncio.Task[None]]
    units: Sequence[ServiceUnit]
    grace_s: float

    async def stop(self) -> None:
        await stop_server(self)


async def start_server(
    units: Sequence[ServiceUnit], *, host: str = "127.0.0.1", port: int = 0, grace_s: float = 20.0
) -> RunningServer:
    """Start the gRPC server and the units' background tasks; return at once."""
    server = grpc.aio.server(
        interceptors=[ErrorInterceptor()],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME]
    for unit in units:
        for servicer in unit.servicers:
            servicer.add_to_server(servicer.implementation, server)
            names.append(servicer.service_name)
    reflection.enable_server_reflection(names, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind gRPC server to {host}:{port}")
    await server.start()
    for name in names:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    tasks = [
        asyncio.create_task(_guard(unit.name, factory), name=f"{unit.name}-task-{i}")
        for unit in units
        for i, factory in enumerate(unit.tasks)
    ]
    log.info("serving", extra={"port": bound, "units": [u.name for u in units]})
    return RunningServer(server, bound, health_servicer, tasks, units, grace_s)


async def _guard(unit: str, factory: Callable[[], Awaitable[None]]) -> None:
    try:
        await factory()
    except asyncio.CancelledError:
        raise
    except Exception as error:
        log.exception("background task of %s failed", unit)
        raise UnitTaskFailed(f"{unit}: {error}") from error


async def stop_server(running: RunningServer) -> None:
    """Graceful shutdown: NOT_SERVING, stop accepting RPCs, end tasks, release resources."""
    await running.health.enter_graceful_shutdown()
    # Both within one grace period (an orchestrator kills the process after its own): workers
    # stop consuming, finish or release their job and kill FFmpeg, while the server stops
    # accepting RPCs and lets the ones in flight finish.
    for task in running.tasks:
        task.cancel()
    waits: list[Awaitable[Any]] = [running.server.stop(running.grace_s)]
    if running.tasks:
        waits.append(asyncio.wait(running.tasks, timeout=running.grace_s))
    await asyncio.gather(*waits)
    for unit in reversed(running.units):
        for hook in reversed(unit.on_stop):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook of %s failed", unit.name)


async def serve_until_signal(
    units: Sequence[ServiceUnit],
    *,
    host: str,
    port: int,
    grace_s: float,
    on_ready: Callable[[RunningServer], Awaitable[None] | None] | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run until SIGTERM/SIGINT (or ``stop`` is set); return a process exit code.

    Returns 1 when a background task failed, so an orchestrator restarts the process.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    running = await start_server(units, host=host, port=port, grace_s=grace_s)
    if on_ready is not None:
        maybe = on_ready(running)
        if maybe is not None:
            await maybe
    stop_wait = asyncio.create_task(stop.wait())
    waiting: set[asyncio.Future[Any]] = {stop_wait, *running.tasks}
    exit_code = 0
    while True:
        done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if stop_wait in done:
            break
        failed = [t for t in done if t.exception() is not None]
        if failed:
            exit_code = 1
            break
        if waiting == {stop_wait}:  # every task ended cleanly; keep serving RPCs
            continue
    stop_wait.cancel()
    log.info("shutting down", extra={"grace_s": grace_s, "exit_code": exit_code})
    await stop_server(running)
    return exit_code
