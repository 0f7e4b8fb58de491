"""Fixtures for the storage tests: the same suite runs on a local folder and on S3 (a moto
S3-compatible server on 127.0.0.1, port 0)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from editbay_common.ids import new_id
from editbay_common.storage import S3Storage, Storage, open_storage


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of an S3-compatible server, with dummy credentials in the environment."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.delenv("AWS_SESSION_TOKEN", raising=False)
        env.delenv("AWS_PROFILE", raising=False)
        yield f"http://{host}:{port}"
    server.stop()


async def make_s3_storage(endpoint: str, prefix: str = "media") -> S3Storage:
    bucket = f"t-{new_id()}"  # one bucket per test
    storage = open_storage(f"s3://{bucket}/{prefix}", endpoint_url=endpoint, region="us-east-1")
    assert isinstance(storage, S3Storage)
    await storage.ensure_bucket()
    return storage


@pytest.fixture(params=["local", "s3"])
async def storage(
    request: pytest.FixtureRequest, tmp_path: Path, s3_endpoint: str
) -> AsyncIterator[Storage]:
    if request.param == "local":
        backend: Storage = open_storage(str(tmp_path / "objects"))
    else:
        backend = await make_s3_storage(s3_endpoint)
    yield backend
    await backend.close()
