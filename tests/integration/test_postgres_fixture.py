"""The PostgreSQL that `make test` provides is real and usable."""

import psycopg


def test_postgres_round_trips_a_row(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE probe (id int PRIMARY KEY, note text NOT NULL)")
        conn.execute("INSERT INTO probe VALUES (%s, %s)", (1, "Grüße aus der Kasse"))
        conn.commit()
        row = conn.execute("SELECT note, version() FROM probe WHERE id = 1").fetchone()
    assert row is not None
    assert row[0] == "Grüße aus der Kasse"
    assert row[1].startswith("PostgreSQL")


def test_each_test_gets_an_empty_database(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)
