"""Drop two columns nothing reads: a submission's release version (the material table says which
release a learner has) and an exercise result's `extra`."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("af_submission") as batch:
        batch.drop_column("release_version")
    with op.batch_alter_table("af_exercise_result") as batch:
        batch.drop_column("extra")


def downgrade() -> None:
    with op.batch_alter_table("af_exercise_result") as batch:
        batch.add_column(sa.Column("extra", sa.JSON, nullable=False, server_default="{}"))
    with op.batch_alter_table("af_submission") as batch:
        batch.add_column(sa.Column("release_version", sa.String(64), nullable=False, server_default=""))
