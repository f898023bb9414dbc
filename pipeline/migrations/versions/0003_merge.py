"""merge the crawl and review branches into one head

Revision ID: 0003_merge
Revises: 0002_crawl, 0002_review

The two 0002 revisions were written side by side and both revise 0001. Nothing changes in the
schema here; from this revision on there is one head, so ``alembic upgrade head`` and
``alembic revision`` work as documented. Every later revision chains after this one.
"""

revision = "0003_merge"
down_revision = ("0002_crawl", "0002_review")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
