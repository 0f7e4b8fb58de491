"""Database access: one async SQLAlchemy engine per service, on PostgreSQL or SQLite.

PostgreSQL (production): every service owns one schema in a shared database. Connections set
``search_path=<schema>`` (asyncpg ``server_settings``), so models declare tables without a
schema and land in the service's own schema. ``pool_pre_ping`` replaces connections the server
dropped (restart, failover, idle timeout).

SQLite (all-in-one mode): every service has its own file (``sqlite_url_for``); the schema name
is ignored. Each connection turns on WAL (readers do not block the writer), foreign keys and a
busy timeout. Transactions really begin at ``BEGIN`` (the pysqlite default would start them only
at the first write, so a read followed by a write would not be atomic).

Units of work::

    async with db.transaction() as session:          # commit on success, rollback on error
        session.add(Show(...))

    async def claim(session: AsyncSession) -> Job | None: ...
    job = await db.run_in_transaction(claim)          # retried on disconnect/serialization/deadlock

``run_in_transaction`` may run ``fn`` more than once, so ``fn`` must only touch the database
through its session (no messages sent, no files written): put outgoing messages in an outbox
table in the same transaction. If the connection breaks during COMMIT the outcome is unknown and
the unit of work runs again, so it should also be idempotent (for example keyed by request id).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# SQLSTATEs after which running the whole unit of work again is expected to succeed.
_RETRYABLE_SQLSTATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "57P01",  # admin_shutdown (pg_terminate_backend, server restart)
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (server starting up)
}
_SQLITE_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (primary codes)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option read by the SQLite "begin" hook: "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN_OPTION = "editbay_sqlite_begin"


def sqlite_url_for(data_dir: Path, service: str) -> str:
    """The SQLite URL of ``service``'s own database file in ``data_dir`` (created if missing)."""
    if not _SCHEMA_RE.match(service):
        raise ValueError(f"service name must be a lower-case identifier, got {service!r}")
    data_dir = Path(data_dir).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{data_dir / f'{service}.db'}"


def advisory_lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` derived from ``name``."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def is_retryable(error: BaseException) -> bool:
    """True if running the unit of work again may succeed (lost connection, conflict, lock)."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate is not None:
        return sqlstate in _RETRYABLE_SQLSTATES or str(sqlstate).startswith("08")
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _SQLITE_BUSY_CODES
    if isinstance(orig, sqlite3.OperationalError) or "sqlite" in type(orig).__module__:
        message = str(orig).lower()
        return "database is locked" in message or "database table is locked" in message
    return False


class Database:
    """An async engine and session factory for one service's schema (or SQLite file)."""

    def __init__(self, url: str, *, schema: str, echo: bool = False) -> None:
        if not _SCHEMA_RE.match(schema):
            raise ValueError(f"schema must be a lower-case identifier, got {schema!r}")
        self.url = url
        self.schema = schema
        parsed = make_url(url)
        self._backend = parsed.get_backend_name()
        if self._backend == "postgresql":
            self.engine: AsyncEngine = create_async_engine(
                url,
                echo=echo,
                pool_pre_ping=True,
                connect_args={"server_settings": {"search_path": schema}},
            )
        elif self._backend == "sqlite":
            self.engine = create_async_engine(url, echo=echo)
            _install_sqlite_hooks(self.engine)
        else:
            raise ValueError(f"unsupported database URL {parsed.render_as_string()!r}")
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )

    @property
    def is_postgres(self) -> bool:
        return self._backend == "postgresql"

    @property
    def is_sqlite(self) -> bool:
        return self._backend == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside a transaction: committed on success, rolled back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def run_in_transaction(
        self,
        fn: Callable[[AsyncSession], Awaitable[T]],
        *,
        retries: int = 3,
    ) -> T:
        """Run ``fn(session)`` in a transaction; run it again (up to ``retries`` more times) if
        the connection was lost or the database reported a serialization failure, deadlock or
        (SQLite) a busy lock. See the module docstring for what ``fn`` may do."""
        attempt = 0
        while True:
            try:
                async with self.transaction() as session:
                    return await fn(session)
            except DBAPIError as error:
                if attempt >= retries or not is_retryable(error):
                    raise
                attempt += 1
                delay = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
                # SQLite reports a busy lock at once when a read transaction starts writing after
                # another writer committed: a normal event there, not worth a warning.
                level = logging.INFO if self.is_sqlite else logging.WARNING
                log.log(
                    level,
                    "retrying unit of work after a transient database error",
                    extra={"attempt": attempt, "error": str(error.orig)[:200]},
                )
                await asyncio.sleep(delay)

    async def migrate(self, migrations_dir: Path) -> None:
        """Bring this service's schema to the newest Alembic revision in ``migrations_dir``.

        Safe at every start and from several processes at once: on PostgreSQL a session advisory
        lock keyed on the schema serializes migrators; on SQLite the migration runs in a
        ``BEGIN IMMEDIATE`` transaction, which holds the file's write lock.
        """
        # Imported here: alembic is only needed by the processes that migrate.
        from editbay_common.migrations import upgrade_on_connection

        migrations_dir = Path(migrations_dir)
        if self.is_postgres:
            key = advisory_lock_key(f"editbay.migrate.{self.schema}")
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                await conn.commit()
                try:
                    await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                    await conn.commit()
                    await conn.run_sync(
                        upgrade_on_connection, self.url, self.schema, migrations_dir
                    )
                    await conn.commit()
                finally:
                    await _unlock(conn, key)
        else:
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
                async with conn.begin():
                    await conn.run_sync(
                        upgrade_on_connection, self.url, self.schema, migrations_dir
                    )

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _unlock(conn: AsyncConnection, key: int) -> None:
    try:
        if conn.in_transaction():
            await conn.rollback()
        await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        await conn.commit()
    except DBAPIError:
        # The connection is broken; the server released the session lock when it closed.
        log.warning("could not release the migration lock; the connection is gone")


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy's "begin" hook below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode
        _enable_wal(cursor)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def _enable_wal(cursor: Any) -> None:
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() == "wal":
        return
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception as error:
        # Converting a new file to WAL fails at once (no busy wait) while another connection
        # holds a lock on it, which here is another connection doing this same conversion.
        # WAL is stored in the file, so this connection uses it as soon as that one is done.
        if "locked" not in str(error).lower():
            raise
        log.info("another connection is switching the SQLite file to WAL mode")
