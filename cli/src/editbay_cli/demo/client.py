"""A small HTTP client of the gateway: JSON calls, streamed multipart uploads with progress,
server-sent event watches, downloads. Errors come back as ``GatewayCallError``."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

READ_BYTES = 256 * 1024
POLL_S = 0.5


class GatewayCallError(RuntimeError):
    """A call the gateway answered with an error (Google's JSON error shape)."""

    def __init__(self, status: int, message: str, reason: str = "") -> None:
        super().__init__(f"HTTP {status}: {message}" + (f" ({reason})" if reason else ""))
        self.status = status
        self.reason = reason


def _raise_for(response: httpx.Response, body: bytes) -> None:
    if response.status_code < 400:
        return
    try:
        error = json.loads(body)["error"]
        reasons = [d.get("reason", "") for d in error.get("details", []) if "reason" in d]
        raise GatewayCallError(
            response.status_code, error["message"], reasons[0] if reasons else ""
        )
    except (ValueError, KeyError, TypeError):
        raise GatewayCallError(response.status_code, body[:200].decode(errors="replace")) from None


class GatewayClient:
    def __init__(self, base_url: str, *, timeout_s: float = 120.0) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout_s)

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.http.request(method, path, json=json_body, params=params)
        _raise_for(response, response.content)
        return response.json()  # type: ignore[no-any-return]

    async def upload(
        self,
        path: str,
        file: Path,
        *,
        fields: Mapping[str, str] | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Multipart upload streamed from disk; ``on_sent(bytes)`` after each piece."""
        boundary = uuid.uuid4().hex
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
            for name, value in (fields or {}).items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{file.name}"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        length = len(head) + (await asyncio.to_thread(file.stat)).st_size + len(tail)

        async def body() -> AsyncIterator[bytes]:
            yield head
            with file.open("rb") as handle:
                while piece := await asyncio.to_thread(handle.read, READ_BYTES):
                    yield piece
                    if on_sent is not None:
                        on_sent(len(piece))
            yield tail

        response = await self.http.post(
            path,
            content=body(),
            headers={
                "content-type": f"multipart/form-data; boundary={boundary}",
                "content-length": str(length),
            },
        )
        _raise_for(response, response.content)
        return response.json()  # type: ignore[no-any-return]

    async def watch(
        self,
        name: str,
        *,
        done: Callable[[dict[str, Any]], bool],
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Follow ``GET /v1/{name}:watch`` until ``done``; poll Get if the stream ends early."""
        last: dict[str, Any] | None = None
        async with self.http.stream("GET", f"/v1/{name}:watch", timeout=None) as response:
            if response.status_code >= 400:
                _raise_for(response, await response.aread())
            async for event, data in _sse(response):
                if event == "error":
                    error = data.get("error", {})
                    raise GatewayCallError(error.get("code", 500), error.get("message", ""))
                last = data
                if on_update is not None:
                    on_update(data)
                if done(data):
                    return data
        while last is None or not done(last):
            await asyncio.sleep(POLL_S)
            last = await self.call("GET", f"/v1/{name}")
            if on_update is not None:
                on_update(last)
        return last

    async def download(self, path: str, dest: Path) -> Path:
        """Stream a download (following a redirect to object storage) into ``dest``."""
        partial = dest.with_name(f".{dest.name}.partial")
        async with self.http.stream("GET", path, follow_redirects=True) as response:
            if response.status_code >= 400:
                _raise_for(response, await response.aread())
            with partial.open("wb") as handle:
                async for piece in response.aiter_bytes():
                    await asyncio.to_thread(handle.write, piece)
        partial.replace(dest)
        return dest


async def _sse(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    event, data_lines = "message", []
    async for line in response.aiter_lines():
        if line == "":
            if data_lines:
                yield event, json.loads("\n".join(data_lines))
            event, data_lines = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].lstrip())
