"""Object storage: a local folder or an S3 bucket behind one async interface.

    storage = open_storage(settings.storage_url, endpoint_url=settings.s3_endpoint_url)
    key = new_key("takes", ".mp4")          # takes/2025/01/01jh...mp4, made by the server
    await storage.put_file(key, path, content_type="video/mp4")
    url = await storage.url(key)            # presigned GET (S3) or file:// (local)

``open_storage`` accepts ``file:///abs/dir`` or a plain directory path (``LocalStorage``) and
``s3://bucket[/prefix]`` (``S3Storage``; call ``await storage.ensure_bucket()`` to create the
bucket in development).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from editbay_common.storage.base import (
    InvalidKey,
    ObjectNotFound,
    Storage,
    StorageError,
    new_key,
    validate_key,
)
from editbay_common.storage.local import LocalStorage
from editbay_common.storage.s3 import S3Storage

__all__ = [
    "InvalidKey",
    "LocalStorage",
    "ObjectNotFound",
    "S3Storage",
    "Storage",
    "StorageError",
    "new_key",
    "open_storage",
    "validate_key",
]


def open_storage(
    url: str, *, endpoint_url: str | None = None, region: str | None = None
) -> Storage:
    """The storage named by ``url``: ``s3://bucket[/prefix]``, ``file:///dir`` or a directory."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"S3 storage URL needs a bucket: {url!r}")
        return S3Storage(
            parsed.netloc, prefix=parsed.path, endpoint_url=endpoint_url, region=region
        )
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file storage URL must be local: {url!r}")
        return LocalStorage(Path(unquote(parsed.path)))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and url[1:3] in (":\\", ":/")):
        return LocalStorage(Path(url))  # a plain path (a one-letter "scheme" is a drive letter)
    raise ValueError(f"unsupported storage URL {url!r}: use s3://bucket[/prefix] or a directory")
