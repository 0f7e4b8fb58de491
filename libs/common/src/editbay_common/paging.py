"""List pagination (AIP-158) and simple filters (AIP-160 subset).

Page tokens are opaque to clients: base64 of the offset and a fingerprint of the request's
filter and order, so a token cannot be replayed against a different query.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass

from editbay_common.errors import invalid_argument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
# Tokens are base64 JSON a client can edit; an offset past this is no page we ever handed out,
# and one past 2**63 would make the database refuse the query (an INTERNAL error).
MAX_OFFSET = 2**31 - 1


@dataclass(frozen=True)
class Page:
    offset: int
    size: int
    fingerprint: str

    def next_token(self, returned: int, has_more: bool) -> str:
        if not has_more:
            return ""
        raw = json.dumps({"o": self.offset + returned, "f": self.fingerprint}).encode()
        return base64.urlsafe_b64encode(raw).decode()


def page(
    page_size: int,
    page_token: str,
    *query: str,
    default_size: int = DEFAULT_PAGE_SIZE,
    domain: str = "editbay.dev",
) -> Page:
    """Validate ``page_size`` and ``page_token`` for a query described by ``query`` strings."""
    if page_size < 0:
        raise invalid_argument("page_size", "must not be negative", domain=domain)
    size = min(page_size or default_size, MAX_PAGE_SIZE)
    fingerprint = hashlib.sha256("\x00".join(query).encode()).hexdigest()[:16]
    if not page_token:
        return Page(0, size, fingerprint)
    try:
        data = json.loads(base64.urlsafe_b64decode(page_token.encode()))
        offset = int(data["o"])
        if data["f"] != fingerprint or not 0 <= offset <= MAX_OFFSET:
            raise ValueError
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        raise invalid_argument(
            "page_token",
            "is not a token from a previous call with the same query",
            domain=domain,
        ) from None
    return Page(offset, size, fingerprint)


_TERM = re.compile(r'^\s*([a-z_][a-z0-9_.]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$')


def parse_filter(text: str, allowed: set[str], *, domain: str = "editbay.dev") -> dict[str, str]:
    """Parse ``a = 1 AND b = "x y"`` into ``{"a": "1", "b": "x y"}``; only ``allowed`` fields."""
    if not text.strip():
        return {}
    result: dict[str, str] = {}
    for term in re.split(r"\s+AND\s+", text.strip()):
        match = _TERM.match(term)
        if not match:
            raise invalid_argument(
                "filter",
                f"cannot parse {term!r}; use field = value joined with AND",
                domain=domain,
            )
        field, value = match.groups()
        if field not in allowed:
            raise invalid_argument(
                "filter",
                f"unknown field {field!r}; filterable: {', '.join(sorted(allowed))}",
                domain=domain,
            )
        result[field] = _unquote(value, domain) if value.startswith('"') else value
    return result


def _unquote(value: str, domain: str) -> str:
    """The text of a double-quoted filter value; JSON escapes (``\\"``, ``\\\\``, ``\\u00e9``)."""
    try:
        return str(json.loads(value))
    except json.JSONDecodeError as error:
        raise invalid_argument(
            "filter", f"bad escape in {value}: {error.msg}", domain=domain
        ) from None


def parse_order_by(
    text: str, allowed: set[str], default: str, *, domain: str = "editbay.dev"
) -> tuple[str, bool]:
    """Parse ``field`` or ``field desc``; returns (field, descending)."""
    words = (text.strip() or default).split()
    if (
        len(words) not in (1, 2)
        or words[0] not in allowed
        or (len(words) == 2 and words[1].lower() not in ("asc", "desc"))
    ):
        raise invalid_argument(
            "order_by",
            f"use one of {', '.join(sorted(allowed))}, optionally followed by desc",
            domain=domain,
        )
    return words[0], len(words) == 2 and words[1].lower() == "desc"
