"""gRPC status -> HTTP status, and the Google JSON error shape."""

from __future__ import annotations

import json

import grpc
import pytest

from editbay_gateway.http_errors import (
    GatewayError,
    bad_field,
    gateway_error_response,
    http_status,
)

# The table of google/rpc/code.proto, written out independently of the implementation.
EXPECTED = [
    ("OK", 200),
    ("CANCELLED", 499),
    ("UNKNOWN", 500),
    ("INVALID_ARGUMENT", 400),
    ("DEADLINE_EXCEEDED", 504),
    ("NOT_FOUND", 404),
    ("ALREADY_EXISTS", 409),
    ("PERMISSION_DENIED", 403),
    ("RESOURCE_EXHAUSTED", 429),
    ("FAILED_PRECONDITION", 400),
    ("ABORTED", 409),
    ("OUT_OF_RANGE", 400),
    ("UNIMPLEMENTED", 501),
    ("INTERNAL", 500),
    ("UNAVAILABLE", 503),
    ("DATA_LOSS", 500),
    ("UNAUTHENTICATED", 401),
]


@pytest.mark.parametrize(("code", "expected"), EXPECTED)
def test_status_mapping(code: str, expected: int) -> None:
    assert http_status(grpc.StatusCode[code]) == expected


def test_every_grpc_code_is_mapped() -> None:
    assert {code.name for code in grpc.StatusCode} == {name for name, _ in EXPECTED}


def test_upload_too_large_reason_is_413() -> None:
    assert http_status(grpc.StatusCode.INVALID_ARGUMENT, "UPLOAD_TOO_LARGE") == 413
    assert http_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "UPLOAD_TOO_LARGE") == 413
    assert http_status(grpc.StatusCode.INVALID_ARGUMENT, "MEDIA_REJECTED") == 400


def test_gateway_error_body_has_the_google_shape() -> None:
    response = gateway_error_response(bad_field("show.displayName", "expected a string"))
    body = json.loads(response.body)
    assert response.status_code == 400
    error = body["error"]
    assert error["code"] == 400
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == "show.displayName: expected a string"
    [detail] = error["details"]
    assert detail["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert detail["reason"] == "INVALID_FIELD"
    assert detail["domain"] == "gateway.editbay.dev"
    assert detail["metadata"] == {"field": "show.displayName"}


def test_explicit_http_status_wins() -> None:
    error = GatewayError(grpc.StatusCode.UNIMPLEMENTED, "METHOD_NOT_ALLOWED", "no", http=405)
    assert gateway_error_response(error).status_code == 405
