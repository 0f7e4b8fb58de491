"""Alembic migrations, one history per service, applied into that service's schema.

Layout of a service's migrations (inside its package, so they ship with it)::

    services/<svc>/src/editbay_<svc>/migrations/
        env.py              # 3 lines, see below
        script.py.mako      # the revision template
        versions/0001_initial.py

``env.py`` is always::

    from editbay_common.migrations import run_migrations
    from editbay_<svc>.models import Base

    run_migrations(Base.metadata)

Create the folder (env.py, script.py.mako, empty versions/) with::

    uv run python -m editbay_common.migrations init \\
        services/<svc>/src/editbay_<svc>/migrations --models editbay_<svc>.models

Apply the migrations at service start (idempotent; safe from several processes at once)::

    db = Database(settings.database_url, schema="<svc>")
    await db.migrate(Path(editbay_<svc>.__file__).parent / "migrations")

Create a revision after changing the models: the command first upgrades a database to head,
then compares it with the models and writes ``versions/<rev>_<slug>.py``. Use PostgreSQL where
possible (the schema is created if missing); without ``--url`` a throw-away SQLite file is used::

    uv run python -m editbay_common.migrations revision \\
        services/<svc>/src/editbay_<svc>/migrations --schema <svc> -m "add take ratings" \\
        --url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    uv run ruff format services/<svc>/src/editbay_<svc>/migrations/versions

Always read the generated file: autogenerate does not see renames or data changes. Add
``--rev-id 0002`` for readable, ordered file names, ``--empty`` for a hand-written migration.
``upgrade`` (same arguments, ``--url`` required) applies migrations from the command line.

How it works: ``Database.migrate`` hands the open connection, the URL and the schema to Alembic
through ``Config.attributes``; ``run_migrations`` (in env.py) configures Alembic on that
connection with the version table in the service's schema (``version_table_schema``),
``include_schemas`` off (tables have no schema; ``search_path`` puts them in the service's
schema) and ``render_as_batch`` on SQLite (which cannot ALTER most things in place).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, make_url

CONNECTION_ATTR = "connection"
URL_ATTR = "editbay_url"
SCHEMA_ATTR = "editbay_schema"
SCHEMA_OPTION = "editbay.schema"
VERSION_TABLE = "alembic_version"
TEMPLATE_DIR = Path(__file__).parent / "migrations_template"


def make_alembic_config(url: str, schema: str, migrations_dir: Path) -> Config:
    """An Alembic ``Config`` for one service, without any alembic.ini file."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations_dir)))
    # ConfigParser interpolation: a literal % must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option(SCHEMA_OPTION, schema)
    config.attributes[URL_ATTR] = url
    config.attributes[SCHEMA_ATTR] = schema
    return config


def upgrade_on_connection(
    connection: Connection,
    url: str,
    schema: str,
    migrations_dir: Path,
    revision: str = "head",
) -> None:
    """Upgrade to ``revision`` on an open (sync) connection; used by ``Database.migrate``."""
    config = make_alembic_config(url, schema, migrations_dir)
    config.attributes[CONNECTION_ATTR] = connection
    command.upgrade(config, revision)


