"""The services' ``build_unit`` functions, imported lazily: the CLI is the composition root,
and one service that is missing or broken does not stop the others from running."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from editbay_common.broker import Broker
from editbay_common.runtime import ServiceUnit
from editbay_common.settings import SERVICES, Settings
from editbay_common.storage import Storage

log = logging.getLogger(__name__)

BuildUnit = Callable[..., Awaitable[ServiceUnit]]
ALL_ROLES = frozenset({"api", "worker"})
ROLE_CHOICES = {"api": frozenset({"api"}), "worker": frozenset({"worker"}), "all": ALL_ROLES}


class ServiceMissing(RuntimeError):
    """A service's package (or its ``build_unit``) cannot be imported."""


def load_build_unit(service: str) -> BuildUnit:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    try:
        module = importlib.import_module(f"editbay_{service}.app")
    except ImportError as error:
        raise ServiceMissing(f"the {service} service is not installed: {error}") from error
    build: Any = getattr(module, "build_unit", None)
    if build is None:
        raise ServiceMissing(f"editbay_{service}.app has no build_unit")
    return build  # type: ignore[no-any-return]


async def build_units(
    settings: Settings,
    services: Iterable[str],
    *,
    broker: Broker,
    storage: Storage,
    roles: frozenset[str] = ALL_ROLES,
    required: Iterable[str] = (),
) -> list[ServiceUnit]:
    """Units of ``services``; a missing optional one is skipped with a warning."""
    must = set(required)
    units: list[ServiceUnit] = []
    for service in services:
        try:
            build = load_build_unit(service)
        except ServiceMissing:
            if service in must:
                raise
            log.warning("service not available, skipped", extra={"service": service})
            continue
        units.append(await build(settings, broker=broker, storage=storage, roles=roles))
    return units
