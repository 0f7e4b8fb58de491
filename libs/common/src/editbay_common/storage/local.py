"""Object storage in a local folder (the all-in-one mode).

Objects are plain files under the root at their key's path. Writes go to a hidden temporary file
in the same folder, are flushed to disk, and are renamed over the target, so a reader never sees
a half-written object. Blocking file work runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from editbay_common.storage.base import (
    InvalidKey,
    ObjectNotFound,
    Storage,
    StorageError,
    validate_key,
)

_COPY_BUFFER = 1024 * 1024


class LocalStorage(Storage):
    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        """The file that holds ``key``; refuses keys that would leave the root."""
        validate_key(key)
        path = self.root / key
        # validate_key already refuses "..", but a symlink inside the root could still point out.
        if not path.resolve().is_relative_to(self.root):
            raise InvalidKey(key, "resolves outside the storage root")
        return path

    async def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> None:
        target = self.path_for(key)
        await asyncio.to_thread(_atomic_copy, Path(path), target)

    async def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        target = self.path_for(key)
        await asyncio.to_thread(_atomic_write, data, target)

    async def get_file(self, key: str, dest: Path) -> Path:
        source = self._existing(key)
        dest = Path(dest)
        try:
            await asyncio.to_thread(_atomic_copy, source, dest)
        except FileNotFoundError as error:
            if not source.exists():
                raise ObjectNotFound(key) from error
            raise
        return dest

    async def get_bytes(self, key: str) -> bytes:
        source = self._existing(key)
        try:
            return await asyncio.to_thread(source.read_bytes)
        except FileNotFoundError as error:
            raise ObjectNotFound(key) from error

    async def local_path(self, key: str, scratch_dir: Path) -> Path:
        return self._existing(key)

    async def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    async def size(self, key: str) -> int:
        try:
            return self.path_for(key).stat().st_size
        except FileNotFoundError as error:
            raise ObjectNotFound(key) from error

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    async def url(self, key: str, *, expires_s: int = 3600) -> str:
        return self._existing(key).as_uri()

    async def presigned_upload(
        self,
        key: str,
        *,
        max_bytes: int,
        expires_s: int = 900,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        raise StorageError("presigned uploads need S3 storage")

    def _existing(self, key: str) -> Path:
        path = self.path_for(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path


def _temp_beside(target: Path) -> tuple[int, Path]:
    target.parent.mkdir(parents=True, exist_ok=True)
    # A leading dot: never a valid key, so a temp file can not be mistaken for an object.
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    return fd, Path(name)


def _atomic_write(data: bytes, target: Path) -> None:
    fd, temp = _temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _atomic_copy(source: Path, target: Path) -> None:
    fd, temp = _temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, _COPY_BUFFER)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