def run_migrations(target_metadata: MetaData) -> None:
    """The body of every service's ``env.py``."""
    from alembic import context

    config = context.config
    url = config.attributes.get(URL_ATTR) or config.get_main_option("sqlalchemy.url")
    schema = config.attributes.get(SCHEMA_ATTR) or config.get_main_option(SCHEMA_OPTION)
    if not url or not schema:
        raise RuntimeError("migrations need a database URL and a schema; use Database.migrate")
    if context.is_offline_mode():
        is_sqlite = make_url(url).get_backend_name() == "sqlite"
        context.configure(
            url=url,
            literal_binds=True,
            **_configure_options(target_metadata, schema, is_sqlite=is_sqlite),
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get(CONNECTION_ATTR)
    if connection is not None:
        _run_on_connection(connection, target_metadata, schema)
    else:
        # Plain `alembic` command line with sqlalchemy.url set: open our own async engine.
        asyncio.run(_run_standalone(url, schema, target_metadata))


def _configure_options(metadata: MetaData, schema: str, *, is_sqlite: bool) -> dict[str, Any]:
    return {
        "target_metadata": metadata,
        "version_table": VERSION_TABLE,
        "version_table_schema": None if is_sqlite else schema,
        "include_schemas": False,
        "include_object": _include_object,
        "render_as_batch": is_sqlite,
        "compare_type": True,
    }


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # The version table sits in the default schema (through search_path) but is registered under
    # an explicit schema, so autogenerate would otherwise offer to drop it.
    return not (type_ == "table" and reflected and compare_to is None and name == VERSION_TABLE)


def _run_on_connection(connection: Connection, metadata: MetaData, schema: str) -> None:
    from alembic import context

    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection, **_configure_options(metadata, schema, is_sqlite=is_sqlite)
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone(url: str, schema: str, metadata: MetaData) -> None:
    from sqlalchemy import text

    from editbay_common.db import Database

    db = Database(url, schema=schema)
    try:
        async with db.engine.connect() as conn:
            if db.is_postgres:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                await conn.commit()
            await conn.run_sync(_run_on_connection, metadata, schema)
            await conn.commit()
    finally:
        await db.dispose()


# --- tools for service authors -------------------------------------------------------------


def init_migrations(migrations_dir: Path, models_module: str) -> None:
    """Create ``migrations_dir`` with env.py, script.py.mako and an empty versions/ folder."""
    migrations_dir = Path(migrations_dir)
    if (migrations_dir / "env.py").exists():
        raise FileExistsError(f"{migrations_dir / 'env.py'} already exists")
    (migrations_dir / "versions").mkdir(parents=True, exist_ok=True)
    env = (TEMPLATE_DIR / "env.py.tmpl").read_text().format(models_module=models_module)
    (migrations_dir / "env.py").write_text(env)
    shutil.copyfile(TEMPLATE_DIR / "script.py.mako", migrations_dir / "script.py.mako")


async def autogenerate_revision(
    url: str,
    schema: str,
    migrations_dir: Path,
    message: str,
    *,
    rev_id: str | None = None,
    autogenerate: bool = True,
) -> list[Path]:
    """Upgrade the database at ``url`` to head, then write a new revision comparing it with the
    models. Returns the written file(s)."""
    from editbay_common.db import Database

    db = Database(url, schema=schema)
    try:
        await db.migrate(migrations_dir)
    finally:
        await db.dispose()
    # A fresh engine: its dialect must see the (now existing) schema as the default schema.
    db = Database(url, schema=schema)
    try:
        async with db.engine.connect() as conn:
            scripts = await conn.run_sync(
                _revision_on_connection, url, schema, migrations_dir, message, rev_id, autogenerate
            )
    finally:
        await db.dispose()
    return scripts


def _revision_on_connection(
    connection: Connection,
    url: str,
    schema: str,
    migrations_dir: Path,
    message: str,
    rev_id: str | None,
    autogenerate: bool,
) -> list[Path]:
    config = make_alembic_config(url, schema, migrations_dir)
    config.attributes[CONNECTION_ATTR] = connection
    result = command.revision(config, message=message, autogenerate=autogenerate, rev_id=rev_id)
    scripts = result if isinstance(result, list) else [result]
    return [Path(script.path) for script in scripts if script is not None]


async def _upgrade(url: str, schema: str, migrations_dir: Path) -> None:
    from editbay_common.db import Database

    db = Database(url, schema=schema)
    try:
        await db.migrate(migrations_dir)
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m editbay_common.migrations", description="Per-service Alembic migrations."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="create a service's migrations folder")
    init.add_argument("migrations_dir", type=Path)
    init.add_argument("--models", required=True, help="module holding Base, e.g. editbay_x.models")
    rev = sub.add_parser("revision", help="write a new revision (autogenerated by default)")
    rev.add_argument("migrations_dir", type=Path)
    rev.add_argument("--schema", required=True)
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--url", help="database to compare against (default: throw-away SQLite)")
    rev.add_argument("--rev-id")
    rev.add_argument("--empty", action="store_true", help="do not autogenerate")
    up = sub.add_parser("upgrade", help="apply all migrations")
    up.add_argument("migrations_dir", type=Path)
    up.add_argument("--schema", required=True)
    up.add_argument("--url", required=True)
    args = parser.parse_args(argv)

    if args.command == "init":
        init_migrations(args.migrations_dir, args.models)
        print(f"created {args.migrations_dir}")
    elif args.command == "upgrade":
        asyncio.run(_upgrade(args.url, args.schema, args.migrations_dir))
    else:
        with tempfile.TemporaryDirectory() as scratch:
            url = args.url or f"sqlite+aiosqlite:///{Path(scratch) / 'revision.db'}"
            paths = asyncio.run(
                autogenerate_revision(
                    url,
                    args.schema,
                    args.migrations_dir,
                    args.message,
                    rev_id=args.rev_id,
                    autogenerate=not args.empty,
                )
            )
        for path in paths:
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
