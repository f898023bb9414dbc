"""crawl: removed listings, distributed crawl id

Revision ID: 0002_crawl
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import pipeline.models


revision = "0002_crawl"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("crawl_id", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_crawl_run_crawl_id"), ["crawl_id"], unique=False)
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_at", pipeline.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("removed_reason", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.drop_column("removed_reason")
        batch_op.drop_column("removed_at")
    with op.batch_alter_table("crawl_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crawl_run_crawl_id"))
        batch_op.drop_column("crawl_id")
