"""Client-streaming uploads (``UploadTake``, ``UploadReferenceVideo``) from multipart/form-data.

The form carries a ``file`` part and optional fields of the upload's metadata message
(``scene_number``, ``take_number``, ``request_id``); fields must come before the file part
(browsers' FormData and HTTP clients send them in the order given), or be query parameters.
The first gRPC message carries the metadata, the following ones the file in 1 MiB chunks, sent
once the service has accepted the metadata (``editbay_common.upload_calls``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import grpc
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from starlette.requests import ClientDisconnect, Request

from editbay_common.upload_calls import send_upload
from editbay_gateway.http_errors import UPLOAD_TOO_LARGE, GatewayError, bad_field
from editbay_gateway.multipart_stream import (
    Event,
    Field,
    FileData,
    FileEnd,
    FileStart,
    boundary_of,
    multipart_events,
)
from editbay_gateway.routes import Route
from editbay_gateway.transcode import _resolve, parse_into, set_path_field

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
FILE_PART = "file"


@dataclass(frozen=True)
class StreamShape:
    """Where metadata and chunks go in a ``oneof payload {Metadata metadata; bytes chunk;}``."""

    metadata_field: FieldDescriptor
    chunk_field: FieldDescriptor

    @classmethod
    def of(cls, request: Descriptor) -> StreamShape:
        metadata = next(f for f in request.fields if f.type == FieldDescriptor.TYPE_MESSAGE)
        chunk = next(f for f in request.fields if f.type == FieldDescriptor.TYPE_BYTES)
        return cls(metadata, chunk)


def too_large(limit: int) -> GatewayError:
    return GatewayError(
        grpc.StatusCode.INVALID_ARGUMENT,
        UPLOAD_TOO_LARGE,
        f"upload larger than {limit} bytes",
        limit_bytes=limit,
    )


def check_declared_length(request: Request, limit: int) -> None:
    """Refuse early, before reading anything, when Content-Length is over the limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)


async def call_upload(
    route: Route,
    request: Request,
    path_values: dict[str, str],
    multicallable: grpc.aio.StreamUnaryMultiCallable,
    *,
    max_bytes: int,
) -> Message:
    """Stream the request's file to the RPC; return its response or raise the first error."""
    check_declared_length(request, max_bytes)
    boundary = boundary_of(request.headers.get("content-type", ""))
    events = multipart_events(request.stream(), boundary).__aiter__()
    fields, file_start = await _read_fields(events)
    shape = StreamShape.of(route.input_class.DESCRIPTOR)
    metadata = build_metadata(
        route, shape, path_values, [*request.query_params.multi_items(), *fields], file_start
    )
    try:
        # A failure of the body (too large, malformed, client gone) cancels the call and is
        # raised here: the service never takes a cut-off file as complete.
        return await send_upload(multicallable, metadata, _chunks(route, shape, events, max_bytes))
    finally:
        with contextlib.suppress(Exception):
            await events.aclose()  # type: ignore[attr-defined]


async def _read_fields(events: AsyncIterator[Event]) -> tuple[list[tuple[str, str]], FileStart]:
    fields: list[tuple[str, str]] = []
    async for event in events:
        if isinstance(event, Field):
            fields.append((event.name, event.value))
        elif isinstance(event, FileStart) and event.name == FILE_PART:
            return fields, event
        elif isinstance(event, FileStart):
            raise bad_field(event.name, f"unexpected file part; the file goes in {FILE_PART!r}")
    raise bad_field(FILE_PART, "missing: send the file in a form part named 'file'")


def build_metadata(
    route: Route,
    shape: StreamShape,
    path_values: dict[str, str],
    fields: Iterable[tuple[str, str]],
    file_start: FileStart,
) -> Message:
    """The first message: path variables, form fields and the file's base name."""
    request = route.input_class()
    metadata = getattr(request, shape.metadata_field.name)
    descriptor = metadata.DESCRIPTOR
    values: dict[str, str] = {}
    for name, value in fields:
        if value == "":
            continue  # an empty form field means "not set"
        field = _resolve(descriptor, name)[-1]
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            raise bad_field(name, "cannot be set from a form field")
        values[field.json_name] = value
    if "filename" in descriptor.fields_by_name and "filename" not in values:
        values["filename"] = _base_name(file_start.filename)
    parse_into(values, metadata)
    for field_path, value in path_values.items():
        set_path_field(metadata, field_path, value)
    metadata.SetInParent()  # the oneof holds the metadata even when every field is default
    return request


def _base_name(filename: str) -> str:
    """Browsers may send a full client path; only the last component is the file's name."""
    return PureWindowsPath(PurePosixPath(filename).name).name


async def _chunks(
    route: Route,
    shape: StreamShape,
    events: AsyncIterator[Event],
    max_bytes: int,
) -> AsyncIterator[Message]:
    """The messages after the metadata, in chunks of ``CHUNK_BYTES``."""
    message_class = route.input_class
    sent_bytes = 0
    try:
        buffer = bytearray()
        finished = False
        async for event in events:
            if isinstance(event, FileData):
                sent_bytes += len(event.data)
                if sent_bytes > max_bytes:
                    raise too_large(max_bytes)
                buffer.extend(event.data)
                while len(buffer) >= CHUNK_BYTES:
                    yield message_class(**{shape.chunk_field.name: bytes(buffer[:CHUNK_BYTES])})
                    del buffer[:CHUNK_BYTES]
            elif isinstance(event, FileEnd):
                if buffer:
                    yield message_class(**{shape.chunk_field.name: bytes(buffer)})
                    buffer.clear()
                finished = True
            elif isinstance(event, Field | FileStart):
                name = event.name
                raise bad_field(name, "form fields must come before the file part")
        if not finished:
            raise bad_field(FILE_PART, "the body ended before the file part was complete")
    except ClientDisconnect as error:
        raise GatewayError(
            grpc.StatusCode.CANCELLED, "CLIENT_DISCONNECTED", "client went away during upload"
        ) from error
