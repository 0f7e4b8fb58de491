"""Outbox fixtures: a database (SQLite file or a throwaway PostgreSQL schema) and a broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from editbay_common.broker import BrokerError
from editbay_common.broker.memory import InProcessBroker
from editbay_common.outbox import outbox_table

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass
class OutboxDb:
    dialect: str
    sessions: async_sessionmaker[AsyncSession]
    outbox: Table
    things: Table  # a service's own table, changed in the same transactions


def _tables() -> tuple[MetaData, Table, Table]:
    metadata = MetaData()
    outbox = outbox_table(metadata)
    things = Table(
        "things",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(50), nullable=False),
    )
    return metadata, outbox, things


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgres", marks=pytest.mark.postgres),
    ]
)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OutboxDb]:
    if request.param == "sqlite":
        async with _sqlite(tmp_path) as value:
            yield value
    else:
        async with _postgres() as value:
            yield value


@pytest.fixture
async def pg_db() -> AsyncIterator[OutboxDb]:
    """PostgreSQL only (tests using it carry the postgres mark)."""
    async with _postgres() as value:
        yield value


@asynccontextmanager
async def _sqlite(tmp_path: Path) -> AsyncIterator[OutboxDb]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    metadata, outbox, things = _tables()
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield OutboxDb("sqlite", async_sessionmaker(engine, expire_on_commit=False), outbox, things)
    finally:
        await engine.dispose()


@asynccontextmanager
async def _postgres() -> AsyncIterator[OutboxDb]:
    schema = f"test_outbox_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_async_engine(
        POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}}
    )
    metadata, outbox, things = _tables()
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield OutboxDb(
            "postgresql", async_sessionmaker(engine, expire_on_commit=False), outbox, things
        )
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


class FlakyBroker(InProcessBroker):
    """The in-process broker, failing the next ``failures`` publishes as if the server were
    down, and pausing in each publish so concurrent relays really interleave."""

    def __init__(self) -> None:
        super().__init__(f"outbox-{uuid.uuid4().hex}")
        self.failures = 0
        self.calls = 0

    async def _maybe_fail(self) -> None:
        self.calls += 1
        await asyncio.sleep(0.001)
        if self.failures > 0:
            self.failures -= 1
            raise BrokerError("connection to the broker lost")

    async def enqueue(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:
        await self._maybe_fail()
        await super().enqueue(queue, payload, **kwargs)

    async def publish(self, routing_key: str, payload: dict[str, Any], **kwargs: Any) -> None:
        await self._maybe_fail()
        await super().publish(routing_key, payload, **kwargs)


@pytest.fixture
async def broker() -> AsyncIterator[FlakyBroker]:
    instance = FlakyBroker()
    await instance.start()
    yield instance
    await instance.close()


async def _eventually(check: Callable[[], Awaitable[bool]], *, within: float = 30.0) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polling state outside our control
            await asyncio.sleep(0.02)


@pytest.fixture
def eventually() -> Callable[..., Awaitable[None]]:
    return _eventually
