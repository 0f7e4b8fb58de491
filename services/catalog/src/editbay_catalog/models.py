"""The catalog's tables: shows, episodes, scripts, scenes, takes, and the outbox.

Every table lives in the catalog's own schema (PostgreSQL ``search_path``) or its own SQLite
file. Soft-deleted rows keep their data and get ``delete_time``. ``revision`` counts the changes
of a row; its etag is derived from it (see ``resources.etag``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from editbay_common.outbox import outbox_table

ID = String(63)
Time = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


class Show(Base):
    __tablename__ = "shows"
    __table_args__ = (UniqueConstraint("request_id", name="uq_shows_request_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[str | None] = mapped_column(String(100))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    create_time: Mapped[datetime] = mapped_column(Time)
    update_time: Mapped[datetime] = mapped_column(Time)
    delete_time: Mapped[datetime | None] = mapped_column(Time)


class Episode(Base):
    __tablename__ = "episodes"
    __table_args__ = (
        ForeignKeyConstraint(["show_id"], ["shows.id"], name="fk_episodes_show"),
        UniqueConstraint("request_id", name="uq_episodes_request_id"),
    )

    show_id: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[str | None] = mapped_column(String(100))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # The final video, set by render.succeeded.
    final_render_job: Mapped[str | None] = mapped_column(String(255))
    final_storage_key: Mapped[str | None] = mapped_column(String(512))
    final_duration_s: Mapped[float | None] = mapped_column(Float)
    final_render_time: Mapped[datetime | None] = mapped_column(Time)
    create_time: Mapped[datetime] = mapped_column(Time)
    update_time: Mapped[datetime] = mapped_column(Time)
    delete_time: Mapped[datetime | None] = mapped_column(Time)


class Script(Base):
    """The singleton script of an episode; created (empty) with the episode."""

    __tablename__ = "scripts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["show_id", "episode_id"], ["episodes.show_id", "episodes.id"], name="fk_scripts_ep"
        ),
    )

    show_id: Mapped[str] = mapped_column(ID, primary_key=True)
    episode_id: Mapped[str] = mapped_column(ID, primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    scene_count: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    update_time: Mapped[datetime] = mapped_column(Time)


class Scene(Base):
    """A scene as written in the script; rebuilt whenever the script changes."""

    __tablename__ = "scenes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["show_id", "episode_id"], ["episodes.show_id", "episodes.id"], name="fk_scenes_ep"
        ),
    )

    show_id: Mapped[str] = mapped_column(ID, primary_key=True)
    episode_id: Mapped[str] = mapped_column(ID, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")


class Take(Base):
    __tablename__ = "takes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["show_id", "episode_id"], ["episodes.show_id", "episodes.id"], name="fk_takes_ep"
        ),
        UniqueConstraint("request_id", name="uq_takes_request_id"),
        # One live take per scene and take number; deleted ones may repeat.
        Index(
            "uq_takes_live_number",
            "show_id",
            "episode_id",
            "scene_number",
            "take_number",
            unique=True,
            postgresql_where=text("delete_time IS NULL"),
            sqlite_where=text("delete_time IS NULL"),
        ),
        Index("ix_takes_episode", "show_id", "episode_id", "scene_number", "take_number"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    show_id: Mapped[str] = mapped_column(ID)
    episode_id: Mapped[str] = mapped_column(ID)
    scene_number: Mapped[int] = mapped_column(Integer)
    take_number: Mapped[int] = mapped_column(Integer)
    original_filename: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))  # Take.State name: READY, FAILED, ...
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    storage_key: Mapped[str] = mapped_column(String(512))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # MediaInfo.to_dict() and the analysis (silence map, loudness, preview keys) as JSON.
    media: Mapped[dict[str, Any]] = mapped_column(JSON)
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(100))
    create_time: Mapped[datetime] = mapped_column(Time)
    update_time: Mapped[datetime] = mapped_column(Time)
    delete_time: Mapped[datetime | None] = mapped_column(Time)


outbox = outbox_table(Base.metadata)
