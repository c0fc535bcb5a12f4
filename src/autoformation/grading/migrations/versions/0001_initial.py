"""The grading database as the first releases created it (submissions, results, material versions)."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "af_submission",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("course", sa.String(128), nullable=False),
        sa.Column("assignment", sa.String(128), nullable=False),
        sa.Column("notebook", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("release_version", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=True),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("max_score", sa.Float, nullable=False),
        sa.Column("feedback_html", sa.Text, nullable=False),
    )
    op.create_table(
        "af_exercise_result",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("af_submission.id"), nullable=False),
        sa.Column("grade_id", sa.String(255), nullable=False),
        sa.Column("points", sa.Float, nullable=False),
        sa.Column("max_points", sa.Float, nullable=False),
        sa.Column("manual", sa.Boolean, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("extra", sa.JSON, nullable=False),
    )
    op.create_index("ix_af_submission_user", "af_submission", ["user"])
    op.create_index("ix_af_submission_status", "af_submission", ["status"])
    op.create_index("ix_af_exercise_result_submission_id", "af_exercise_result", ["submission_id"])
    op.create_table(
        "af_material",
        sa.Column("user", sa.String(255), primary_key=True),
        sa.Column("course", sa.String(128), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("af_material")
    op.drop_table("af_exercise_result")
    op.drop_table("af_submission")
