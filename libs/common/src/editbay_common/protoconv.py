"""Small conversions between Python values and protobuf well-known types and JSON payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf import json_format, timestamp_pb2
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """A Timestamp for ``value`` (naive datetimes are taken as UTC); None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def to_payload(message: Message) -> dict[str, Any]:
    """A message as a JSON-able dict in the proto3 JSON mapping (for broker payloads)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def from_payload(payload: dict[str, Any], message_type: type[M]) -> M:
    """Parse a broker payload back into its message; unknown fields are ignored."""
    return json_format.ParseDict(payload, message_type(), ignore_unknown_fields=True)
