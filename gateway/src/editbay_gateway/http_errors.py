"""gRPC status -> HTTP status (as google/rpc/code.proto says) and Google's JSON error shape::

{"error": {"code": 404, "status": "NOT_FOUND", "message": "...",
           "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "...", "domain": "...", "metadata": {...}}]}}
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

log = logging.getLogger(__name__)

GATEWAY_DOMAIN = "gateway.editbay.dev"
UPLOAD_TOO_LARGE = "UPLOAD_TOO_LARGE"

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


def http_status(code: grpc.StatusCode, reason: str | None = None) -> int:
    """The HTTP status of a gRPC status; an upload refused for its size is 413."""
    if reason == UPLOAD_TOO_LARGE:
        return 413
    return HTTP_STATUS.get(code, 500)


class GatewayError(Exception):
    """A request the gateway refuses itself, before (or instead of) calling a service."""

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: str,
        message: str,
        *,
        http: int | None = None,
        **metadata: object,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.http = http if http is not None else http_status(code, reason)
        self.metadata = {k: str(v) for k, v in metadata.items()}


def bad_field(field: str, problem: str, *, reason: str = "INVALID_FIELD") -> GatewayError:
    """INVALID_ARGUMENT naming the field, like the services' ``invalid_argument``."""
    return GatewayError(
        grpc.StatusCode.INVALID_ARGUMENT, reason, f"{field}: {problem}", field=field
    )


def error_body(
    http: int, code: grpc.StatusCode, message: str, details: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"error": {"code": http, "status": code.name, "message": message, "details": details}}


def error_info_dict(reason: str, domain: str, metadata: dict[str, str]) -> dict[str, Any]:
    info = error_details_pb2.ErrorInfo(reason=reason, domain=domain, metadata=metadata)
    detail = json_format.MessageToDict(info)
    return {"@type": "type.googleapis.com/google.rpc.ErrorInfo", **detail}


def gateway_error_response(error: GatewayError) -> JSONResponse:
    details = [error_info_dict(error.reason, GATEWAY_DOMAIN, error.metadata)]
    return JSONResponse(error_body(error.http, error.code, error.message, details), error.http)


def rpc_error_response(error: grpc.aio.AioRpcError) -> JSONResponse:
    code = error.code()
    details = rpc_error_details(error)
    reason = next(
        (d.get("reason") for d in details if d.get("@type", "").endswith("rpc.ErrorInfo")), None
    )
    http = http_status(code, reason)
    if http >= 500:
        log.warning("backend error", extra={"grpc_code": code.name, "details": error.details()})
    body = error_body(http, code, error.details() or code.name, details)
    return JSONResponse(body, http)


def rpc_error_details(error: grpc.RpcError) -> list[dict[str, Any]]:
    """Every detail of a failed call's google.rpc.Status, in the proto3 JSON mapping."""
    try:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
    except ValueError:  # a status whose code or message disagrees with the trailers
        return []
    if status is None:
        return []
    details: list[dict[str, Any]] = []
    for detail in status.details:
        try:
            details.append(json_format.MessageToDict(detail))
        except (TypeError, KeyError, json_format.Error):  # a detail type this process lacks
            details.append({"@type": detail.type_url})
    return details
