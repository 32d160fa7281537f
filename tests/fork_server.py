"""A fork server for the SIGKILL tests: one child process imports the till's code once and forks
a fresh writer for every round, so a round costs a fork instead of a Python start and ~1 s of
CPU for imports. Each forked writer is a process of its own (its own SQLite connections, opened
after the fork), killed with SIGKILL while it writes, exactly as a separately started one was.

Child side (the module run with ``-m``): ``serve(work)`` reads commands on stdin. ``fork``
starts ``work()`` in a forked process, which prints to the same stdout (``ready`` first, then
what it made durable); ``kill`` SIGKILLs it unless it has ended by itself, waits for it and
prints ``ended killed`` or ``ended exit N`` (on a line of its own). The fork server is the writer's parent, so the pid
it kills cannot have been reused by another process.

Test side: ``ForkServer`` sends the commands and reads the lines.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[1]
RAISED = 70  # the exit code of a writer that raised


def serve(work: Callable[[], int | None]) -> None:
    child = 0
    for command in sys.stdin:
        command = command.strip()
        if command == "fork":
            # A fork copies only the calling thread: nothing may run beside it (no thread
            # holding a lock the writer would wait for), and no SQLite connection is open.
            assert threading.active_count() == 1, threading.enumerate()
            sys.stdout.flush()
            child = os.fork()
            if child == 0:
                code = RAISED
                try:
                    code = work() or 0
                except BaseException:
                    traceback.print_exc()
                finally:
                    sys.stdout.flush()
                    os._exit(code)
        elif command == "kill":
            done, status = os.waitpid(child, os.WNOHANG)
            if done == 0:
                os.kill(child, signal.SIGKILL)
                _, status = os.waitpid(child, 0)
            # On a line of its own: a writer killed between a line and its newline left
            # the line open.
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                print("\nended killed", flush=True)
            else:
                print(f"\nended exit {os.waitstatus_to_exitcode(status)}", flush=True)


class ForkServer:
    """``python -m MODULE ARGS`` serving forks; ``fork()`` then ``kill()`` for each round."""

    def __init__(self, module: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n")
        self.process.stdin.flush()

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the fork server ended (exit {self.process.poll()})"
        return line.strip()

    def fork(self) -> list[str]:
        """Start a writer; returns once it printed ``ready``: the lines it printed before."""
        self._send("fork")
        lines: list[str] = []
        while (line := self._line()) != "ready":
            assert not line.startswith("ended"), f"the writer ended before it was ready: {line}"
            lines.append(line)
        return lines

    def kill(self) -> tuple[bool, list[str]]:
        """SIGKILL the writer unless it ended by itself: (whether it was killed, its lines)."""
        self._send("kill")
        lines: list[str] = []
        while not (line := self._line()).startswith("ended"):
            if line:
                lines.append(line)
        assert line != f"ended exit {RAISED}", "the writer raised (its traceback is above)"
        return line == "ended killed", lines

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
