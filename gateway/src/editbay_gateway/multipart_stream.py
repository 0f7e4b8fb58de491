"""A streaming ``multipart/form-data`` reader: yields form fields and the file's bytes as they
arrive, so an upload is never held in memory or spooled to disk by the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from editbay_gateway.http_errors import bad_field

MAX_FIELD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Field:
    name: str
    value: str


@dataclass(frozen=True)
class FileStart:
    name: str
    filename: str
    content_type: str


@dataclass(frozen=True)
class FileData:
    data: bytes


@dataclass(frozen=True)
class FileEnd:
    pass


Event = Field | FileStart | FileData | FileEnd


def boundary_of(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise bad_field("Content-Type", "expected multipart/form-data with a boundary")
    return options[b"boundary"]


class _Collector:
    """Parser callbacks that turn the byte-level events into ``Event`` objects."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._field: tuple[str, bytearray] | None = None
        self._in_file = False

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is not None:
            content_type = self._headers.get(b"content-type", b"application/octet-stream")
            self.events.append(
                FileStart(name, filename.decode("utf-8", "replace"), content_type.decode())
            )
            self._in_file = True
        else:
            self._field = (name, bytearray())

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.events.append(FileData(bytes(data[start:end])))
        elif self._field is not None:
            self._field[1].extend(data[start:end])
            if len(self._field[1]) > MAX_FIELD_BYTES:
                raise bad_field(self._field[0], f"form field longer than {MAX_FIELD_BYTES} bytes")

    def on_part_end(self) -> None:
        if self._in_file:
            self.events.append(FileEnd())
            self._in_file = False
        elif self._field is not None:
            name, value = self._field
            self.events.append(Field(name, value.decode("utf-8", "replace")))
            self._field = None

    def callbacks(self) -> dict[str, object]:
        names = (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
        return {name: getattr(self, name) for name in names}


async def multipart_events(body: AsyncIterator[bytes], boundary: bytes) -> AsyncIterator[Event]:
    """Events of a multipart body in order; a malformed body is a 400."""
    collector = _Collector()
    parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    async for chunk in body:
        if not chunk:
            continue
        try:
            parser.write(chunk)
        except MultipartParseError as error:
            raise bad_field("body", f"malformed multipart body ({error})") from error
        events, collector.events = collector.events, []
        for event in events:
            yield event
    parser.finalize()
    for event in collector.events:
        yield event
