"""A progress bar for long commands (`bundle serialize` of many units): rich, on a terminal only, and only once the
command has run for about a second, so that short runs and piped or logged output look exactly as without it."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text

DELAY = 1.0  # seconds before a bar appears


class Bar:
    """A `progress(what, done, total)` callback drawing one rich bar per `what` (units/s, time left). The bar is
    transient: it is gone when the command prints its summary."""

    def __init__(self, console: Console, delay: float = DELAY) -> None:
        self.console, self.delay, self.started = console, delay, time.monotonic()
        self.bar: Progress | None = None
        self.tasks: dict[str, Any] = {}  # what -> rich TaskID

    def __call__(self, what: str, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < self.delay or done >= total:
                return
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), UnitsPerSecond(),
                                TimeRemainingColumn(), console=self.console, transient=True)
            self.bar.start()
        task = self.tasks.get(what)
        if task is None:  # starts at `done`: the units before the bar appeared do not count as one burst
            self.tasks[what] = self.bar.add_task(what, total=total, completed=done)
        else:
            self.bar.update(task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


class UnitsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} units/s" if task.speed else "")


@contextmanager
def terminal_progress(stream: IO[str] | None = None, delay: float | None = None) -> Iterator[Bar | None]:
    """A Bar drawing on `stream` (default stderr) when it is a terminal, else None (no progress output at all)."""
    stream = sys.stderr if stream is None else stream
    delay = DELAY if delay is None else delay
    if not stream.isatty():
        yield None
        return
    bar = Bar(Console(file=stream), delay)
    try:
        yield bar
    finally:
        bar.close()
