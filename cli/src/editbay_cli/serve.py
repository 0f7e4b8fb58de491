"""``editbay serve <service>``: one service (or the gateway) as its own process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.exc import DBAPIError

from editbay_cli.units import load_build_unit
from editbay_common.broker import open_broker
from editbay_common.logs import configure_logging
from editbay_common.runtime import serve_until_signal
from editbay_common.settings import Settings
from editbay_common.storage import Storage, open_storage

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """A service could not start because something it needs is unreachable."""


def redacted(url: str) -> str:
    """``url`` without its password, fit for an error message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


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
    try:
        await broker.start()
    except Exception as error:
        raise StartupError(
            f"cannot connect to the broker at {redacted(settings.broker_url)}: {error}"
        ) from error
    storage = storage_for(settings)
    try:
        try:
            unit = await build_unit(settings, broker=broker, storage=storage, roles=roles)
        except (OSError, DBAPIError) as error:  # the database (or storage) is unreachable
            where = redacted(settings.database_url_for(service))
            raise StartupError(f"cannot open the database at {where}: {error}") from error
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
    """Run the HTTP gateway until SIGTERM/SIGINT; 0 after a clean shutdown."""
    from editbay_gateway.app import create_app
    from editbay_gateway.serving import start_http

    configure_logging("gateway", settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    running = await start_http(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        own_logging=False,
    )
    log.info("gateway serving", extra={"port": running.port})
    stop_wait = asyncio.create_task(stop.wait())
    await asyncio.wait({stop_wait, running.task}, return_when=asyncio.FIRST_COMPLETED)
    stop_wait.cancel()
    failed = running.task.done()  # the server ended by itself: an error, not a signal
    await running.stop()
    return 1 if failed else 0
