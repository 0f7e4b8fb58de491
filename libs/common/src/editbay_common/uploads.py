"""Receiving an upload that arrives in chunks (a gRPC client stream, an HTTP request body).

``receive_chunks`` writes the chunks to a new file in ``dest_dir``, counting bytes and hashing
as it goes, and stops as soon as the size limit is passed: a client can not fill the disk by
sending more than it declared. On any failure (limit, a broken stream, cancellation, a full
disk) the partial file is removed before the error propagates.

    received = await receive_chunks(chunks(request_iterator), scratch, max_bytes=limits.take)
    await storage.put_file(key, received.path)
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO


class UploadTooLarge(Exception):
    """The upload went past its size limit."""

    def __init__(self, limit: int, received: int) -> None:
        super().__init__(f"upload exceeds the limit of {limit} bytes (received {received} bytes)")
        self.limit = limit
        self.received = received


@dataclass(frozen=True)
class ReceivedUpload:
    path: Path
    size_bytes: int
    sha256: str


async def receive_chunks(
    chunks: AsyncIterable[bytes],
    dest_dir: Path,
    *,
    max_bytes: int,
    suffix: str = ".part",
) -> ReceivedUpload:
    """Write ``chunks`` to a new file in ``dest_dir``; raise ``UploadTooLarge`` past
    ``max_bytes`` (``received`` counts the bytes up to and including the chunk that passed it).
    Empty chunks are skipped. The caller owns, and eventually removes or moves, the file."""
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")
    dest_dir = Path(dest_dir)
    path = await asyncio.to_thread(_new_file, dest_dir, suffix)
    digest = hashlib.sha256()
    received = 0
    try:
        with path.open("wb") as out:
            async for chunk in chunks:
                if not chunk:
                    continue
                received += len(chunk)
                if received > max_bytes:
                    raise UploadTooLarge(max_bytes, received)
                # Hashing and writing a chunk (typically 64 KiB to 1 MiB) off the event loop.
                await asyncio.to_thread(_write_chunk, out, digest, bytes(chunk))
            await asyncio.to_thread(_finish, out)
    except BaseException:
        # Also on cancellation: never leave a partial upload behind.
        path.unlink(missing_ok=True)
        raise
    return ReceivedUpload(path=path, size_bytes=received, sha256=digest.hexdigest())


def _new_file(dest_dir: Path, suffix: str) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest_dir, prefix="upload-", suffix=suffix)
    os.close(fd)
    return Path(name)


def _write_chunk(out: BinaryIO, digest: Any, chunk: bytes) -> None:
    out.write(chunk)
    digest.update(chunk)


def _finish(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())
