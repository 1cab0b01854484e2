"""Progress of long work: a tqdm bar on a terminal, plain lines anywhere else.

On a terminal the bar sits on standard error's last line and is cleared when the work
ends, so the summary starts on a clean line; result lines written meanwhile go above it.
Into the journal or a pipe there is no bar: each result is one plain line, which a log
reader can grep. `tqdm` is imported only by the commands that show progress.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, TextIO


class Progress:
    """`with Progress(total, "notices") as progress:` then `step`, `advance`, `line`."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.bar: Any = None
        if _is_terminal(self.stream):
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, file=self.stream, leave=False, unit="")

    def step(self, text: str) -> None:
        """What is being done now (shown on the bar only)."""
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=True)

    def advance(self, count: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def line(self, text: str, stream: TextIO | None = None) -> None:
        """A result line (to `stream`, standard output by default), above the bar."""
        target = stream or sys.stdout
        if self.bar is not None and _is_terminal(target):
            self.bar.write(text, file=target)
        else:
            if self.bar is not None:
                self.bar.clear()
            print(text, file=target, flush=True)
            if self.bar is not None:
                self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
