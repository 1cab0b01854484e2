"""A second process that runs one function over requests sent to it, in order.

A national sync is CPU-bound in Python: reading a province's answers (checks,
figures, their fingerprints) and storing them take longer than fetching them.
Python runs one thread at a time, so `sync.sync_provinces` hands a part of each
province to a second process and fetches the next province meanwhile; the portal
still sees one request at a time.

The process is forked, so it starts at once with every module already imported,
and it serves until its pipe closes: when this process ends, however it ends
(SIGKILL included), the second one reads the end of its pipe and exits. It ignores
SIGINT and SIGTERM, which reach the whole process group (Ctrl-C, systemd stopping
a unit) and are this process's to handle: dying first, it would turn a clean stop
into a failure here. Its garbage collector runs between requests, not during one.
An exception of a kind the caller expects (`expected`) comes back and is raised
here as it was raised there; any other is a bug, raised here as
`SecondProcessFailed` with the other process's traceback in its message.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Generic, TypeVar

Request = TypeVar("Request")
Answer = TypeVar("Answer")

#: How long `close` waits for the second process to end before killing it.
STOP_SECONDS = 10.0


class SecondProcessFailed(RuntimeError):
    """The second process raised an unexpected exception, or is gone."""


class SecondProcess(Generic[Request, Answer]):
    """`send` a request, `receive` its answer (one request ahead at most is useful:
    the second process works on it while this one does something else)."""

    def __init__(
        self,
        work: Callable[[Request], Answer],
        expected: tuple[type[BaseException], ...] = (),
        name: str = "dvcwatch-second",
    ) -> None:
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(work, expected, theirs, ours), name=name, daemon=True
        )
        self._process.start()
        theirs.close()  # only the second process holds its end: our exit is its EOF
        self._pipe = ours

    def send(self, request: Request) -> None:
        try:
            self._pipe.send(request)
        except OSError as exc:  # BrokenPipeError: it is gone
            raise SecondProcessFailed(f"the second process is gone ({exc})") from None

    def receive(self) -> Answer:
        """The answer to the oldest request not yet received; raises what the work raised."""
        try:
            kind, value = self._pipe.recv()
        except (EOFError, OSError):
            code = self._process.exitcode
            raise SecondProcessFailed(
                f"the second process ended before answering (exit code {code})"
            ) from None
        if kind == "raised":
            raise value
        if kind == "bug":
            raise SecondProcessFailed(f"the second process failed:\n{value}")
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """End the second process (its pipe closes) and wait for it, killing it if it
        does not end within `STOP_SECONDS`."""
        self._pipe.close()
        self._process.join(STOP_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def __enter__(self) -> SecondProcess[Request, Answer]:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


def _serve(
    work: Callable[[Any], Any],
    expected: tuple[type[BaseException], ...],
    pipe: Connection,
    parents_end: Connection,
) -> None:
    """The second process: answer each request until the pipe closes."""
    parents_end.close()
    for meant_for_the_command in (signal.SIGINT, signal.SIGTERM):
        signal.signal(meant_for_the_command, signal.SIG_IGN)
    # What the fork inherited is never garbage here, and one request makes a few hundred
    # thousand objects without a cycle: the collector would walk the growing heap again
    # and again (a third of reading a national sync). It runs once after each answer.
    gc.freeze()
    gc.disable()
    while True:
        try:
            request = pipe.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[str, Any] = ("answered", work(request))
        except expected as exc:
            answer = ("raised", exc)
        except Exception:
            answer = ("bug", traceback.format_exc())
        try:
            pipe.send(answer)
        except OSError:  # this process is gone
            return
        except Exception:  # the answer does not pickle: a bug
            pipe.send(("bug", traceback.format_exc()))
        del request, answer
        gc.collect()
