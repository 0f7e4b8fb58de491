"""Object storage in an S3 bucket (AWS S3 or any S3-compatible store through an endpoint URL).

boto3 is synchronous, so every call runs in a worker thread (``asyncio.to_thread``); the event
loop, and with it AMQP heartbeats and gRPC, keeps running during transfers. One boto3 client is
shared: clients are thread-safe (sessions are not).

Uploads from browsers use a presigned POST with a ``content-length-range`` condition: unlike a
presigned PUT, S3 then refuses a body larger than the limit.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from editbay_common.storage.base import (
    ObjectNotFound,
    Storage,
    StorageError,
    validate_key,
    validate_prefix,
)

_NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}


class S3Storage(Storage):
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("S3 storage needs a bucket name")
        self.bucket = bucket
        self.prefix = validate_prefix(prefix)
        self.region = region
        self.client = client or _make_client(endpoint_url, region)

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def object_key(self, key: str) -> str:
        """The S3 key of ``key`` (with the storage's prefix)."""
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet (development and tests)."""
        await asyncio.to_thread(self._ensure_bucket)

    def _ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as error:
            if _error_code(error) not in _NOT_FOUND_CODES:
                raise StorageError(f"cannot reach bucket {self.bucket!r}: {error}") from error
        params: dict[str, Any] = {"Bucket": self.bucket}
        if self.region and self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.client.create_bucket(**params)
        except ClientError as error:
            if _error_code(error) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise StorageError(f"cannot create bucket {self.bucket!r}: {error}") from error

    async def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else None
        await self._call(
            key, self.client.upload_file, str(path), self.bucket, self.object_key(key), extra
        )

    async def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.object_key(key), "Body": data}
        if content_type:
            params["ContentType"] = content_type
        await self._call(key, lambda: self.client.put_object(**params))

    async def get_file(self, key: str, dest: Path) -> Path:
        dest = Path(dest)
        object_key = self.object_key(key)
        await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
        os.close(fd)
        temp = Path(name)
        try:
            await self._call(key, self.client.download_file, self.bucket, object_key, str(temp))
            await asyncio.to_thread(os.replace, temp, dest)
        finally:
            # A quick local unlink; no await here so a cancellation cannot skip the cleanup.
            _remove_quietly(temp)
        return dest

    async def get_bytes(self, key: str) -> bytes:
        def read() -> bytes:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
            with response["Body"] as body:
                return body.read()

        return await self._call(key, read)

    async def local_path(self, key: str, scratch_dir: Path) -> Path:
        name = key.rsplit("/", 1)[-1]
        folder = await asyncio.to_thread(tempfile.mkdtemp, prefix="object-", dir=scratch_dir)
        return await self.get_file(key, Path(folder) / name)

    async def exists(self, key: str) -> bool:
        try:
            await self.size(key)
        except ObjectNotFound:
            return False
        return True

    async def size(self, key: str) -> int:
        head = await self._call(
            key, lambda: self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        )
        return int(head["ContentLength"])

    async def delete(self, key: str) -> None:
        object_key = self.object_key(key)
        await self._call(key, lambda: self.client.delete_object(Bucket=self.bucket, Key=object_key))

    async def url(self, key: str, *, expires_s: int = 3600) -> str:
        params = {"Bucket": self.bucket, "Key": self.object_key(key)}
        return await self._call(
            key,
            lambda: self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_s
            ),
        )

    async def presigned_upload(
        self,
        key: str,
        *,
        max_bytes: int,
        expires_s: int = 900,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        object_key = self.object_key(key)
        fields: dict[str, str] = {}
        conditions: list[Any] = [["content-length-range", 1, max_bytes]]
        if content_type:
            fields["Content-Type"] = content_type
            conditions.append({"Content-Type": content_type})
        post = await self._call(
            key,
            lambda: self.client.generate_presigned_post(
                Bucket=self.bucket,
                Key=object_key,
                Fields=fields,
                Conditions=conditions,
                ExpiresIn=expires_s,
            ),
        )
        return {"url": post["url"], "fields": post["fields"], "max_bytes": max_bytes}

    async def close(self) -> None:
        await asyncio.to_thread(self.client.close)

    async def _call(self, key: str, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except ClientError as error:
            if _error_code(error) in _NOT_FOUND_CODES:
                raise ObjectNotFound(key) from error
            raise StorageError(f"S3 request for {key!r} failed: {error}") from error


def _remove_quietly(path: Path) -> None:
    path.unlink(missing_ok=True)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _make_client(endpoint_url: str | None, region: str | None) -> Any:
    # Path-style addressing for custom endpoints (MinIO, moto, ...), which often lack
    # per-bucket DNS names; virtual-hosted style for AWS itself.
    config = Config(
        signature_version="s3v4",
        retries={"max_attempts": 5, "mode": "standard"},
        s3={"addressing_style": "path" if endpoint_url else "auto"},
    )
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
