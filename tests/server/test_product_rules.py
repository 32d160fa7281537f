"""The server keeps a product only if every till can use it: the till's own rules."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask
from pydantic import ValidationError
from sqlalchemy import text

from app.domain.barcode import DuplicateBarcode
from app.domain.product import MAX_UNIT_PRICE
from server.admin import service as admin
from server.catalog.repository import ProductDocument, SqlCatalogRepository
from server.db import unit_of_work
from tests.server.conftest import services_of

GOOD: dict[str, Any] = {
    "id": "milk",
    "sku": "DAI-001",
    "name": "Whole milk 1 l",
    "unit_price": 129,
    "tax_class": "food",
    "barcodes": ["4006381333931"],
}


def refusal(**change: Any) -> tuple[str, str]:
    with pytest.raises(ValidationError) as refused:
        ProductDocument.model_validate({**GOOD, **change})
    first = refused.value.errors()[0]
    return ".".join(str(p) for p in first["loc"]), first["msg"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"barcodes": ["4006381333932"]}, "barcodes", "check digit 2, expected 1"),
        ({"barcodes": ["40063813339"]}, "barcodes", "has 11 digits"),
        ({"unit_price": MAX_UNIT_PRICE + 1}, "unit_price", "absurdly high"),
        ({"unit_price": -1}, "unit_price", "is negative"),
        ({"tax_class": "luxury"}, "tax_class", "unknown tax class 'luxury'"),
        ({"sku": "   "}, "sku", "sku must be 1–64 characters"),
        ({"name": ""}, "name", "name must be 1–200 characters"),
        ({"sold_by": "litre"}, "sold_by", "'each' or 'weight'"),
    ],
)
def test_a_product_every_till_would_drop_is_refused_in_the_tills_words(
    change: dict[str, Any], field: str, message: str
) -> None:
    where, said = refusal(**change)
    assert where == field
    assert message in said


def test_store_codes_and_scale_range_barcodes_are_kept_as_the_till_accepts_them() -> None:
    product = ProductDocument.model_validate(
        {**GOOD, "barcodes": [" 4011 ", "2800012000009", "4006381333931", "4006381333931"]}
    )
    assert product.barcodes == ["4011", "2800012000009", "4006381333931"]


def test_a_document_stored_before_these_rules_still_reads() -> None:
    old = ProductDocument.from_store({**GOOD, "barcodes": ["4000000000001"], "deleted": False})
    assert old.barcodes == ["4000000000001"]
    assert old.to_wire().barcodes == ["4000000000001"]


def test_a_barcode_refused_on_save_is_answered_409_naming_both(app: Flask) -> None:
    svc = services_of(app)
    milk = ProductDocument.model_validate(GOOD)
    oat = ProductDocument.model_validate(
        {**GOOD, "id": "oat", "sku": "DAI-002", "name": "Oat drink 1 l"}
    )
    with unit_of_work(svc.sessions) as session:
        admin.save_products(session, svc.catalog(session), [milk])

    def save_oat() -> dict[str, str]:  # any route that saves: the error handler answers
        with unit_of_work(svc.sessions) as session:
            admin.save_products(session, svc.catalog(session), [oat])
        return {}

    app.add_url_rule("/test/save-oat", view_func=save_oat, methods=["POST"])
    response = app.test_client().post("/test/save-oat")
    assert response.status_code == 409
    assert response.json == {
        "error": "duplicate_barcode",
        "message": "barcode 4006381333931 already belongs to Whole milk 1 l (sku DAI-001); "
        "Oat drink 1 l (sku DAI-002) cannot have it too",
        "field": "barcodes",
    }
    with svc.sessions() as session:
        assert svc.catalog(session).get("oat") is None


def test_two_saves_racing_for_one_barcode_leave_it_with_the_first(app: Flask) -> None:
    """The save-time check cannot see a barcode another transaction has not committed yet;
    the primary key of product_barcodes refuses the second one then."""
    svc = services_of(app)
    milk = ProductDocument.model_validate(GOOD)
    oat = ProductDocument.model_validate(
        {**GOOD, "id": "oat", "sku": "DAI-002", "name": "Oat drink 1 l"}
    )
    refused: list[str] = []
    failed: list[BaseException] = []  # anything else the racer met, said if it never waits

    def save_oat() -> None:
        try:
            with unit_of_work(svc.sessions) as session:  # refused: rolled back
                SqlCatalogRepository(session).save([oat])
        except DuplicateBarcode as error:
            refused.append(error.message)
        except BaseException as error:  # reported by the main thread
            failed.append(error)

    with svc.sessions() as first, first.begin():
        SqlCatalogRepository(first).save([milk])  # not committed: its barcode row is locked
        racer = threading.Thread(target=save_oat)
        racer.start()
        with svc.engine.connect() as watcher:
            deadline = time.monotonic() + 30
            while not watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one():
                assert not failed, f"the second save failed instead of waiting: {failed!r}"
                assert not refused, "the second save was refused without waiting"
                assert time.monotonic() < deadline, "the second save never waited"
                time.sleep(0.05)
    racer.join(timeout=30)
    assert refused == [
        "a barcode of these products was given to another product at the same time; "
        "nothing was saved, try again"
    ]
    with svc.sessions() as session:
        catalog = SqlCatalogRepository(session)
        assert catalog.get("oat") is None
        assert catalog.find_by_barcode("4006381333931") == milk
