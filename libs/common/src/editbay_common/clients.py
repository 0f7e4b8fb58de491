"""gRPC channels between services: one long-lived channel per peer, a default deadline on every
unary call, and automatic retries of idempotent reads (Get*/List*) when a peer is UNAVAILABLE."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor


def _retry_config(services: list[ServiceDescriptor]) -> str:
    names = [
        {"service": service.full_name, "method": method.name}
        for service in services
        for method in service.methods
        if method.name.startswith(("Get", "List"))
    ]
    config = {
        "methodConfig": [
            {
                "name": names,
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
    return json.dumps(config)


class DefaultDeadline(grpc.aio.UnaryUnaryClientInterceptor):
    """Gives every unary call a deadline when the caller set none: gRPC has no default."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        if client_call_details.timeout is None:
            client_call_details = client_call_details._replace(timeout=self.seconds)
        return await continuation(client_call_details, request)


def open_channel(
    address: str, services: list[ServiceDescriptor], *, default_timeout_s: float = 30.0
) -> grpc.aio.Channel:
    """A channel to ``address`` (host:port) for the given services."""
    return grpc.aio.insecure_channel(
        address,
        interceptors=[DefaultDeadline(default_timeout_s)],
        options=[
            ("grpc.enable_retries", 1),
            ("grpc.service_config", _retry_config(services)),
            ("grpc.max_receive_message_length", 8 * 1024 * 1024),
            ("grpc.keepalive_time_ms", 30_000),
        ],
    )
