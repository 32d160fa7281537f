from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.bootstrap import Terminal, open_terminal
from app.data import DEMO_MANAGER_PIN
from app.domain.barcode import make_ean13
from app.domain.clerk import Role
from app.domain.product import Product, SoldBy
from app.services.clerks import create_clerk

MILK = Product(
    id="0190d5b4-0000-7000-8000-000000000001",
    sku="DAI-MILK-1L",
    name="Whole milk 1 L",
    unit_price=109,
    tax_class="food",
    barcodes=(make_ean13("400000000001"),),
    brand="Alpenhof",
    department="Dairy & Eggs",
    stock=40,
)
BANANAS = Product(
    id="0190d5b4-0000-7000-8000-000000000002",
    sku="FRU-BANANA",
    name="Bananas, loose",
    unit_price=189,
    tax_class="food",
    sold_by=SoldBy.WEIGHT,
    barcodes=("4011",),
    department="Fruit & Vegetables",
    stock=25_000,
)
WINE = Product(
    id="0190d5b4-0000-7000-8000-000000000003",
    sku="ALC-RIOJA",
    name="Rioja Crianza 0.75 L",
    unit_price=799,
    tax_class="standard",
    barcodes=(make_ean13("400000000002"),),
    brand="Bodega Sol",
    department="Alcohol",
    stock=12,
)
SAMPLE_PRODUCTS = (MILK, BANANAS, WINE)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = open_terminal(tmp_path / "till")
    with term.uow() as uow:
        uow.products.upsert_many(SAMPLE_PRODUCTS)
        uow.commit()
    yield term
    term.close()


@pytest.fixture
def clerk(terminal: Terminal):
    return create_clerk(terminal.uow(), "Maria", "2468", Role.CLERK, terminal.ids)


@pytest.fixture
def manager(terminal: Terminal):
    return create_clerk(terminal.uow(), "Sam", DEMO_MANAGER_PIN, Role.MANAGER, terminal.ids)


@pytest.fixture
def approve(terminal: Terminal, manager):
    """``approve(action, subject, asked_by=None)``: the manager Sam's approval (PIN typed) of
    ``action`` on ``subject``, asked by ``asked_by`` (default Sam himself)."""
    from app.services.approvals import grant_approval

    def grant(action, subject, asked_by=None):
        return grant_approval(
            terminal.uow(),
            terminal.ids,
            terminal.clock,
            action,
            subject,
            (asked_by or manager).id,
            manager.id,
            DEMO_MANAGER_PIN,
            store=terminal.store,
        )

    return grant
