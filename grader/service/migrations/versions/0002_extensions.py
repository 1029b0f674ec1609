"""Per-student extensions: one row per (student, assignment).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "extensions",
        sa.Column("user_id", sa.String(100), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("assignment", sa.String(100), primary_key=True),
        sa.Column("days", sa.Float(), nullable=False),
        sa.Column("due", sa.DateTime(), nullable=True),
        sa.Column("granted_by", sa.String(100), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False))


def downgrade() -> None:
    op.drop_table("extensions")
