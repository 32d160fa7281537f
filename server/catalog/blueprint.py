"""Catalog look-ups for terminals (the catalog itself is maintained with the CLI)."""

from __future__ import annotations

from flask import Blueprint

from server.api import endpoint
from server.errors import ApiError, NotFound
from server.services import services
from sync.protocol import ProductData, ProductList, ProductQuery

bp = Blueprint("catalog", __name__, url_prefix="/api/v1/catalog")


@bp.get("/products")
@endpoint(
    "Find products by sku or barcode", tag="catalog", query=ProductQuery, response=ProductList
)
def find_products(query: ProductQuery) -> ProductList:
    if (query.sku is None) == (query.barcode is None):
        raise ApiError("give exactly one of sku or barcode", code="invalid_query", field="sku")
    svc = services()
    with svc.sessions() as session:
        catalog = svc.catalog(session)
        if query.sku is not None:
            found = catalog.find_by_sku(query.sku)
        else:
            found = catalog.find_by_barcode(query.barcode or "")
    return ProductList(products=[found.to_wire()] if found else [])


@bp.get("/products/<product_id>")
@endpoint("One product by id (tombstones included)", tag="catalog", response=ProductData)
def get_product(product_id: str) -> ProductData:
    svc = services()
    with svc.sessions() as session:
        found = svc.catalog(session).get(product_id)
    if found is None:
        raise NotFound("no such product")
    return found.to_wire()
