"""Server-sent events: one ``data: <json>`` event per streamed message."""

from __future__ import annotations

import json
from typing import Any

MEDIA_TYPE = "text/event-stream"


def sse_event(data: Any, *, event: str | None = None) -> bytes:
    """One event. The JSON is written on one line, so a ``data:`` line never splits."""
    lines = []
    if event:
        lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), ensure_ascii=False))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """(event, data) pairs of an SSE body; event is "message" when unnamed. For clients/tests."""
    events: list[tuple[str, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data_lines = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data_lines.append(line[5:].lstrip())
        if data_lines:
            events.append((name, json.loads("\n".join(data_lines))))
    return events
