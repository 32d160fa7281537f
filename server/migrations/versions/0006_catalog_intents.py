"""catalog_intents: catalog writes to MongoDB journalled before they happen

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_intents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "product_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_intents")),
    )
    with op.batch_alter_table("catalog_intents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_intents_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("catalog_intents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_intents_created_at"))
    op.drop_table("catalog_intents")
