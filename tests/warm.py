"""`dvcwatch` commands started warm: forked from a process that imported them once.

A crash test starts the sender a score of times and kills each one; a fresh
interpreter spends a second or more (far more on a busy machine) importing before it
sends anything, which was most of such a test's time. A `WarmStarter` imports the
command line and the modules `preload` names once, in a process of its own, and forks
a child per command. The child is a process of its own running `service.cli.main`
with the given arguments and environment, exactly what the `dvcwatch` script runs: its
own database connections, its own exit status, ended by SIGKILL like any other. Only
the imports are shared, and they happened before any command began.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.waiting import PATIENCE

# The forking process: one JSON request a line on stdin ({argv, env, stderr}); answers the
# child's pid, then, once it has ended, its exit code (negative: the signal's number).
_FORKER = """
import importlib, json, os, sys
import service.cli
for name in sys.argv[1:]:
    importlib.import_module(name)
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            quiet = os.open(os.devnull, os.O_RDWR)
            os.dup2(quiet, 0)
            os.dup2(quiet, 1)
            os.dup2(os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND), 2)
            os.environ.clear()
            os.environ.update(request["env"])
            code = service.cli.main(request["argv"])
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        finally:
            os._exit(code)
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
"""


class WarmStarter:
    """Starts `dvcwatch` commands, one at a time, forked from a warm process; `close`
    ends that process (use `contextlib.closing`)."""

    def __init__(self, preload: Sequence[str] = ()) -> None:
        self._forker = subprocess.Popen(
            [sys.executable, "-c", _FORKER, *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def start(
        self, argv: Sequence[str], env: Mapping[str, str], stderr: Path | None = None
    ) -> WarmProcess:
        """`dvcwatch <argv>` with `env` as its whole environment; its standard error
        appended to `stderr` (else discarded), its output discarded."""
        assert self._forker.stdin is not None
        request = {"argv": list(argv), "env": dict(env), "stderr": str(stderr or os.devnull)}
        self._forker.stdin.write(json.dumps(request) + "\n")
        self._forker.stdin.flush()
        return WarmProcess(int(self._line()), self)

    def _line(self, patience: float = PATIENCE) -> str:
        assert self._forker.stdout is not None
        ready, _, _ = select.select([self._forker.stdout], [], [], patience)
        if not ready:
            raise subprocess.TimeoutExpired("dvcwatch (warm)", patience)
        line = self._forker.stdout.readline()
        assert line, f"the forking process ended (exit {self._forker.poll()})"
        return line

    def close(self) -> None:
        if self._forker.stdin is not None:
            self._forker.stdin.close()
        self._forker.wait(timeout=PATIENCE)
        if self._forker.stdout is not None:
            self._forker.stdout.close()


class WarmProcess:
    """A command a `WarmStarter` started: a `subprocess.Popen` in what tests use of it."""

    def __init__(self, pid: int, starter: WarmStarter) -> None:
        self.pid, self._starter = pid, starter
        self.returncode: int | None = None

    def send_signal(self, signal: int) -> None:
        """Signal the command; call it while the command is known to be alive (in the
        middle of a request it made), as its pid is free again once it has ended."""
        if self.returncode is None:
            os.kill(self.pid, signal)

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = int(self._starter._line(PATIENCE if timeout is None else timeout))
        return self.returncode
