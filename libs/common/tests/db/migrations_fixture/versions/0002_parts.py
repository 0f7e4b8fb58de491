"""parts

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-01 00:00:01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parts",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("widget_id", sa.String(26), sa.ForeignKey("widgets.id"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("parts")
