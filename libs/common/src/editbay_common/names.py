"""Resource names (``shows/{show}/episodes/{episode}/takes/{take}``): parsing and validation.

A name is parsed against a pattern; a malformed one is INVALID_ARGUMENT naming the field.
"""

from __future__ import annotations

import re

from editbay_common.errors import invalid_argument

# Ids users may choose (AIP-122): lowercase letters, digits and hyphens, 1-63 characters,
# starting with a letter or digit. Server-made ids match it too.
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def parse(name: str, pattern: str, *, field: str = "name", domain: str = "editbay.dev") -> dict:
    """Parse ``name`` against ``pattern`` such as ``shows/{show}/episodes/{episode}``.

    Returns the variables, e.g. ``{"show": "kitchen", "episode": "e1"}``.
    """
    parts, template = name.split("/"), pattern.split("/")
    if not name or len(parts) != len(template):
        raise invalid_argument(
            field, f"expected a name like {pattern!r}, got {name!r}", domain=domain
        )
    values: dict[str, str] = {}
    for part, expected in zip(parts, template, strict=True):
        if expected.startswith("{"):
            if not ID_PATTERN.match(part):
                raise invalid_argument(
                    field,
                    f"{expected[1:-1]} id {part!r} in {name!r} is not a valid id",
                    domain=domain,
                )
            values[expected[1:-1]] = part
        elif part != expected:
            raise invalid_argument(
                field, f"expected a name like {pattern!r}, got {name!r}", domain=domain
            )
    return values


def check_id(value: str, *, field: str, domain: str = "editbay.dev") -> str:
    """Validate a client-chosen id."""
    if not ID_PATTERN.match(value):
        raise invalid_argument(
            field, f"{value!r} must be 1-63 lowercase letters, digits or hyphens", domain=domain
        )
    return value
