"""Funathon challenges: the level (parcours) a submission came from, and participants' self-checked steps."""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("af_challenge_submission") as batch:
        batch.add_column(sa.Column("level", sa.String(32), nullable=False, server_default=""))
    op.create_table(
        "af_parcours_step",
        sa.Column("challenge", sa.String(128), primary_key=True),
        sa.Column("user", sa.String(255), primary_key=True),
        sa.Column("level", sa.String(32), primary_key=True),
        sa.Column("step", sa.String(128), primary_key=True),
        sa.Column("team", sa.String(255), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("passed_at", sa.DateTime, nullable=True),
        sa.Column("first_at", sa.DateTime, nullable=False),
        sa.Column("last_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("af_parcours_step")
    with op.batch_alter_table("af_challenge_submission") as batch:
        batch.drop_column("level")
