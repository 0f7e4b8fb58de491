"""The gateway application: ``create_app(settings)``.

    uvicorn "editbay_gateway.app:create_app" --factory

Routes are generated from the services' ``google.api.http`` annotations (see ``routes.py``);
one long-lived gRPC channel per service is opened at startup and closed at shutdown.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import grpc
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import Response

from editbay_common.clients import open_channel
from editbay_common.settings import Settings
from editbay_gateway.comments import find_proto_root, rpc_comments
from editbay_gateway.dispatch import Gateway
from editbay_gateway.health import check_all
from editbay_gateway.openapi import build_openapi
from editbay_gateway.routes import Router, route_table
from editbay_gateway.services import SERVICES

TITLE = "editbay"
VERSION = "v1"
METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


def open_channels(settings: Settings) -> dict[str, grpc.aio.Channel]:
    return {
        spec.key: open_channel(
            spec.address(settings),
            [spec.descriptor],
            default_timeout_s=settings.rpc_timeout_seconds,
        )
        for spec in SERVICES
    }


def create_app(
    settings: Settings | None = None, *, channels: Mapping[str, grpc.aio.Channel] | None = None
) -> FastAPI:
    """The FastAPI app. ``channels`` (service key -> channel) replaces the ones it would open;
    the caller then owns them."""
    settings = settings or Settings()
    routes = route_table()
    gateway = Gateway(Router(routes), {}, max_upload_bytes=settings.max_upload_bytes)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = channels is None
        gateway.channels = open_channels(settings) if owned else dict(channels)
        try:
            yield
        finally:
            if owned:
                for channel in gateway.channels.values():
                    await channel.close()

    app = FastAPI(title=TITLE, version=VERSION, lifespan=lifespan)
    app.state.gateway = gateway

    @app.get("/healthz", tags=["gateway"], summary="Checks the four services (gRPC health).")
    async def healthz() -> Response:
        healthy, statuses = await check_all(gateway.channels)
        body = {"status": "SERVING" if healthy else "NOT_SERVING", "services": statuses}
        return JSONResponse(body, 200 if healthy else 503)

    async def handle(request: Request) -> Response:
        return await gateway.handle(request)

    app.add_route("/v1/{rest:path}", handle, methods=METHODS, include_in_schema=False)
    _install_openapi(app, routes)
    return app


def _install_openapi(app: FastAPI, routes: list[Any]) -> None:
    """FastAPI's own document (for /healthz) merged with the generated routes."""
    cache: dict[str, Any] = {}
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if not cache:
            comments = rpc_comments([spec.descriptor for spec in SERVICES], find_proto_root())
            generated = build_openapi(routes, comments, title=TITLE, version=VERSION)
            base = base_openapi()
            generated["paths"] = {**base.get("paths", {}), **generated["paths"]}
            schemas = base.get("components", {}).get("schemas", {})
            generated["components"]["schemas"].update(schemas)
            cache.update(generated)
        return cache

    app.openapi = openapi  # type: ignore[method-assign]
