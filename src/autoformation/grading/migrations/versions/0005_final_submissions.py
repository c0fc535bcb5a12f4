"""Funathon challenges: the submissions a team selects for the private leaderboard."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("af_challenge_submission") as batch:
        batch.add_column(sa.Column("final", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("af_challenge_submission") as batch:
        batch.drop_column("final")
