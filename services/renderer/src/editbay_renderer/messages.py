"""The messages the renderer sends, and the one place they enter the outbox.

Work queue ``render`` carries ``RenderRequested``; its dead-letter queue ``render.dead`` gets the
same message when a job gives up. Events: ``render.progress`` (best effort, straight to the
broker), ``render.succeeded`` and ``render.failed`` (through the outbox).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from editbay.events.v1 import events_pb2
from editbay_common.broker import Broker, DeadReason, dead_letter_queue
from editbay_common.broker.base import dead_letter_headers
from editbay_common.outbox import add_to_outbox
from editbay_common.protoconv import to_payload
from editbay_renderer.models import outbox

RENDER_QUEUE = "render"
RENDER_DEAD_QUEUE = dead_letter_queue(RENDER_QUEUE)
PROGRESS_KEY = "render.progress"
SUCCEEDED_KEY = "render.succeeded"
FAILED_KEY = "render.failed"
# Deliveries of one message before the broker dead-letters it. The database counts attempts
# (each attempt gets a new message); a delivery only fails when claiming it fails (database
# down), so this is a safety net, not the attempt limit.
MAX_DELIVERIES = 10


async def declare_queues(broker: Broker) -> None:
    """Declare ``render`` (and ``render.dead``); idempotent, same arguments everywhere."""
    await broker.declare_work_queue(RENDER_QUEUE, max_deliveries=MAX_DELIVERIES)


def _put(
    session: AsyncSession,
    kind: str,
    target: str,
    payload: dict[str, Any],
    headers: dict[str, Any] | None = None,
) -> None:
    add_to_outbox(session, outbox, kind=kind, target=target, payload=payload, headers=headers)


def queue_render(session: AsyncSession, job_name: str) -> None:
    """Ask a worker to run the next attempt of ``job_name`` (in the caller's transaction)."""
    _put(session, "work", RENDER_QUEUE, to_payload(events_pb2.RenderRequested(render_job=job_name)))


def queue_part(session: AsyncSession, job_name: str, attempt_token: str, number: int) -> None:
    """Ask any worker to render part ``number`` of the attempt ``attempt_token``."""
    request = events_pb2.RenderPartRequested(
        render_job=job_name, attempt_token=attempt_token, part=number
    )
    _put(session, "work", RENDER_QUEUE, to_payload(request))


def dead_letter_render(session: AsyncSession, job_name: str, *, reason: str, attempts: int) -> None:
    """Park the job's message in ``render.dead`` for inspection, with the headers a dead letter
    carries (why, after how many attempts), as if the broker had dead-lettered it."""
    payload = to_payload(events_pb2.RenderRequested(render_job=job_name))
    headers = dead_letter_headers(
        {},
        queue=RENDER_QUEUE,
        routing_key=RENDER_QUEUE,
        deliveries=attempts,
        reason=DeadReason.DELIVERY_LIMIT,
        error=reason,
    )
    _put(session, "work", RENDER_DEAD_QUEUE, payload, headers)


def render_succeeded(
    session: AsyncSession,
    *,
    job_name: str,
    episode: str,
    edit_plan: str,
    storage_key: str,
    duration_s: float,
) -> None:
    event = events_pb2.RenderSucceeded(
        render_job=job_name,
        episode=episode,
        edit_plan=edit_plan,
        storage_key=storage_key,
        duration_seconds=duration_s,
    )
    _put(session, "event", SUCCEEDED_KEY, to_payload(event))


def render_failed(session: AsyncSession, *, job_name: str, reason: str, attempts: int) -> None:
    event = events_pb2.RenderFailed(render_job=job_name, reason=reason, attempts=attempts)
    _put(session, "event", FAILED_KEY, to_payload(event))


def progress_payload(job_name: str, attempt: int, percent: float) -> dict[str, Any]:
    return to_payload(
        events_pb2.RenderProgress(render_job=job_name, attempt=attempt, progress_percent=percent)
    )
