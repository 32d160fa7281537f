"""Shifts, cash movements and Z reports (docs/manager.md), and the shift of each sale.

A final Z report is never changed or deleted, and each terminal's Z numbers run 1, 2, 3 …
without a gap: both are held by triggers, so no code path can break them.

Revision ID: 0010_shifts
Revises: 0009_approvals
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_shifts"
down_revision = "0009_approvals"
branch_labels = None
depends_on = None

TRIGGERS = (
    """CREATE TRIGGER z_reports_final_unchanged BEFORE UPDATE ON z_reports
    WHEN OLD.status = 'final'
    BEGIN SELECT RAISE(ABORT, 'a final Z report is never changed'); END""",
    """CREATE TRIGGER z_reports_final_kept BEFORE DELETE ON z_reports
    WHEN OLD.status = 'final'
    BEGIN SELECT RAISE(ABORT, 'a final Z report is never deleted'); END""",
    """CREATE TRIGGER z_reports_no_gap BEFORE INSERT ON z_reports
    WHEN NEW.z_number != 1 + (SELECT coalesce(max(z_number), 0) FROM z_reports
                              WHERE terminal_code = NEW.terminal_code)
    BEGIN SELECT RAISE(ABORT, 'Z numbers of a terminal run without a gap'); END""",
    """CREATE TRIGGER z_reports_number_kept BEFORE UPDATE OF z_number, terminal_code ON z_reports
    WHEN NEW.z_number != OLD.z_number OR NEW.terminal_code != OLD.terminal_code
    BEGIN SELECT RAISE(ABORT, 'a Z number is never changed'); END""",
)


def upgrade() -> None:
    op.create_table(
        "shifts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("terminal_code", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.String(40), nullable=False),
        sa.Column("opened_by", sa.String(36), nullable=False),
        sa.Column("opened_by_name", sa.String(60), nullable=False, server_default=""),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("float_count", sa.Text, nullable=False),  # JSON {denomination: pieces}
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("closed_at", sa.String(40)),
        sa.Column("closed_by", sa.String(36)),
        sa.PrimaryKeyConstraint("id", name="pk_shifts"),
    )
    op.create_index("ix_shifts_state", "shifts", ["state"])
    op.create_table(
        "cash_movements",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("shift_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("clerk_id", sa.String(36), nullable=False),
        sa.Column("approval_id", sa.String(36)),
        sa.Column("at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cash_movements"),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name="fk_cash_movements_shift_id_shifts"
        ),
    )
    op.create_index("ix_cash_movements_shift_id", "cash_movements", ["shift_id"])
    op.create_table(
        "z_reports",
        sa.Column("shift_id", sa.String(36), nullable=False),
        sa.Column("terminal_code", sa.String(16), nullable=False),
        sa.Column("z_number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("closed_at", sa.String(40), nullable=False),
        sa.Column("finalised_at", sa.String(40)),
        sa.Column("counted_total", sa.Integer, nullable=False),
        sa.Column("expected_cash", sa.Integer, nullable=False),
        sa.Column("report", sa.Text, nullable=False),  # the whole ZReport as JSON
        sa.PrimaryKeyConstraint("shift_id", name="pk_z_reports"),
        sa.ForeignKeyConstraint(["shift_id"], ["shifts.id"], name="fk_z_reports_shift_id_shifts"),
        sa.UniqueConstraint("terminal_code", "z_number", name="uq_z_reports_terminal_code"),
    )
    op.create_index("ix_z_reports_status", "z_reports", ["status"])
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("shift_id", sa.String(36)))
        batch.create_index("ix_orders_shift_id", ["shift_id"])
    for trigger in TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    for name in (
        "z_reports_number_kept",
        "z_reports_no_gap",
        "z_reports_final_kept",
        "z_reports_final_unchanged",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_shift_id")
        batch.drop_column("shift_id")
    op.drop_table("z_reports")
    op.drop_table("cash_movements")
    op.drop_table("shifts")
