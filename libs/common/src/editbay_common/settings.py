"""Settings from environment variables (prefix ``EDITBAY_``).

With nothing set, editbay runs on its embedded defaults: SQLite files, the in-process broker and a
local media folder under ``EDITBAY_DATA_DIR``. Set the URLs to run against PostgreSQL, RabbitMQ
and S3.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("catalog", "planner", "renderer", "training")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EDITBAY_", extra="ignore")

    data_dir: Path = Field(Path(".editbay"), description="Folder for SQLite files, media, scratch.")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty means one SQLite file per service in data_dir. "
        "PostgreSQL: postgresql+asyncpg://user@host:5432/db (one schema per service).",
    )
    broker_url: str = Field("memory://", description="memory:// or amqp://user:pass@host:5672/")
    storage_url: str = Field("", description="Empty means data_dir/media; or s3://bucket[/prefix].")
    s3_endpoint_url: str = Field("", description="S3-compatible endpoint; empty for AWS.")
    s3_region: str = Field("us-east-1", description="S3 region.")

    grpc_host: str = Field("127.0.0.1", description="Address the gRPC server binds.")
    grpc_port: int = Field(50051, ge=0, le=65535, description="gRPC port of `editbay serve`.")
    http_host: str = Field("127.0.0.1", description="Address the gateway binds.")
    http_port: int = Field(8080, ge=0, le=65535, description="Gateway HTTP port.")

    catalog_addr: str = Field("127.0.0.1:50051", description="host:port of the catalog service.")
    planner_addr: str = Field("127.0.0.1:50052", description="host:port of the planner service.")
    renderer_addr: str = Field("127.0.0.1:50053", description="host:port of the renderer service.")
    training_addr: str = Field("127.0.0.1:50054", description="host:port of the training service.")

    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    grace_seconds: float = Field(20.0, gt=0, description="Graceful shutdown period on SIGTERM.")
    rpc_timeout_seconds: float = Field(30.0, gt=0, description="Deadline of inter-service calls.")

    max_upload_bytes: int = Field(2 * 1024**3, gt=0, description="Largest accepted upload.")
    render_max_attempts: int = Field(3, ge=1, description="Render attempts before FAILED.")
    render_lease_seconds: float = Field(30.0, gt=0, description="Render worker lease length.")
    render_preset: str = Field("landscape-720p", description="Default render preset.")
    render_chunk_seconds: float = Field(
        0.0, ge=0, description="Split renders longer than twice this into parts of about this "
        "length, rendered by any free worker and joined; 0 renders every job in one piece.",
    )  # fmt: skip
    render_max_parts: int = Field(8, ge=2, le=64, description="Most parts of one chunked render.")
    worker_concurrency: int = Field(1, ge=1, description="Jobs a worker runs at once.")

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    def database_url_for(self, service: str) -> str:
        """The database URL one service uses: its own SQLite file, or the shared server."""
        if self.database_url:
            return self.database_url
        # Imported here: the gateway reads settings but has no database.
        from editbay_common.db import sqlite_url_for

        return sqlite_url_for(self.data_dir, service)

    def storage_url_resolved(self) -> str:
        if self.storage_url:
            return self.storage_url
        return (self.data_dir.resolve() / "media").as_uri()

    def scratch_dir(self, service: str) -> Path:
        """A folder the service may write temporary files into."""
        path = self.data_dir.resolve() / "scratch" / service
        path.mkdir(parents=True, exist_ok=True)
        return path
