"""receive_chunks: limits, hashing, and no partial files left behind."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from editbay_common.uploads import UploadTooLarge, receive_chunks


async def _chunks(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


def _files(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_within_the_limit_writes_the_file_with_its_sha256(tmp_path: Path) -> None:
    parts = [b"a" * 1000, b"", bytes(range(256)), b"z" * 4096]
    data = b"".join(parts)
    received = await receive_chunks(_chunks(parts), tmp_path / "in", max_bytes=len(data))
    assert received.size_bytes == len(data)
    assert received.sha256 == hashlib.sha256(data).hexdigest()
    assert received.path.parent == tmp_path / "in"
    assert received.path.read_bytes() == data
    assert _files(tmp_path / "in") == [received.path]


async def test_over_the_limit_raises_and_leaves_no_file(tmp_path: Path) -> None:
    parts = [b"x" * 600, b"x" * 600, b"x" * 600]
    with pytest.raises(UploadTooLarge) as raised:
        await receive_chunks(_chunks(parts), tmp_path, max_bytes=1000)
    assert (raised.value.limit, raised.value.received) == (1000, 1200)
    assert "1000" in str(raised.value) and "1200" in str(raised.value)
    assert _files(tmp_path) == []


async def test_a_failing_stream_leaves_no_file(tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"first chunk"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await receive_chunks(broken(), tmp_path, max_bytes=10_000)
    assert _files(tmp_path) == []


async def test_cancellation_leaves_no_file(tmp_path: Path) -> None:
    first_written = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield b"first chunk"
        first_written.set()
        await asyncio.Event().wait()  # the client stops sending
        yield b"never"

    task = asyncio.create_task(receive_chunks(stalled(), tmp_path, max_bytes=10_000))
    await first_written.wait()
    assert len(_files(tmp_path)) == 1  # the partial file exists while receiving
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _files(tmp_path) == []


async def test_empty_upload_is_a_zero_byte_file(tmp_path: Path) -> None:
    received = await receive_chunks(_chunks([]), tmp_path, max_bytes=0)
    assert received.size_bytes == 0
    assert received.sha256 == hashlib.sha256(b"").hexdigest()
    assert received.path.read_bytes() == b""
