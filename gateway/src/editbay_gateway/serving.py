"""Run the gateway with uvicorn inside the caller's event loop (tests, the all-in-one mode)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the process that embeds it."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


@dataclass
class RunningHttp:
    server: uvicorn.Server
    task: asyncio.Task[None]
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def start_http(
    app: FastAPI,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    own_logging: bool = True,
) -> RunningHttp:
    """Serve ``app`` on ``host:port`` (0 picks a free port); return once it accepts requests.

    ``own_logging=False`` leaves the process's logging configuration (JSON logs) untouched."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    extra = {} if own_logging else {"log_config": None}
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", access_log=False, **extra)
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="gateway-http")
    while not server.started:
        if task.done():
            task.result()  # raises the startup error
            raise RuntimeError("the HTTP server stopped during startup")
        await asyncio.sleep(0.02)
    return RunningHttp(server, task, host, sock.getsockname()[1])
