"""``GET /healthz``: every backend answers the gRPC health check for its service."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from editbay_gateway.services import SERVICES

CHECK_TIMEOUT_S = 2.0


async def check_backend(channel: grpc.aio.Channel, service_name: str) -> str:
    """SERVING, NOT_SERVING, or the gRPC code name of a failed check (e.g. UNAVAILABLE)."""
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        reply = await stub.Check(
            health_pb2.HealthCheckRequest(service=service_name), timeout=CHECK_TIMEOUT_S
        )
    except grpc.aio.AioRpcError as error:
        return error.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


async def check_all(channels: Mapping[str, grpc.aio.Channel]) -> tuple[bool, dict[str, str]]:
    specs = [spec for spec in SERVICES if spec.key in channels]
    results = await asyncio.gather(
        *(check_backend(channels[spec.key], spec.descriptor.full_name) for spec in specs)
    )
    statuses = {spec.key: status for spec, status in zip(specs, results, strict=True)}
    healthy = bool(statuses) and all(status == "SERVING" for status in statuses.values())
    return healthy, statuses
