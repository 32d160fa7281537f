"""Manager approvals (each used once, for one action on one subject) and when a clerk's row
was last changed (``clerk.saved``: the newest change wins).

Revision ID: 0009_approvals
Revises: 0008_unusable_rows
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_approvals"
down_revision = "0008_unusable_rows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("asked_by", sa.String(36), nullable=False),
        sa.Column("approved_by", sa.String(36), nullable=False),
        sa.Column("terminal_code", sa.String(20), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("used_at", sa.String(40)),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
    )
    with op.batch_alter_table("clerks") as batch:
        batch.add_column(sa.Column("updated_at", sa.String(40)))


def downgrade() -> None:
    with op.batch_alter_table("clerks") as batch:
        batch.drop_column("updated_at")
    op.drop_table("approvals")
