"""Product search: FTS5 over name, brand, department; a lower-cased name index for prefixes.

Revision ID: 0002_product_search
Revises: 0001_initial

Existing products are indexed by the upgrade (name_key backfilled, FTS rebuilt).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_product_search"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("name_key", sa.String(200), nullable=False, server_default=""))
    op.execute("UPDATE products SET name_key = lower(name)")
    op.create_index("ix_products_name_key", "products", ["name_key"])
    op.execute(
        "CREATE VIRTUAL TABLE products_fts USING fts5("
        "name, brand, department, content='products', content_rowid='rowid', "
        "tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
    )
    op.execute(
        "CREATE TRIGGER products_fts_ai AFTER INSERT ON products BEGIN "
        "INSERT INTO products_fts(rowid, name, brand, department) "
        "VALUES (new.rowid, new.name, new.brand, new.department); END"
    )
    op.execute(
        "CREATE TRIGGER products_fts_ad AFTER DELETE ON products BEGIN "
        "INSERT INTO products_fts(products_fts, rowid, name, brand, department) "
        "VALUES ('delete', old.rowid, old.name, old.brand, old.department); END"
    )
    op.execute(
        "CREATE TRIGGER products_fts_au AFTER UPDATE OF name, brand, department ON products "
        "BEGIN "
        "INSERT INTO products_fts(products_fts, rowid, name, brand, department) "
        "VALUES ('delete', old.rowid, old.name, old.brand, old.department); "
        "INSERT INTO products_fts(rowid, name, brand, department) "
        "VALUES (new.rowid, new.name, new.brand, new.department); END"
    )
    op.execute("INSERT INTO products_fts(products_fts) VALUES ('rebuild')")


def downgrade() -> None:
    for trigger in ("products_fts_ai", "products_fts_ad", "products_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS products_fts")
    op.drop_index("ix_products_name_key", "products")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("name_key")
