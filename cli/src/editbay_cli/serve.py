"""``editbay serve <service>``: one service (or the gateway) as its own process."""

from __future__ import annotations

import uvicorn

from editbay_cli.units import load_build_unit
from editbay_common.broker import open_broker
from editbay_common.logs import configure_logging
from editbay_common.runtime import serve_until_signal
from editbay_common.settings import Settings
from editbay_common.storage import Storage, open_storage


def storage_for(settings: Settings) -> Storage:
    return open_storage(
        settings.storage_url_resolved(),
        endpoint_url=settings.s3_endpoint_url or None,
        region=settings.s3_region,
    )


async def serve_service(service: str, settings: Settings, roles: frozenset[str]) -> int:
    """Run one service's unit on ``settings.grpc_port`` until SIGTERM; the exit code."""
    configure_logging(service, settings.log_level)
    build_unit = load_build_unit(service)
    broker = open_broker(settings.broker_url)
    await broker.start()
    storage = storage_for(settings)
    try:
        unit = await build_unit(settings, broker=broker, storage=storage, roles=roles)
        return await serve_until_signal(
            [unit],
            host=settings.grpc_host,
            port=settings.grpc_port,
            grace_s=settings.grace_seconds,
        )
    finally:
        await storage.close()
        await broker.close()


async def serve_gateway(settings: Settings) -> int:
    """Run the HTTP gateway with uvicorn until SIGTERM/SIGINT."""
    from editbay_gateway.app import create_app

    configure_logging("gateway", settings.log_level)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep the JSON logging configured above
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    await server.serve()
    return 0 if server.started else 1
