"""The task runner after shutdown: a dialog's timer may still fire while the till closes."""

from __future__ import annotations

from ui.tasks import TaskRunner


def test_a_runner_shut_down_starts_no_more_tasks(qtbot) -> None:
    runner = TaskRunner()
    runner.shutdown()
    ran: list[str] = []
    runner.run_network("card status", lambda _c: ran.append("network"))
    runner.run_db("write", lambda _c: ran.append("db"))
    runner.shutdown()  # waits for both pools: a started task would have run by now
    assert ran == []
    assert runner.pending == 0
