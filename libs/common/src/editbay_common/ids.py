"""Identifiers and timestamps.

``new_id()`` returns a 26-character ULID-style id in lower-case Crockford base32: 48 bits of
Unix time in milliseconds followed by 80 random bits. Ids are URL-safe, fit in resource names
(``shows/{id}``) and storage keys, and sort by creation time as plain strings. Within one
process, ids made in the same millisecond still sort in the order they were made (the random
part is incremented rather than redrawn).
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime

# Crockford's base32 without I, L, O, U: no ambiguous characters, no case issues.
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_RANDOM_BITS = 80
_RANDOM_MAX = (1 << _RANDOM_BITS) - 1
ID_LENGTH = 26

_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _next_parts() -> tuple[int, int]:
    global _last_ms, _last_random
    now_ms = time.time_ns() // 1_000_000
    with _lock:
        if now_ms <= _last_ms:
            # Same millisecond (or the clock stepped back): keep the order by counting up.
            now_ms = _last_ms
            random_part = _last_random + 1
            if random_part > _RANDOM_MAX:  # astronomically unlikely; move to the next ms
                now_ms += 1
                random_part = secrets.randbits(_RANDOM_BITS - 1)
        else:
            # Leave headroom so the in-millisecond increments never overflow in practice.
            random_part = secrets.randbits(_RANDOM_BITS - 1)
        _last_ms, _last_random = now_ms, random_part
    return now_ms, random_part


def new_id() -> str:
    """A new time-ordered, URL-safe id of 26 lower-case characters."""
    ms, random_part = _next_parts()
    return _encode((ms << _RANDOM_BITS) | random_part, ID_LENGTH)


def id_time(value: str) -> datetime:
    """The creation time encoded in an id made by ``new_id`` (millisecond precision)."""
    if len(value) != ID_LENGTH:
        raise ValueError(f"not an id: {value!r}")
    number = 0
    for char in value:
        digit = _ALPHABET.find(char)
        if digit < 0:
            raise ValueError(f"not an id: {value!r}")
        number = number * 32 + digit
    return datetime.fromtimestamp((number >> _RANDOM_BITS) / 1000, tz=UTC)


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
