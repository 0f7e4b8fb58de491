"""Alembic env.py of the test migrations: the same three lines a service uses, with the models
declared here instead of imported."""

import sqlalchemy as sa

from editbay_common.migrations import run_migrations

metadata = sa.MetaData()

sa.Table(
    "widgets",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
)
sa.Table(
    "parts",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("widget_id", sa.String(26), sa.ForeignKey("widgets.id"), nullable=False),
)

# Tests append columns here to check autogenerate:
# EXTRA_COLUMNS

run_migrations(metadata)
