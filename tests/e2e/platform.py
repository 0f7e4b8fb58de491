"""Starting editbay as separate processes on real PostgreSQL, RabbitMQ and an S3-compatible
server, for the cross-service tests. Each run gets its own database, RabbitMQ virtual host and
bucket, so runs never see each other's data or messages."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", PG_ADMIN_DSN, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True,
        capture_output=True,
    )


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Platform:
    """Every service as its own process. ``env`` is what each process got."""

    workdir: Path
    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def amqp_url(self) -> str:
        return self.env["EDITBAY_BROKER_URL"]

    def start(
        self, key: str, service: str, *, role: str = "all", port: int | None = None
    ) -> Process:
        port = port if port is not None else free_port()
        self.ports[key] = port
        log = self.workdir / f"{key}.log"
        env = dict(self.env)
        if service == "gateway":
            env["EDITBAY_HTTP_PORT"] = str(port)
        args = [sys.executable, "-m", "editbay_cli.main", "serve", service, "--port", str(port)]
        if service != "gateway":
            args += ["--role", role]
        with log.open("ab") as out:
            popen = subprocess.Popen(
                args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        process = Process(key, popen, log)
        self.processes[key] = process
        return process

    def wait_ready(self, key: str, timeout_s: float = 60.0) -> None:
        process, port = self.processes[key], self.ports[key]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise RuntimeError(
                    f"{key} exited with {process.popen.returncode}:\n{process.log_tail()}"
                )
            if _healthy(key, port):
                return
            time.sleep(0.2)
        raise TimeoutError(f"{key} not ready after {timeout_s}s:\n{process.log_tail()}")

    def stop_all(self, grace_s: float = 20.0) -> None:
        for process in self.processes.values():
            process.kill(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for process in self.processes.values():
            try:
                process.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill(signal.SIGKILL)
                process.popen.wait()


def _healthy(key: str, port: int) -> bool:
    if key == "gateway":
        import httpx

        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
            return reply.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


@dataclass
class Infrastructure:
    database: str
    vhost: str
    bucket: str
    s3_endpoint: str

    def env(self, workdir: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDITBAY_")}
        # Scratch files of the services (a render's intermediate files) stay in the test's own
        # folder: a worker the tests kill with SIGKILL cannot remove its own.
        scratch = workdir / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        env.update(
            TMPDIR=str(scratch),
            EDITBAY_DATA_DIR=str(workdir / "data"),
            EDITBAY_DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.database}",
            EDITBAY_BROKER_URL=f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}",
            EDITBAY_STORAGE_URL=f"s3://{self.bucket}",
            EDITBAY_S3_ENDPOINT_URL=self.s3_endpoint,
            AWS_ACCESS_KEY_ID="editbay-test",
            AWS_SECRET_ACCESS_KEY="editbay-test",
            AWS_DEFAULT_REGION="us-east-1",
            EDITBAY_RENDER_LEASE_SECONDS="3",
            EDITBAY_GRACE_SECONDS="5",
            EDITBAY_LOG_LEVEL="INFO",
        )
        return env


def create_infrastructure(s3_endpoint: str) -> Infrastructure:
    suffix = uuid.uuid4().hex[:10]
    infra = Infrastructure(
        f"editbay_e2e_{suffix}", f"editbay-e2e-{suffix}", f"editbay-e2e-{suffix}", s3_endpoint
    )
    psql(f"CREATE DATABASE {infra.database}")
    rabbitmqctl("add_vhost", infra.vhost)
    rabbitmqctl("set_permissions", "-p", infra.vhost, "guest", ".*", ".*", ".*")
    return infra


def drop_infrastructure(infra: Infrastructure) -> None:
    psql(f"DROP DATABASE IF EXISTS {infra.database} WITH (FORCE)")
    rabbitmqctl("delete_vhost", infra.vhost)
