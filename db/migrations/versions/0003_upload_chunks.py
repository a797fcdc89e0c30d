"""Upload chunks: uploaded videos stored in the database, where every replica reads them.

A job may be claimed by any ingress replica, and a replica's DATA_DIR is its own disk
(on Kubernetes a pod-local emptyDir), so the bytes move from DATA_DIR into this table.
Videos of jobs still queued when this runs stay on the receiving replica's disk, which
the worker no longer reads: those jobs fail with "the uploaded file is gone".

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_chunks",
        sa.Column(
            "analysis_id",
            sa.Integer(),
            sa.ForeignKey("upload_analyses.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("upload_chunks")
