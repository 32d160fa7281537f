"""The product summary per store, local date and product, without the till (issue 14)

``report_product_days`` sums the same lines as ``report_products`` without the terminal: the
departments and products reports read it when no terminal is asked for (a month is one row
per day and product instead of one per day, till and product). It is filled here from
``report_products`` and kept from then on by the push in the transaction of each order and
void (server/reports/summaries.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sum(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "report_product_days",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("product_key", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("name", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("department", sa.String(length=200), nullable=False, server_default=""),
        _sum("lines"),
        _sum("quantity"),
        _sum("net"),
        sa.PrimaryKeyConstraint(
            "store_id", "local_date", "product_key", name="pk_report_product_days"
        ),
    )
    op.execute(
        "INSERT INTO report_product_days (store_id, local_date, product_key, sku, name,"
        " department, lines, quantity, net)"
        " SELECT store_id, local_date, product_key, max(sku), max(name), max(department),"
        " sum(lines), sum(quantity), sum(net)"
        " FROM report_products GROUP BY store_id, local_date, product_key"
    )


def downgrade() -> None:
    op.drop_table("report_product_days")
