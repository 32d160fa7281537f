"""Catalog: products and their barcodes, on SQL or MongoDB."""
