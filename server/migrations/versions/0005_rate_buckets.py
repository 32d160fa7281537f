"""rate_buckets: the per-terminal rate limit shared by every worker

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # UNLOGGED on PostgreSQL: one upsert per request should not cost a WAL record, and the
    # buckets may be lost in a crash (they start full again).
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "rate_buckets",
        sa.Column("terminal_id", sa.Uuid(), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_rate_buckets")),
        prefixes=unlogged,
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
