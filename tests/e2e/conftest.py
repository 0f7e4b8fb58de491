"""Fixtures for the cross-service tests: an S3-compatible server, sample footage, and the
platform started as separate processes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from .footage import Take, make_takes
from .platform import Platform, create_infrastructure, drop_infrastructure, free_port


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def takes(tmp_path_factory: pytest.TempPathFactory) -> list[Take]:
    folder = tmp_path_factory.mktemp("footage")
    return asyncio.run(make_takes(folder))


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[Platform]:
    workdir = tmp_path_factory.mktemp("platform")
    infra = create_infrastructure(s3_endpoint)
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="editbay-test",
        aws_secret_access_key="editbay-test",
    ).create_bucket(Bucket=infra.bucket)
    platform = Platform(workdir, infra.env(workdir))
    ports = {key: free_port() for key in ("catalog", "planner", "renderer", "training")}
    for key, port in ports.items():
        platform.env[f"EDITBAY_{key.upper()}_ADDR"] = f"127.0.0.1:{port}"
    try:
        for key, port in ports.items():
            role = "api" if key == "renderer" else "all"
            platform.start(key, key, role=role, port=port)
        platform.start("worker-a", "renderer", role="worker")
        platform.start("gateway", "gateway")
        for key in list(platform.processes):
            platform.wait_ready(key)
        yield platform
    finally:
        platform.stop_all()
        drop_infrastructure(infra)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
