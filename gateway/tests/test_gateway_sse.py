"""Server-sent event formatting."""

from __future__ import annotations

from editbay_gateway.sse import parse_sse, sse_event


def test_one_data_line_per_message() -> None:
    raw = sse_event({"name": "a", "text": "two\nlines", "progressPercent": 50})
    text = raw.decode()
    assert text.endswith("\n\n")
    assert text.count("\n") == 2  # the JSON never spans lines
    assert text.startswith("data: {")
    assert parse_sse(text) == [
        ("message", {"name": "a", "text": "two\nlines", "progressPercent": 50})
    ]


def test_named_events_round_trip() -> None:
    body = sse_event({"a": 1}) + sse_event({"error": {"code": 404}}, event="error")
    assert parse_sse(body.decode()) == [("message", {"a": 1}), ("error", {"error": {"code": 404}})]
