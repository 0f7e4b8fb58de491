"""The one generic handler: find the route, build the request, call the service, answer."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import grpc
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from google.protobuf import json_format
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from editbay_gateway.http_errors import (
    GatewayError,
    error_body,
    gateway_error_response,
    http_status,
    rpc_error_details,
    rpc_error_response,
)
from editbay_gateway.request_body import read_json_body
from editbay_gateway.routes import Kind, Route, Router
from editbay_gateway.sse import MEDIA_TYPE, sse_event
from editbay_gateway.transcode import build_request
from editbay_gateway.uploads import call_upload

log = logging.getLogger(__name__)


def to_json(message: Message) -> dict[str, Any]:
    """The proto3 JSON mapping (lowerCamelCase names, enums as names, int64 as strings)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=False)


class Gateway:
    """Routes HTTP requests to the services' channels (one long-lived channel per service)."""

    def __init__(
        self, router: Router, channels: Mapping[str, grpc.aio.Channel], *, max_upload_bytes: int
    ) -> None:
        self.router = router
        self.channels = channels
        self.max_upload_bytes = max_upload_bytes

    async def handle(self, request: Request) -> Response:
        found, allowed = self.router.find(request.method, request.url.path)
        if found is None:
            return _no_route(request, allowed)
        route = found.route
        try:
            if route.kind is Kind.CLIENT_STREAM:
                return await self._upload(route, request, found.path_values)
            body = await read_json_body(request) if route.body else b""
            message = build_request(
                route, found.path_values, request.query_params.multi_items(), body
            )
            if route.kind is Kind.SERVER_STREAM:
                return await self._stream(route, message)
            response = await self._unary(route, message)
            if route.kind is Kind.DOWNLOAD:
                return _download(response)
            return JSONResponse(to_json(response))
        except GatewayError as error:
            return gateway_error_response(error)
        except grpc.aio.AioRpcError as error:
            return rpc_error_response(error)

    def _channel(self, route: Route) -> grpc.aio.Channel:
        return self.channels[route.service.key]

    async def _unary(self, route: Route, message: Message) -> Message:
        call = self._channel(route).unary_unary(
            route.rpc_path,
            request_serializer=route.input_class.SerializeToString,
            response_deserializer=route.output_class.FromString,
        )
        return await call(message)

    async def _upload(
        self, route: Route, request: Request, path_values: dict[str, str]
    ) -> Response:
        multicallable = self._channel(route).stream_unary(
            route.rpc_path,
            request_serializer=route.input_class.SerializeToString,
            response_deserializer=route.output_class.FromString,
        )
        response = await call_upload(
            route, request, path_values, multicallable, max_bytes=self.max_upload_bytes
        )
        return JSONResponse(to_json(response))

    async def _stream(self, route: Route, message: Message) -> Response:
        """SSE. The first message is awaited before answering, so a call that fails at once
        (NOT_FOUND, INVALID_ARGUMENT) gets its proper HTTP status instead of a 200 stream."""
        call = self._channel(route).unary_stream(
            route.rpc_path,
            request_serializer=route.input_class.SerializeToString,
            response_deserializer=route.output_class.FromString,
        )(message)
        try:
            first = await call.read()
        except BaseException:
            call.cancel()
            raise
        return StreamingResponse(
            _sse_body(call, first),
            media_type=MEDIA_TYPE,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


async def _sse_body(call: grpc.aio.UnaryStreamCall, first: Any) -> AsyncIterator[bytes]:
    """Messages as ``data:`` events; a failure after the first is an ``error`` event."""
    try:
        item = first
        while item is not grpc.aio.EOF:
            yield sse_event(to_json(item))
            item = await call.read()
    except grpc.aio.AioRpcError as error:
        code = error.code()
        details = rpc_error_details(error)
        reason = next((d.get("reason") for d in details if "reason" in d), None)
        body = error_body(http_status(code, reason), code, error.details() or "", details)
        yield sse_event(body, event="error")
    finally:
        call.cancel()  # the client went away or the stream ended: release the call


def _no_route(request: Request, allowed: list[str]) -> Response:
    if allowed:
        error = GatewayError(
            grpc.StatusCode.UNIMPLEMENTED,
            "METHOD_NOT_ALLOWED",
            f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}",
            http=405,
        )
        response = gateway_error_response(error)
        response.headers["Allow"] = ", ".join(sorted(set(allowed)))
        return response
    return gateway_error_response(
        GatewayError(
            grpc.StatusCode.NOT_FOUND, "ROUTE_NOT_FOUND", f"no route for {request.url.path}"
        )
    )


def _download(job: Any) -> Response:
    """An S3 output is a redirect to its presigned URL; a local one is streamed from disk."""
    uri = job.output.uri if job.HasField("output") else ""
    if not uri:
        raise GatewayError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "RENDER_OUTPUT_NOT_READY",
            f"render job {job.name!r} has no output yet (state {job.State.Name(job.state)})",
            name=job.name,
        )
    parsed = urlparse(uri)
    if parsed.scheme in ("http", "https"):
        return RedirectResponse(uri, status_code=307)
    if parsed.scheme == "file":
        path = Path(url2pathname(parsed.path))
        if not path.is_file():
            raise GatewayError(
                grpc.StatusCode.NOT_FOUND,
                "RENDER_OUTPUT_MISSING",
                f"the output of {job.name!r} is gone from storage",
                name=job.name,
            )
        filename = job.name.rsplit("/", 1)[-1] + path.suffix
        return FileResponse(path, media_type="video/mp4", filename=filename)
    raise GatewayError(
        grpc.StatusCode.INTERNAL, "UNSUPPORTED_OUTPUT_URI", f"cannot serve {parsed.scheme}://"
    )
