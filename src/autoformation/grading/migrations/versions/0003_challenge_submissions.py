"""Funathon challenges: the teams' prediction files and their scores."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "af_challenge_submission",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("challenge", sa.String(128), nullable=False),
        sa.Column("team", sa.String(255), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("public", sa.JSON, nullable=False),
        sa.Column("private", sa.JSON, nullable=False),
    )
    op.create_index("ix_af_challenge_submission_challenge", "af_challenge_submission", ["challenge"])
    op.create_index("ix_af_challenge_submission_status", "af_challenge_submission", ["status"])


def downgrade() -> None:
    op.drop_table("af_challenge_submission")
