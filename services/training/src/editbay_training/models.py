"""The training service's tables: reference videos, style profiles and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from editbay_common.outbox import outbox_table


class Base(DeclarativeBase):
    pass


class ReferenceVideo(Base):
    __tablename__ = "reference_videos"
    __table_args__ = (UniqueConstraint("show", "request_id", name="uq_reference_request"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    show: Mapped[str] = mapped_column(String(64), index=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16))  # QUEUED, RUNNING, SUCCEEDED, FAILED
    progress_percent: Mapped[float] = mapped_column(Float, default=0.0)
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    # The measured VideoStyle plus the shot lengths, which profiles pool.
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    @property
    def name(self) -> str:
        return f"shows/{self.show}/referenceVideos/{self.id}"


class StyleProfile(Base):
    __tablename__ = "style_profiles"

    show: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference_video_count: Mapped[int] = mapped_column(Integer)
    style: Mapped[dict[str, Any]] = mapped_column(JSON)
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(Base.metadata)
