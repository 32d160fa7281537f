"""One writer for the till's SQLite: a unit of work a network task opens runs on the DB
worker (a turn of it), never on the network thread."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import event

from ui.tasks import TaskControl, TaskRunner


@pytest.fixture
def runner(qapp: Any) -> Any:
    tasks = TaskRunner()
    yield tasks
    tasks.shutdown()


def statement_threads(terminal: Any) -> list[tuple[int, str]]:
    """(thread id, SQL) of every statement run on the till's writer engine from now on."""
    seen: list[tuple[int, str]] = []

    @event.listens_for(terminal.database.writer, "before_cursor_execute")
    def _on_statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append((threading.get_ident(), sql))

    return seen


def test_a_network_task_writes_through_the_db_worker(qtbot: Any, runner: Any, terminal: Any):
    runner.route_writes(terminal)
    seen = statement_threads(terminal)
    worker: list[int] = []
    runner.run_db("who", lambda _c: threading.get_ident(), worker.append)
    qtbot.waitUntil(lambda: bool(worker), timeout=10_000)

    def work(_control: TaskControl) -> int:
        with terminal.uow() as uow:
            uow.settings.put("pay.note", "written from the network pool")
            uow.commit()
        return threading.get_ident()

    network: list[int] = []
    runner.run_network("card", work, network.append)
    qtbot.waitUntil(lambda: bool(network), timeout=10_000)
    assert network[0] != worker[0]  # the task itself ran on the network pool
    writes = [thread for thread, sql in seen if "settings" in sql.lower()]
    assert writes and set(writes) == {worker[0]}  # its statements on the DB worker
    with terminal.read() as uow:
        assert uow.settings.get("pay.note") == "written from the network pool"


def test_an_error_in_a_routed_unit_of_work_rolls_back_and_reaches_the_task(
    qtbot: Any, runner: Any, terminal: Any
):
    runner.route_writes(terminal)

    def work(_control: TaskControl) -> None:
        with terminal.uow() as uow:
            uow.settings.put("pay.note", "half done")
            raise ValueError("the gateway answered nonsense")

    failed: list[Exception] = []
    runner.run_network("card", work, on_failed=failed.append)
    qtbot.waitUntil(lambda: bool(failed), timeout=10_000)
    assert str(failed[0]) == "the gateway answered nonsense"
    with terminal.read() as uow:
        assert uow.settings.get("pay.note") == ""
    # the DB worker is free again: its own tasks still run
    after: list[int] = []
    runner.run_db("after", lambda _c: 42, after.append)
    qtbot.waitUntil(lambda: bool(after), timeout=10_000)
    assert after == [42]
