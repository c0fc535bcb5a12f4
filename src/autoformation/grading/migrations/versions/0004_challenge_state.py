"""Funathon challenges: when the organisers closed one (before the end of its last phase)."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "af_challenge_state",
        sa.Column("challenge", sa.String(128), primary_key=True),
        sa.Column("closed_at", sa.DateTime, nullable=True),
        sa.Column("closed_by", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("af_challenge_state")
