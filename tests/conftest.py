"""Fixtures shared by every layer of the suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """The real PostgreSQL that `make test` provides (scripts/with_postgres.py).

    Never skipped: a run without it is a broken run, so it fails loudly instead.
    """
    url = os.environ.get("SHOPSMART_TEST_DATABASE_URL")
    if not url:
        pytest.fail(
            "SHOPSMART_TEST_DATABASE_URL is not set: run the suite with `make test`, which "
            "starts a throw-away PostgreSQL (scripts/with_postgres.py)"
        )
    return url


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = pg_admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
