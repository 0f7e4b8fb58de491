"""Consumer spans: a handler runs in a CONSUMER span that is a child of the producer's span."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from editbay_common import tracing
from editbay_common.broker import Delivery
from editbay_common.broker.memory import InProcessBroker


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # A private provider instead of the global one, which can be set only once per process.
    monkeypatch.setattr(tracing.trace, "get_tracer", provider.get_tracer)
    return exporter


async def test_handler_runs_in_a_consumer_span_child_of_the_producer(
    exporter: InMemorySpanExporter,
) -> None:
    broker = InProcessBroker()
    await broker.declare_work_queue("work")
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("producer") as producer:
        await broker.enqueue("work", {"a": 1}, message_id="m1")
    handled = asyncio.Event()
    inner: list[trace.SpanContext] = []

    async def handler(delivery: Delivery) -> None:
        inner.append(trace.get_current_span().get_span_context())
        handled.set()

    consumer = await broker.consume("work", handler)
    await asyncio.wait_for(handled.wait(), 10)
    await consumer.cancel()

    [span] = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert span.name == "work process"
    assert span.attributes["messaging.message.id"] == "m1"
    assert span.attributes["messaging.rabbitmq.delivery_count"] == 1
    assert span.parent is not None
    assert span.parent.span_id == producer.get_span_context().span_id
    assert span.context.trace_id == producer.get_span_context().trace_id
    assert inner[0].span_id == span.context.span_id


async def test_failed_handler_marks_the_span_as_an_error(exporter: InMemorySpanExporter) -> None:
    broker = InProcessBroker()
    await broker.declare_work_queue("work", max_deliveries=1)
    await broker.enqueue("work", {"a": 1})

    async def handler(delivery: Delivery) -> None:
        raise RuntimeError("kaput")

    consumer = await broker.consume("work", handler)
    async with asyncio.timeout(10):
        while await broker.queue_depth("work.dead") == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await consumer.cancel()
    [span] = exporter.get_finished_spans()
    assert not span.status.is_ok
    assert any(event.name == "exception" for event in span.events)


def test_existing_traceparent_is_kept() -> None:
    kept = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert tracing.inject_context({"traceparent": kept})["traceparent"] == kept
    assert "traceparent" not in tracing.inject_context(None)  # no active span: nothing to add
