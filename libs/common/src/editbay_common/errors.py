"""One way to fail an RPC: raise ``ServiceError``; the server turns it into a gRPC status with
``google.rpc.ErrorInfo`` (reason, domain, metadata). Clients read it back with ``error_info``.

Domain code raises the helpers (``not_found``, ``invalid_argument`` ...) and never touches the
gRPC context. Anything else that escapes a handler becomes INTERNAL with a logged traceback, so a
bug never crashes the server and never leaks a stack trace to a client.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

log = logging.getLogger(__name__)

# The status travels in HTTP/2 trailers, which gRPC limits (8 KiB soft, 16 KiB hard): an error
# echoing a client's 100 KB name would arrive as RESOURCE_EXHAUSTED "Stream removed" instead.
MAX_MESSAGE_CHARS = 1024
MAX_METADATA_VALUE_CHARS = 256


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


class ServiceError(Exception):
    """An expected failure with a canonical code and a machine-readable reason."""

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: str,
        message: str,
        *,
        domain: str = "editbay.dev",
        **metadata: object,
    ) -> None:
        message = clip(message, MAX_MESSAGE_CHARS)
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.domain = domain
        self.metadata = {k: clip(str(v), MAX_METADATA_VALUE_CHARS) for k, v in metadata.items()}

    def to_status(self) -> grpc.Status:
        info = error_details_pb2.ErrorInfo(
            reason=self.reason, domain=self.domain, metadata=self.metadata
        )
        detail = any_pb2.Any()
        detail.Pack(info)
        proto = status_pb2.Status(
            code=getattr(code_pb2, self.code.name), message=self.message, details=[detail]
        )
        return rpc_status.to_status(proto)


def not_found(resource: str, name: str, *, domain: str = "editbay.dev") -> ServiceError:
    """NOT_FOUND with reason ``<RESOURCE>_NOT_FOUND``."""
    reason = f"{resource.upper()}_NOT_FOUND"
    return ServiceError(
        grpc.StatusCode.NOT_FOUND,
        reason,
        f"{resource} {name!r} not found",
        domain=domain,
        name=name,
    )


def invalid_argument(
    field: str,
    problem: str,
    *,
    domain: str = "editbay.dev",
    reason: str = "INVALID_FIELD",
    **metadata: object,
) -> ServiceError:
    """INVALID_ARGUMENT naming the field that was wrong."""
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
        f"{field}: {problem}",
        domain=domain,
        field=field,
        **metadata,
    )


def failed_precondition(
    reason: str, message: str, *, domain: str = "editbay.dev", **metadata: object
) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.FAILED_PRECONDITION, reason, message, domain=domain, **metadata
    )


def aborted(
    reason: str, message: str, *, domain: str = "editbay.dev", **metadata: object
) -> ServiceError:
    return ServiceError(grpc.StatusCode.ABORTED, reason, message, domain=domain, **metadata)


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo a failed call carried, if any."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Turns ``ServiceError`` into its status and any other exception into INTERNAL."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, method),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _wrap_unary(handler.stream_unary, method),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream, method),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                _wrap_stream(handler.stream_stream, method),
                handler.request_deserializer,
                handler.response_serializer,
            )
        return handler


async def _abort(context: grpc.aio.ServicerContext, error: BaseException, method: str) -> None:
    if isinstance(error, ServiceError):
        await context.abort_with_status(error.to_status())
    if isinstance(error, NotImplementedError):  # the generated base servicer's default
        unimplemented = ServiceError(
            grpc.StatusCode.UNIMPLEMENTED, "UNIMPLEMENTED", f"{method} is not implemented"
        )
        await context.abort_with_status(unimplemented.to_status())
    log.exception("unhandled error in %s", method, exc_info=error)
    internal = ServiceError(
        grpc.StatusCode.INTERNAL,
        "INTERNAL",
        "internal error; see the service log",
        method=method,
    )
    await context.abort_with_status(internal.to_status())


def _wrap_unary(behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await behavior(request, context)
        except (grpc.aio.AbortError, grpc.aio.UsageError):
            raise
        except Exception as error:  # the boundary where every error is mapped
            await _abort(context, error, method)

    return wrapper


def _wrap_stream(behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            async for item in behavior(request, context):
                yield item
        except (grpc.aio.AbortError, grpc.aio.UsageError):
            raise
        except Exception as error:
            await _abort(context, error, method)

    return wrapper
