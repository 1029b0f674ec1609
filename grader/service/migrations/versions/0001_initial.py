"""The first schema: users, login codes, API tokens, sessions, submissions, jobs, results,
releases.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _text(name: str, length: int, **kw: object) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=False, **kw)  # type: ignore[arg-type]


def upgrade() -> None:
    op.create_table(
        "users", _text("id", 100, primary_key=True), _text("role", 20), _text("name", 200),
        _text("email", 200), _text("id_number", 100), _text("section", 100),
        _text("sis_user_id", 100), _text("sis_login_id", 100),
        sa.Column("created_at", sa.DateTime(), nullable=False))
    op.create_table(
        "login_codes", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(100), sa.ForeignKey("users.id"), nullable=False),
        _text("code_hash", 200), sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True))
    op.create_index("ix_login_codes_user_id", "login_codes", ["user_id"])
    op.create_table(
        "api_tokens", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(100), sa.ForeignKey("users.id"), nullable=False),
        _text("token_hash", 200), sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True))
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "web_sessions", _text("id", 64, primary_key=True),
        sa.Column("user_id", sa.String(100), sa.ForeignKey("users.id"), nullable=False),
        _text("csrf", 64), sa.Column("expires_at", sa.DateTime(), nullable=False))
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "submissions", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(100), sa.ForeignKey("users.id"), nullable=False),
        _text("assignment", 100), _text("filename", 300), _text("stored", 300),
        _text("sha256", 64), _text("status", 20),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=True))
    op.create_index("ix_submissions_user_assignment", "submissions", ["user_id", "assignment"])
    op.create_table(
        "jobs", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"),
                  nullable=False),
        _text("state", 20), sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True))
    op.create_index("ix_jobs_submission_id", "jobs", ["submission_id"])
    op.create_index("ix_jobs_state", "jobs", ["state", "id"])
    op.create_table(
        "results", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"),
                  nullable=False),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("graded_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("job_id"))
    op.create_index("ix_results_submission_id", "results", ["submission_id"])
    op.create_table(
        "releases", _text("assignment", 100, primary_key=True),
        sa.Column("released_at", sa.DateTime(), nullable=False), _text("released_by", 100))


def downgrade() -> None:
    for table in ("releases", "results", "jobs", "submissions", "web_sessions", "api_tokens",
                  "login_codes", "users"):
        op.drop_table(table)
