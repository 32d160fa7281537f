"""product_barcodes: a barcode belongs to one product, in the documents as in the index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 16:30:00

The primary key of ``product_barcodes`` (one row per barcode) is the constraint; until now a
save took a barcode over from the product that held it (``ON CONFLICT DO UPDATE``) while that
product's document still listed it, so two products were pulled with one barcode and every
till's pull failed. Saves now refuse such a barcode; this migration clears the clashes that
are already stored, deterministically:

- among the products (not deleted) whose documents list a barcode, the one the index names
  keeps it (the one saved last with it: what a barcode lookup on the server already answers);
  when the index names none of them, the product updated last (a tie: the greatest id);
- the barcode is taken out of the other products' documents, which get a change-log entry so
  every till pulls the corrected version;
- every barcode a document lists has its index row, pointing at the product that keeps it.

Nothing to undo on downgrade: the documents stay as corrected.
"""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

products = sa.table(
    "products",
    sa.column("id", sa.String),
    sa.column("deleted", sa.Boolean),
    sa.column("document", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
product_barcodes = sa.table(
    "product_barcodes", sa.column("barcode", sa.String), sa.column("product_id", sa.String)
)
change_log = sa.table(
    "change_log",
    sa.column("txid", sa.BigInteger),
    sa.column("store_id", sa.Uuid),
    sa.column("kind", sa.String),
    sa.column("entity_key", sa.String),
)


def upgrade() -> None:
    bind = op.get_bind()
    indexed = dict(
        bind.execute(sa.select(product_barcodes.c.barcode, product_barcodes.c.product_id)).all()
    )
    rows = bind.execute(
        sa.select(products.c.id, products.c.document, products.c.updated_at).where(
            products.c.deleted.is_(False)
        )
    ).all()
    documents = {row.id: dict(row.document) for row in rows}
    saved_at = {row.id: (row.updated_at, row.id) for row in rows}
    claimants: dict[str, list[str]] = {}
    for product_id in sorted(documents):
        for barcode in dict.fromkeys(documents[product_id].get("barcodes") or []):
            claimants.setdefault(barcode, []).append(product_id)
    owners: dict[str, str] = {}
    corrected: set[str] = set()
    for barcode, ids in sorted(claimants.items()):
        owner = indexed.get(barcode)
        if owner not in ids:
            owner = max(ids, key=lambda i: saved_at[i])
        owners[barcode] = owner
        for loser in ids:
            if loser != owner:
                document = documents[loser]
                document["barcodes"] = [b for b in document["barcodes"] if b != barcode]
                corrected.add(loser)
                log.info("barcode %s stays with product %s, taken from %s", barcode, owner, loser)
    if corrected:
        now = datetime.now(UTC)
        for product_id in sorted(corrected):
            bind.execute(
                products.update()
                .where(products.c.id == product_id)
                .values(document=documents[product_id], updated_at=now)
            )
        txid = 0
        if bind.dialect.name == "postgresql":
            txid = int(
                bind.execute(sa.text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
            )
        bind.execute(
            change_log.insert(),
            [
                {"txid": txid, "store_id": None, "kind": "product", "entity_key": product_id}
                for product_id in sorted(corrected)
            ],
        )
    stale = [b for b, product_id in indexed.items() if owners.get(b) != product_id]
    if stale:
        bind.execute(product_barcodes.delete().where(product_barcodes.c.barcode.in_(stale)))
    missing = [
        {"barcode": b, "product_id": product_id}
        for b, product_id in sorted(owners.items())
        if indexed.get(b) != product_id
    ]
    if missing:
        bind.execute(product_barcodes.insert(), missing)


def downgrade() -> None:
    pass
