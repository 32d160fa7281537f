"""Shifts, Z reports, manager sessions, the store's time zone and the report summaries (issue 14)

Stores gain ``time_zone`` (IANA, ``Europe/Dublin`` by default): report dates and hours are
its local ones. Orders gain the till's ``shift_id``. ``shifts`` and ``cash_movements`` keep
what the tills' ``shift.opened`` and ``cash.moved`` events told; ``z_reports`` holds one row
per (store, terminal, z_number), provisional then final (a final row never changes).
``manager_sessions`` and ``manager_pin_failures`` back ``POST /api/v1/manager-sessions``.
``report_sales``, ``report_tenders`` and ``report_products`` are the report summaries, kept by
the push in the transaction of each order, void and refund (server/reports/summaries.py);
orders stored before this migration are summed by ``shopsmart-server reports rebuild``.
``terminal_activity`` keeps each terminal's last push and the number of events refused.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_BIG = sa.BigInteger()


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _sum(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, _BIG, nullable=False, server_default="0")


def _store_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=f"fk_{table}_store_id_stores")


def _terminal_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["terminal_id"], ["terminals.id"], name=f"fk_{table}_terminal_id_terminals"
    )


def upgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "time_zone", sa.String(length=64), nullable=False, server_default="Europe/Dublin"
            )
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shift_id", sa.Uuid(), nullable=True))

    op.create_table(
        "shifts",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("terminal_id", sa.Uuid(), nullable=False),
        sa.Column("terminal_code", sa.String(length=64), nullable=False),
        _ts("opened_at"),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("float_amount", _BIG, nullable=False),
        sa.Column("float_count", _DOCUMENT, nullable=False),
        _ts("closed_at", nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        _ts("received_at"),
        _store_fk("shifts"),
        _terminal_fk("shifts"),
        sa.PrimaryKeyConstraint("store_id", "id", name="pk_shifts"),
    )
    op.create_index(
        "ix_shifts_store_id_terminal_code_opened_at",
        "shifts",
        ["store_id", "terminal_code", "opened_at"],
    )

    op.create_table(
        "cash_movements",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("shift_id", sa.Uuid(), nullable=False),
        sa.Column("terminal_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", _BIG, nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("clerk_id", sa.String(length=64), nullable=False),
        sa.Column("approval_id", sa.String(length=64), nullable=True),
        _ts("at"),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        _ts("received_at"),
        _store_fk("cash_movements"),
        _terminal_fk("cash_movements"),
        sa.PrimaryKeyConstraint("store_id", "id", name="pk_cash_movements"),
    )
    op.create_index(
        "ix_cash_movements_store_id_shift_id", "cash_movements", ["store_id", "shift_id"]
    )

    op.create_table(
        "z_reports",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("terminal_code", sa.String(length=64), nullable=False),
        sa.Column("z_number", _BIG, nullable=False),
        sa.Column("shift_id", sa.Uuid(), nullable=False),
        sa.Column("terminal_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _ts("closed_at"),
        sa.Column("closed_by", sa.String(length=64), nullable=False),
        sa.Column("counted", _DOCUMENT, nullable=False),
        sa.Column("counted_total", _BIG, nullable=False),
        sa.Column("expected_cash", _BIG, nullable=False),
        sa.Column("difference", _BIG, nullable=False),
        sa.Column("net_sales", _BIG, nullable=False),
        sa.Column("figures", _DOCUMENT, nullable=False),
        sa.Column("waiting", _DOCUMENT, nullable=False),
        sa.Column("synced_after_close", _DOCUMENT, nullable=False),
        _ts("finalised_at", nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        _ts("received_at"),
        _ts("updated_at"),
        _store_fk("z_reports"),
        _terminal_fk("z_reports"),
        sa.PrimaryKeyConstraint("store_id", "terminal_code", "z_number", name="pk_z_reports"),
        sa.UniqueConstraint("store_id", "shift_id", name="uq_z_reports_store_id"),
    )
    op.create_index("ix_z_reports_store_id_closed_at", "z_reports", ["store_id", "closed_at"])

    op.create_table(
        "manager_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("terminal_id", sa.Uuid(), nullable=False),
        sa.Column("clerk_id", sa.Uuid(), nullable=False),
        _ts("created_at"),
        _ts("expires_at"),
        _store_fk("manager_sessions"),
        _terminal_fk("manager_sessions"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_manager_sessions"),
    )
    op.create_index(
        "ix_manager_sessions_expires_at", "manager_sessions", ["expires_at"], unique=False
    )
    op.create_table(
        "manager_pin_failures",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("clerk_id", sa.Uuid(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _ts("locked_until", nullable=True),
        _store_fk("manager_pin_failures"),
        sa.PrimaryKeyConstraint("store_id", "clerk_id", name="pk_manager_pin_failures"),
    )

    op.create_table(
        "report_sales",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("local_hour", sa.Integer(), nullable=False),
        sa.Column("terminal_code", sa.String(length=64), nullable=False),
        sa.Column("clerk_id", sa.String(length=64), nullable=False),
        sa.Column("clerk_name", sa.String(length=200), nullable=False, server_default=""),
        *(
            _sum(name)
            for name in (
                "orders",
                "gross",
                "discounts",
                "sales",
                "tax",
                "discounted_orders",
                "refunds_count",
                "refunds",
                "voids_count",
                "voids",
            )
        ),
        sa.PrimaryKeyConstraint(
            "store_id",
            "local_date",
            "local_hour",
            "terminal_code",
            "clerk_id",
            name="pk_report_sales",
        ),
    )
    op.create_table(
        "report_tenders",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("terminal_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        _sum("count"),
        _sum("amount"),
        _sum("refunds"),
        sa.PrimaryKeyConstraint(
            "store_id", "local_date", "terminal_code", "kind", name="pk_report_tenders"
        ),
    )
    op.create_table(
        "report_products",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("terminal_code", sa.String(length=64), nullable=False),
        sa.Column("product_key", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("name", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("department", sa.String(length=200), nullable=False, server_default=""),
        _sum("lines"),
        _sum("quantity"),
        _sum("net"),
        sa.PrimaryKeyConstraint(
            "store_id", "local_date", "terminal_code", "product_key", name="pk_report_products"
        ),
    )
    op.create_table(
        "terminal_activity",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("terminal_id", sa.Uuid(), nullable=False),
        _ts("last_push_at", nullable=True),
        _sum("refused"),
        _store_fk("terminal_activity"),
        _terminal_fk("terminal_activity"),
        sa.PrimaryKeyConstraint("store_id", "terminal_id", name="pk_terminal_activity"),
    )


def downgrade() -> None:
    for table in (
        "terminal_activity",
        "report_products",
        "report_tenders",
        "report_sales",
        "manager_pin_failures",
    ):
        op.drop_table(table)
    op.drop_index("ix_manager_sessions_expires_at", table_name="manager_sessions")
    op.drop_table("manager_sessions")
    op.drop_index("ix_z_reports_store_id_closed_at", table_name="z_reports")
    op.drop_table("z_reports")
    op.drop_index("ix_cash_movements_store_id_shift_id", table_name="cash_movements")
    op.drop_table("cash_movements")
    op.drop_index("ix_shifts_store_id_terminal_code_opened_at", table_name="shifts")
    op.drop_table("shifts")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("shift_id")
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
