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

import atexit
import gc
import logging
import multiprocessing
import signal
import traceback
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

Request = TypeVar("Request")
Answer = TypeVar("Answer")

#: How long `close` waits for the second process to end before killing it.
STOP_SECONDS = 10.0


class SecondProcessFailed(RuntimeError):
    """The work raised an exception the caller does not expect (a bug)."""


class SecondProcess(Generic[Request, Answer]):
    """`send` a request, `receive` its answer (one request ahead at most is useful:
    the second process works on it while this one does something else).

    If the second process is gone (killed: the kernel's OOM killer, a `kill -9`), the
    requests it did not answer, and every later one, are worked on here: slower, with
    one warning, but the caller's work goes on (an answer it sent may be lost with it;
    the work is done again, so it must be safe to repeat)."""

    def __init__(
        self,
        work: Callable[[Request], Answer],
        expected: tuple[type[BaseException], ...] = (),
        name: str = "dvcwatch-second",
    ) -> None:
        self._work = work
        self._unanswered: deque[Request] = deque()
        self._gone = False
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(work, expected, theirs, ours), name=name, daemon=True
        )
        # No signal reaches the second process before it ignores it (`_serve`).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _COMMANDS_SIGNALS)
        try:
            self._process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        theirs.close()  # only the second process holds its end: our exit is its EOF
        self._pipe = ours
        # Before multiprocessing's own exit handler, which would wait for it for ever:
        # it ignores the SIGTERM that handler sends, and ends only when the pipe closes.
        atexit.register(self.close)

    def send(self, request: Request) -> None:
        self._unanswered.append(request)
        if self._gone:
            return
        try:
            self._pipe.send(request)
        except OSError:  # BrokenPipeError
            self._went_away()

    def receive(self) -> Answer:
        """The answer to the oldest request not yet received; raises what the work raised."""
        request = self._unanswered.popleft()
        if not self._gone:
            try:
                kind, value = self._pipe.recv()
            except (EOFError, OSError):
                self._went_away()
            else:
                if kind == "raised":
                    raise value
                if kind == "bug":
                    raise SecondProcessFailed(f"the second process failed:\n{value}")
                return value  # type: ignore[no-any-return]
        return self._work(request)

    def _went_away(self) -> None:
        self._process.join(STOP_SECONDS)  # reaped, for its exit code
        code = self._process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        log.warning(
            "the second process (pid %s) ended unexpectedly (%s): the rest is done in this one",
            self._process.pid,
            how,
        )
        self._gone = True

    def close(self) -> None:
        """End the second process (its pipe closes) and wait for it, killing it if it
        does not end within `STOP_SECONDS`. Closing again does nothing."""
        atexit.unregister(self.close)
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


#: SIGINT (Ctrl-C) and SIGTERM (systemd, kill) reach the whole process group; they are
#: the command's to handle.
_COMMANDS_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _serve(
    work: Callable[[Any], Any],
    expected: tuple[type[BaseException], ...],
    pipe: Connection,
    parents_end: Connection,
) -> None:
    """The second process: answer each request until the pipe closes."""
    parents_end.close()
    for meant_for_the_command in _COMMANDS_SIGNALS:
        signal.signal(meant_for_the_command, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _COMMANDS_SIGNALS)
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
