"""Fixtures shared by every layer of the suite.

The suite runs in parallel (`make test` passes ``-n`` to pytest-xdist): everything a test
makes is its own — PostgreSQL databases with unique names (the worker's id in them, to tell
whose they are), ports picked free at run time, files under ``tmp_path``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

# No per-example deadline: on two busy cores (two workers, servers in subprocesses) an example
# taking over 200 ms says nothing about the rule under test, and failed the run as "flaky".
settings.register_profile("shopsmart", deadline=None)
settings.load_profile("shopsmart")


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """The real PostgreSQL that `make test` provides (scripts/with_postgres.py); under
    pytest-xdist there, a throw-away cluster of this worker's own (a pull waits for every
    transaction running in the cluster, so the other worker's would hold it back).

    Never skipped: a run without it is a broken run, so it fails loudly instead.
    """
    from scripts import with_postgres

    url = os.environ.get("SHOPSMART_TEST_DATABASE_URL")
    if not url:
        pytest.fail(
            "SHOPSMART_TEST_DATABASE_URL is not set: run the suite with `make test`, which "
            "starts a throw-away PostgreSQL (scripts/with_postgres.py)"
        )
    if WORKER == "main" or os.environ.get(with_postgres.PER_WORKER) != "1":
        yield url
        return
    with with_postgres.cluster() as own:
        yield own


def database_url(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def create_database(admin_url: str, prefix: str = "t", template: str | None = None) -> str:
    """A new database (a copy of ``template`` when given): its name."""
    import psycopg

    name = f"{prefix}_{WORKER}_{uuid.uuid4().hex[:12]}"
    # FILE_COPY copies the template's files as they are: on the test cluster (fsync off) that
    # is several times faster than PostgreSQL 15's default of writing every page to the WAL.
    source = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{source} STRATEGY FILE_COPY')
    return name


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = create_database(pg_admin_url)
    try:
        yield database_url(pg_admin_url, name)
    finally:
        drop_database(pg_admin_url, name)


@pytest.fixture(scope="session")
def pg_migrated_template(pg_admin_url: str) -> Iterator[str]:
    """A database migrated to head once per worker: the template each test's migrated
    database is copied from (a copy takes a fraction of the second Alembic takes; the
    migrations themselves are tested step by step in tests/server/test_migrations.py)."""
    from server.config import TestConfig
    from server.db import upgrade_database

    name = create_database(pg_admin_url, "tmpl")
    try:
        upgrade_database(TestConfig(database_url=database_url(pg_admin_url, name)).sqlalchemy_url)
        yield name
    finally:
        drop_database(pg_admin_url, name)


@pytest.fixture
def pg_migrated_url(pg_admin_url: str, pg_migrated_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the newest migration for one test, dropped afterwards."""
    name = create_database(pg_admin_url, template=pg_migrated_template)
    try:
        yield database_url(pg_admin_url, name)
    finally:
        drop_database(pg_admin_url, name)
