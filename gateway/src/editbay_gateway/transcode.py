"""HTTP request -> request message: path variables, query parameters and the JSON body, as
``google.api.http`` maps them; errors are INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from editbay_gateway.http_errors import bad_field
from editbay_gateway.routes import Route


def build_request(
    route: Route,
    path_values: dict[str, str],
    query: Iterable[tuple[str, str]],
    body: bytes,
) -> Message:
    """The request message of ``route``; path variables win over body and query."""
    request = route.input_class()
    if route.body:
        payload = parse_json(body, require_object=route.body == "*")
        if route.body == "*":
            parse_into(payload, request)
        else:
            field = _field(request.DESCRIPTOR, route.body, route.body)
            parse_into({field.json_name: payload}, request)
    merge_query(request, query)
    for field_path, value in path_values.items():
        set_path_field(request, field_path, value)
    return request


def parse_json(body: bytes, *, require_object: bool) -> Any:
    if not body.strip():
        return {}
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise bad_field("body", f"not valid JSON ({error})", reason="INVALID_JSON") from error
    if require_object and not isinstance(payload, dict):
        raise bad_field("body", "must be a JSON object", reason="INVALID_JSON")
    return payload


def parse_into(payload: dict[str, Any], message: Message) -> None:
    """``json_format.ParseDict`` with its errors turned into 400s naming the field."""
    try:
        json_format.ParseDict(payload, message)
    except json_format.ParseError as error:
        text = str(error)
        raise bad_field(parse_error_field(text) or "body", _problem(text)) from error


_FAILED_FIELD = re.compile(r"Failed to parse (\S+) field")
_UNKNOWN_FIELD = re.compile(r'has no field named "([^"]+)"')
_AT_PATH = re.compile(r" at \"?[A-Za-z0-9_]+\.([A-Za-z0-9_.]+)\"?")


def parse_error_field(text: str) -> str:
    """The JSON path of the field a ``ParseError`` complains about, e.g. ``show.displayName``."""
    names = _FAILED_FIELD.findall(text)
    unknown = _UNKNOWN_FIELD.search(text)
    if unknown:
        names.append(unknown.group(1))
    if not names:
        at = _AT_PATH.search(text)
        return at.group(1).rstrip(".") if at else ""
    return ".".join(names)


def _problem(text: str) -> str:
    """The innermost reason of a nested ParseError message."""
    if _UNKNOWN_FIELD.search(text):
        return "unknown field"
    innermost = text.rsplit("field: ", 1)[-1]
    innermost = re.sub(r"\s+at [A-Za-z0-9_.\"]+\.*$", "", innermost.strip())
    return innermost.rstrip(".") or "invalid value"


def merge_query(request: Message, query: Iterable[tuple[str, str]]) -> None:
    """Query parameters set (nested, repeated) fields: ``?page_size=10&filter=state%3DREADY``."""
    tree: dict[str, Any] = {}
    for key, value in query:
        fields = _resolve(request.DESCRIPTOR, key)
        node = tree
        for field in fields[:-1]:
            node = node.setdefault(field.json_name, {})
        last = fields[-1]
        if last.type == FieldDescriptor.TYPE_MESSAGE and not _is_wrapper_like(last):
            raise bad_field(key, "a message field cannot be set from a query parameter")
        converted = _query_value(key, last, value)
        if _is_repeated(last):
            node.setdefault(last.json_name, []).append(converted)
        else:
            node[last.json_name] = converted
    if tree:
        parse_into(tree, request)


def _query_value(key: str, field: FieldDescriptor, value: str) -> Any:
    if field.type == FieldDescriptor.TYPE_BOOL:
        if value.lower() in ("true", "1", ""):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise bad_field(key, f"expected true or false, got {value!r}")
    return value  # ParseDict accepts numbers, enums, timestamps and durations as strings


def _is_wrapper_like(field: FieldDescriptor) -> bool:
    """Well-known types whose JSON form is a string (Timestamp, Duration, FieldMask)."""
    name = field.message_type.full_name
    return name in {
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
    }


def _is_repeated(field: FieldDescriptor) -> bool:
    return field.is_repeated


def _resolve(descriptor: Descriptor, dotted: str) -> list[FieldDescriptor]:
    """Fields along a dotted path; each part may be snake_case or lowerCamelCase."""
    fields: list[FieldDescriptor] = []
    current: Descriptor | None = descriptor
    for part in dotted.split("."):
        if current is None:
            raise bad_field(dotted, "not a field of the request", reason="UNKNOWN_FIELD")
        field = _field(current, part, dotted)
        fields.append(field)
        current = field.message_type if field.type == FieldDescriptor.TYPE_MESSAGE else None
    return fields


def _field(descriptor: Descriptor, name: str, dotted: str) -> FieldDescriptor:
    field = descriptor.fields_by_name.get(name) or descriptor.fields_by_camelcase_name.get(name)
    if field is None:
        raise bad_field(dotted, "not a field of the request", reason="UNKNOWN_FIELD")
    return field


def set_path_field(request: Message, field_path: str, value: str) -> None:
    """Set a (nested) string field bound by a path variable, e.g. ``show.name``."""
    fields = _resolve(request.DESCRIPTOR, field_path)
    target = request
    for field in fields[:-1]:
        target = getattr(target, field.name)
    last = fields[-1]
    if last.type != FieldDescriptor.TYPE_STRING:
        raise TypeError(f"path variable {field_path} is not a string field")
    setattr(target, last.name, value)
