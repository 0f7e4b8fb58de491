"""The planner's tables: edit plans, the request ids already answered, and the outbox.

A plan's choices are stored as one JSON list (in scene order) on the plan row: they are written
once, when generation finishes, and always read with the plan. ``revision`` counts a plan's
changes; its etag is derived from it. While a plan is GENERATING, ``lease_owner`` and
``lease_until`` say which process works on it and until when; a plan whose lease ran out was
left by a process that died (see ``plans.PlanService.fail_abandoned``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
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

ID = String(63)
Time = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


class EditPlan(Base):
    __tablename__ = "edit_plans"
    __table_args__ = (
        UniqueConstraint("show_id", "episode_id", "version", name="uq_edit_plans_version"),
        Index("ix_edit_plans_state_lease", "state", "lease_until"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    show_id: Mapped[str] = mapped_column(ID)
    episode_id: Mapped[str] = mapped_column(ID)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # EditPlan.State name
    generator: Mapped[str] = mapped_column(String(32))  # Generator name
    progress_percent: Mapped[int] = mapped_column(Integer, default=0)
    # [{scene_number, take, take_storage_key, in_s, out_s, confidence, rationale,
    #   candidates: [{take, score, penalties}]}], in scene order.
    choices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total_duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    feedback: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(Time)
    create_time: Mapped[datetime] = mapped_column(Time)
    update_time: Mapped[datetime] = mapped_column(Time)
    review_time: Mapped[datetime | None] = mapped_column(Time)

    # The ORM checks and bumps ``revision`` on every update it makes (optimistic locking).
    __mapper_args__ = {"version_id_col": revision}


class AnsweredRequest(Base):
    """A mutating request already answered: a repeat with the same id returns the same plan."""

    __tablename__ = "answered_requests"

    method: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ID)
    target: Mapped[str] = mapped_column(String(255))  # the request's parent or plan name
    create_time: Mapped[datetime] = mapped_column(Time)


outbox = outbox_table(Base.metadata)
