"""An index on the per-till product summary by store, terminal and local date (issue 14)

``report_products``' key begins with the local date, so a report for one till (the
departments and products reports with a terminal) scanned every till's rows of the range;
``ix_report_products_store_id_terminal_code_local_date`` finds one till's rows alone. Its
columns never change on the push's adding upsert, so those updates stay as cheap as before.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 00:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_report_products_store_id_terminal_code_local_date",
        "report_products",
        ["store_id", "terminal_code", "local_date"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_report_products_store_id_terminal_code_local_date", table_name="report_products"
    )
