"""The OpenAPI document of the generated routes: paths from the http rules, schemas from the
message descriptors (proto3 JSON mapping), summaries from the RPC comments."""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from editbay_gateway.routes import Kind, Route
from editbay_gateway.uploads import FILE_PART, StreamShape

_SCALARS: dict[int, dict[str, Any]] = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer", "format": "int64"},
    # 64-bit integers are strings in the proto3 JSON mapping.
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_SINT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}

_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "example": "1.5s"},
    "google.protobuf.FieldMask": {"type": "string", "example": "displayName,description"},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
}

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "integer"},
                "status": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


class SchemaBuilder:
    """JSON schemas of messages, each once under components/schemas (cycles are $refs)."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def ref(self, descriptor: Descriptor) -> dict[str, Any]:
        if descriptor.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[descriptor.full_name])
        name = descriptor.full_name
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder first: a recursive message refers to itself
            self.schemas[name] = self._message(descriptor)
        return {"$ref": f"#/components/schemas/{name}"}

    def _message(self, descriptor: Descriptor) -> dict[str, Any]:
        properties = {field.json_name: self.field(field) for field in descriptor.fields}
        return {"type": "object", "properties": properties}

    def field(self, field: FieldDescriptor) -> dict[str, Any]:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self._single(value)}
        single = self._single(field)
        if field.is_repeated:
            return {"type": "array", "items": single}
        return single

    def _single(self, field: FieldDescriptor) -> dict[str, Any]:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return self.ref(field.message_type)
        if field.type == FieldDescriptor.TYPE_ENUM:
            return _enum(field.enum_type)
        return dict(_SCALARS[field.type])


def _enum(descriptor: EnumDescriptor) -> dict[str, Any]:
    return {"type": "string", "enum": [value.name for value in descriptor.values]}


def build_openapi(
    routes: list[Route], comments: dict[str, str], *, title: str, version: str
) -> dict[str, Any]:
    builder = SchemaBuilder()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation = _operation(route, comments, builder)
        paths.setdefault(route.template.display_path, {})[route.http_method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": builder.schemas},
    }


def _operation(route: Route, comments: dict[str, str], builder: SchemaBuilder) -> dict[str, Any]:
    comment = comments.get(route.full_name, "")
    summary = _first_sentence(comment) if comment else route.method.name
    if route.kind is Kind.DOWNLOAD:
        summary = "Downloads a render's output: a redirect to S3, or the file itself."
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": summary,
        "tags": [route.service.key],
        "parameters": _path_parameters(route) + _query_parameters(route, builder),
        "responses": _responses(route, builder),
    }
    if comment and comment != summary:
        operation["description"] = comment
    body = _request_body(route, builder)
    if body is not None:
        operation["requestBody"] = body
    return operation


def _first_sentence(comment: str) -> str:
    paragraph = comment.split("\n\n")[0].replace("\n", " ")
    end = re.search(r"\.(\s|$)", paragraph)
    return paragraph[: end.start() + 1] if end else paragraph


def _path_parameters(route: Route) -> list[dict[str, Any]]:
    return [
        {
            "name": param.name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": f"part of `{param.field_path}`",
        }
        for param in route.template.display_params
    ]


def _query_parameters(route: Route, builder: SchemaBuilder) -> list[dict[str, Any]]:
    """Top-level scalar fields not bound by the path or the body."""
    if route.body == "*" or route.kind in (Kind.CLIENT_STREAM, Kind.DOWNLOAD):
        return []
    bound = {path.split(".")[0] for path in route.template.field_paths} | {route.body}
    parameters = []
    for field in route.input_class.DESCRIPTOR.fields:
        if field.name in bound or field.type == FieldDescriptor.TYPE_MESSAGE:
            continue
        parameters.append({"name": field.name, "in": "query", "schema": builder.field(field)})
    return parameters


def _request_body(route: Route, builder: SchemaBuilder) -> dict[str, Any] | None:
    if route.kind is Kind.CLIENT_STREAM:
        shape = StreamShape.of(route.input_class.DESCRIPTOR)
        properties: dict[str, Any] = {FILE_PART: {"type": "string", "format": "binary"}}
        bound = set(route.template.field_paths) | {"filename"}
        for field in shape.metadata_field.message_type.fields:
            if field.name not in bound:
                properties[field.name] = builder.field(field)
        schema = {"type": "object", "properties": properties, "required": [FILE_PART]}
        return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    if not route.body:
        return None
    if route.body == "*":
        schema = builder.ref(route.input_class.DESCRIPTOR)
    else:
        schema = builder.field(route.input_class.DESCRIPTOR.fields_by_name[route.body])
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _responses(route: Route, builder: SchemaBuilder) -> dict[str, Any]:
    error = {
        "description": "Error (google.rpc.Status as JSON)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    output = builder.ref(route.method.output_type)
    if route.kind is Kind.SERVER_STREAM:
        ok = {
            "description": "Server-sent events: one `data:` line per message, as JSON; a "
            "failure after the first message is an `error` event.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    elif route.kind is Kind.DOWNLOAD:
        ok = {
            "description": "The rendered video.",
            "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}},
        }
        return {"200": ok, "307": {"description": "Redirect to the stored file."}, "default": error}
    else:
        ok = {"description": "OK", "content": {"application/json": {"schema": output}}}
    return {"200": ok, "default": error}
