"""``editbay serve`` as a real process: it answers gRPC health, then exits 0 on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

STARTUP_S = 90.0


def editbay_executable() -> str:
    beside = Path(sys.executable).with_name("editbay")
    found = str(beside) if beside.exists() else shutil.which("editbay")
    if found is None:
        pytest.skip("the editbay console script is not installed")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDITBAY_")}
    env.update(
        EDITBAY_DATA_DIR=str(data_dir),
        EDITBAY_BROKER_URL="memory://",
        EDITBAY_GRACE_SECONDS="5",
        EDITBAY_LOG_LEVEL="INFO",
    )
    return env


async def start(args: list[str], data_dir: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        editbay_executable(),
        *args,
        env=service_env(data_dir),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_serving(port: int, service: str, process: asyncio.subprocess.Process) -> str:
    """Poll the health service until SERVING; fail if the process dies first."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        async with asyncio.timeout(STARTUP_S):
            while True:
                if process.returncode is not None:
                    stderr = await process.stderr.read() if process.stderr else b""
                    pytest.fail(f"editbay serve exited {process.returncode}: {stderr[-2000:]!r}")
                try:
                    reply = await stub.Check(
                        health_pb2.HealthCheckRequest(service=service), timeout=2
                    )
                    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(0.3)


async def stop(process: asyncio.subprocess.Process) -> tuple[int, bytes]:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(60):
        _, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stderr


async def test_serve_catalog_answers_health_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    process = await start(["serve", "catalog", "--port", str(port)], tmp_path)
    try:
        status = await wait_serving(port, "editbay.catalog.v1.CatalogService", process)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    assert status == "SERVING"
    code, stderr = await stop(process)
    assert code == 0, stderr[-2000:]
    assert (tmp_path / "catalog.db").exists()  # it ran its migrations on the embedded default


async def test_serve_gateway_reports_missing_backends_and_exits_0(tmp_path: Path) -> None:
    port = free_port()
    process = await start(["serve", "gateway", "--port", str(port)], tmp_path)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            async with asyncio.timeout(STARTUP_S):
                while True:
                    try:
                        response = await client.get("/healthz")
                        break
                    except httpx.TransportError:
                        assert process.returncode is None
                        await asyncio.sleep(0.3)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    assert response.status_code == 503  # nothing listens on the default service ports here
    code, _ = await stop(process)
    assert code == 0
