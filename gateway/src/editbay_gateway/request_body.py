"""Reading a JSON request body with a size limit, so a client cannot make the gateway hold an
arbitrarily large body in memory (uploads are streamed instead, see ``uploads``)."""

from __future__ import annotations

import grpc
from starlette.requests import Request

from editbay_gateway.http_errors import GatewayError

# The services refuse gRPC messages over 8 MiB (``editbay_common.runtime.MAX_MESSAGE_BYTES``);
# a JSON body is never smaller than the message it becomes, so nothing larger can succeed.
MAX_JSON_BODY_BYTES = 8 * 1024 * 1024
BODY_TOO_LARGE = "BODY_TOO_LARGE"


def body_too_large(limit: int) -> GatewayError:
    return GatewayError(
        grpc.StatusCode.INVALID_ARGUMENT,
        BODY_TOO_LARGE,
        f"the request body is larger than {limit} bytes; send media as an upload",
        http=413,
        limit_bytes=limit,
    )


async def read_json_body(request: Request, limit: int = MAX_JSON_BODY_BYTES) -> bytes:
    """The body, refused (413) as soon as it passes ``limit``: at once when Content-Length
    says so, else while it streams in."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise body_too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise body_too_large(limit)
    return bytes(body)
