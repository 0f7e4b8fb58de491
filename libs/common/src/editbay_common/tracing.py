"""OpenTelemetry context propagation through message headers.

A producer injects the current trace context into a message's headers (W3C ``traceparent`` and
``tracestate``); a consumer extracts it and runs its handler inside a CONSUMER span that is a
child of the producer's span, so one trace follows a request across RabbitMQ (or the in-process
broker) and the transactional outbox.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

TRACER_NAME = "editbay_common.broker"
TRACEPARENT = "traceparent"


def inject_context(headers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return a copy of ``headers`` carrying the current trace context.

    A ``traceparent`` already present is kept: a message captured earlier (an outbox row) must
    keep the context of the transaction that wrote it, not the relay's.
    """
    result = dict(headers or {})
    if TRACEPARENT in result:
        return result
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    result.update(carrier)
    return result


def capture_context() -> dict[str, str]:
    """The current trace context as a header dict (empty when there is no active span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, Any] | None) -> otel_context.Context:
    """The trace context carried by message headers (an empty context when there is none)."""
    carrier = {k: v for k, v in (headers or {}).items() if isinstance(v, str)}
    return propagate.extract(carrier)


@contextmanager
def use_context(headers: Mapping[str, Any] | None) -> Iterator[None]:
    """Make the context carried by ``headers`` current for the duration of the block."""
    token = otel_context.attach(extract_context(headers))
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def consumer_span(
    headers: Mapping[str, Any] | None,
    *,
    destination: str,
    message_id: str,
    delivery_count: int,
) -> Iterator[Span]:
    """Run the block in a CONSUMER span whose parent is the context carried by ``headers``.

    Without a configured tracer provider the span is a no-op; the extracted parent context is
    still current inside the block, so a handler's own outgoing messages keep the trace.
    """
    tracer = trace.get_tracer(TRACER_NAME)
    with use_context(headers):
        span = tracer.start_span(
            f"{destination} process",
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.operation": "process",
                "messaging.destination.name": destination,
                "messaging.message.id": message_id,
                "messaging.rabbitmq.delivery_count": delivery_count,
            },
        )
        if not span.get_span_context().is_valid:
            # A no-op tracer returns an invalid span; making it current would hide the parent.
            yield span
            return
        with trace.use_span(
            span, end_on_exit=True, record_exception=True, set_status_on_exception=True
        ):
            yield span


def mark_current_span_failed(exc: BaseException, description: str) -> None:
    """Record a handled exception on the current span (the consumer span) and mark it failed."""
    span = trace.get_current_span()
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, description))
