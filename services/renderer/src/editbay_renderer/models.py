"""The renderer's tables: render jobs, their attempts, and the outbox.

A job row is the source of truth for where a render is. The lease columns (``attempt_token``,
``lease_expires_at``) say which worker may write to it: only the holder of the current token may
report progress or complete it (see ``jobs.py`` for the state machine).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from editbay_common.outbox import outbox_table


class Base(DeclarativeBase):
    pass


class RenderJobRow(Base):
    __tablename__ = "render_jobs"
    __table_args__ = (
        UniqueConstraint("parent", "request_id", name="uq_render_jobs_request"),
        Index("ix_render_jobs_parent_created", "parent", "create_time"),
        Index("ix_render_jobs_state_lease", "state", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    parent: Mapped[str] = mapped_column(String(200))  # shows/{show}/episodes/{episode}
    edit_plan: Mapped[str] = mapped_column(String(300))
    preset: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    progress_percent: Mapped[float] = mapped_column(Float, default=0.0)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    # The plan's segments at creation time, in scene order: what every attempt renders.
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    expected_duration_s: Mapped[float] = mapped_column(Float)
    request_id: Mapped[str | None] = mapped_column(String(100), nullable=True)

    attempt_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    output_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    output_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    output_duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    output_size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    output_width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    output_height: Mapped[int | None] = mapped_column(Integer, nullable=True)

    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RenderAttemptRow(Base):
    """One claim of a job by a worker, kept for inspection (why did attempt 2 fail?)."""

    __tablename__ = "render_attempts"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32), index=True)
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(200))
    start_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # succeeded | failed | lost | released | cancelled | stale; empty while running
    outcome: Mapped[str] = mapped_column(String(16), default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class RenderPartRow(Base):
    """One part of a chunked render's attempt: a stretch of the picture (frames ``frame_lo`` to
    ``frame_hi``) or the programme's sound. Any worker may claim it; the worker that holds the
    job's attempt joins the parts' outputs (see ``parts.py``)."""

    __tablename__ = "render_parts"
    __table_args__ = (UniqueConstraint("attempt_token", "number", name="uq_render_parts_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32), index=True)
    attempt_token: Mapped[str] = mapped_column(String(32))  # the job attempt it belongs to
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # video | audio
    frame_lo: Mapped[int] = mapped_column(Integer)
    frame_hi: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # QUEUED | RUNNING | SUCCEEDED | FAILED
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    worker: Mapped[str] = mapped_column(String(200), default="")  # who rendered it (last claim)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    output_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(Base.metadata)
