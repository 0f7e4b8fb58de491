"""The catalog's own error constructors (domain ``catalog.editbay.dev``)."""

from __future__ import annotations

import grpc

from editbay_catalog.resources import DOMAIN
from editbay_common.errors import ServiceError, invalid_argument, not_found


def missing(resource: str, name: str) -> ServiceError:
    """NOT_FOUND, reason ``<RESOURCE>_NOT_FOUND``."""
    return not_found(resource, name, domain=DOMAIN)


def invalid(
    field: str, problem: str, *, reason: str = "INVALID_FIELD", **meta: object
) -> ServiceError:
    """INVALID_ARGUMENT naming ``field`` in the ErrorInfo metadata."""
    return invalid_argument(field, problem, domain=DOMAIN, reason=reason, **meta)


def exists(resource: str, name: str, message: str | None = None) -> ServiceError:
    """ALREADY_EXISTS, reason ``<RESOURCE>_ALREADY_EXISTS``."""
    return ServiceError(
        grpc.StatusCode.ALREADY_EXISTS,
        f"{resource.upper()}_ALREADY_EXISTS",
        message or f"{resource} {name!r} already exists",
        domain=DOMAIN,
        name=name,
    )


def etag_mismatch(name: str, given: str, current: str) -> ServiceError:
    """ABORTED: the client's etag is not the resource's current one."""
    return ServiceError(
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
        f"{name} changed since it was read (etag {given} is not the current {current})",
        domain=DOMAIN,
        name=name,
        etag=current,
    )


def not_deleted(resource: str, name: str) -> ServiceError:
    """Undelete of a live resource: ALREADY_EXISTS as AIP-164 asks."""
    return ServiceError(
        grpc.StatusCode.ALREADY_EXISTS,
        f"{resource.upper()}_NOT_DELETED",
        f"{resource} {name!r} is not deleted",
        domain=DOMAIN,
        name=name,
    )
