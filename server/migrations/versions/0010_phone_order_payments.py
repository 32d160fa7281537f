"""Card authorisations of phone orders: manual-capture payments and their order's state

A phone order paid "by card link" is authorised for its estimated total plus the store's
headroom (``stores.authorisation_headroom_bp``) by a manual-capture PaymentIntent, and
captured after picking. ``payments`` gains ``capture_method`` (``automatic`` for every
existing payment), ``amount_capturable`` and ``captured_at``; ``phone_order_payments``
holds one row per phone order with a card link: the authorisation, an optional top-up, the
actual total after picking, the shortfall and the decision staff took, and whether the
order was cancelled (its authorisation released, its capture refunded).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("capture_method", sa.String(16), nullable=False, server_default="automatic")
        )
        batch_op.add_column(
            sa.Column("amount_capturable", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "authorisation_headroom_bp", sa.Integer(), nullable=False, server_default="1500"
            )
        )
    op.create_table(
        "phone_order_payments",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("order_no", sa.String(32), nullable=False),
        sa.Column("customer_email", sa.String(254), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("estimated_total", sa.BigInteger(), nullable=False),
        sa.Column("authorised_amount", sa.BigInteger(), nullable=False),
        sa.Column("authorisation_id", sa.Uuid(), nullable=False),
        sa.Column("top_up_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("actual_total", sa.BigInteger(), nullable=True),
        sa.Column("shortfall", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("captured_amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("decision", sa.String(20), nullable=True),
        sa.Column("capture_id", sa.Uuid(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("summary", _DOCUMENT, nullable=True),
        sa.Column("picked", _DOCUMENT, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_phone_order_payments_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "order_id", name=op.f("pk_phone_order_payments")),
    )


def downgrade() -> None:
    op.drop_table("phone_order_payments")
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("authorisation_headroom_bp")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("captured_at")
        batch_op.drop_column("amount_capturable")
        batch_op.drop_column("capture_method")
