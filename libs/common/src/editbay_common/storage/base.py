"""The storage interface, its errors, and the rules for object keys.

Keys are made by the server (``new_key``), never from a user's file name: ``<prefix>/<yyyy>/<mm>/
<id><suffix>``. Every key is checked by ``validate_key`` before any backend uses it, so a key
cannot climb out of a local root or smuggle odd characters into an S3 request.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from editbay_common.ids import new_id, utc_now

MAX_KEY_LENGTH = 512
# One path segment: starts with a letter, digit or underscore (so never ".", ".." or a hidden
# temp file name), then letters, digits and ._=+- only.
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._=+-]*$")
# Suffixes new_key accepts: a dot and a short alphanumeric extension, like ".mp4" or ".srt".
_SUFFIX_RE = re.compile(r"^(\.[a-z0-9]{1,8}){0,2}$")


class StorageError(Exception):
    """A storage operation failed."""


class ObjectNotFound(StorageError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object stored under {key!r}")
        self.key = key


class InvalidKey(StorageError):
    """The key is not an acceptable object key."""

    def __init__(self, key: object, reason: str) -> None:
        super().__init__(f"invalid storage key {key!r}: {reason}")
        self.key = key
        self.reason = reason


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key (``a/b/c.ext``), else raise ``InvalidKey``."""
    if not isinstance(key, str) or not key:
        raise InvalidKey(key, "empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(key, f"longer than {MAX_KEY_LENGTH} characters")
    if "\x00" in key:
        raise InvalidKey(key, "contains NUL")
    if "\\" in key:
        raise InvalidKey(key, "contains a backslash")
    if key.startswith("/"):
        raise InvalidKey(key, "absolute")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey(key, "empty, '.' or '..' path segment")
        if not _SEGMENT_RE.match(segment):
            raise InvalidKey(key, f"segment {segment!r} has characters outside [A-Za-z0-9._=+-]")
    return key


def validate_prefix(prefix: str) -> str:
    """A key prefix follows the key rules; surrounding slashes are dropped."""
    prefix = prefix.strip("/")
    return validate_key(prefix) if prefix else ""


def new_key(prefix: str, suffix: str = "") -> str:
    """A fresh server-made key: ``<prefix>/<yyyy>/<mm>/<new_id()><suffix>``.

    ``suffix`` must look like ``.mp4`` or ``.tar.gz`` (lower-case, at most two short parts); it
    is for the server's own choice of extension, never a user's file name.
    """
    if not _SUFFIX_RE.match(suffix):
        raise InvalidKey(suffix, "suffix must look like '.mp4' (lower-case letters and digits)")
    prefix = validate_prefix(prefix)
    if not prefix:
        raise InvalidKey(prefix, "prefix is empty")
    now = utc_now()
    return validate_key(f"{prefix}/{now:%Y}/{now:%m}/{new_id()}{suffix}")


class Storage(ABC):
    """Object storage: a local folder (all-in-one mode) or an S3 bucket."""

    @abstractmethod
    async def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> None:
        """Store the file at ``path`` under ``key`` (replacing any object there)."""

    @abstractmethod
    async def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        """Store ``data`` under ``key``."""

    @abstractmethod
    async def get_file(self, key: str, dest: Path) -> Path:
        """Copy the object to the file ``dest`` (parents created) and return ``dest``."""

    @abstractmethod
    async def get_bytes(self, key: str) -> bytes:
        """The object's bytes; meant for small objects (captions, JSON), not footage."""

    @abstractmethod
    async def local_path(self, key: str, scratch_dir: Path) -> Path:
        """A local file holding the object's bytes. The local backend returns the stored file
        itself (treat it as read-only); S3 downloads into ``scratch_dir``."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def size(self, key: str) -> int:
        """The object's size in bytes; ``ObjectNotFound`` if missing."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Delete the object; deleting a missing object is not an error."""

    @abstractmethod
    async def url(self, key: str, *, expires_s: int = 3600) -> str:
        """A URL to read the object: presigned GET (S3) or a file:// URI (local)."""

    @abstractmethod
    async def presigned_upload(
        self,
        key: str,
        *,
        max_bytes: int,
        expires_s: int = 900,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """A browser upload form limited to ``max_bytes``: ``{"url": ..., "fields": {...}}``.
        POST ``fields`` plus the file (as the last form field, named ``file``) to ``url``."""

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release clients and connections."""
