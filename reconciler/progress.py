"""A progress line for long waits (check runs, event streams), always on stderr.

On a terminal: one live line with a spinner, the latest status and the elapsed time, cleared when
done. Anywhere else (CI logs, pipes): a plain line each time the status changes, so logs stay
short and readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from reconciler.terminal import colour_wanted, command_started, is_terminal


@contextmanager
def progress_line(stream: TextIO | None = None) -> Iterator[Callable[[str], None]]:
    """Yield a callback taking status text; live spinner on a terminal, plain lines otherwise."""
    out = stream if stream is not None else sys.stderr
    if is_terminal(out):
        with _live(out) as report:
            yield report
    else:
        yield _plain(out)


@contextmanager
def _live(stream: TextIO) -> Iterator[Callable[[str], None]]:
    console = Console(file=stream, no_color=not colour_wanted(stream), highlight=False)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def report(text: str) -> None:
            bar.update(task, description=text)

        yield report


def _plain(stream: TextIO) -> Callable[[str], None]:
    started = command_started()
    last: list[str] = []

    def report(text: str) -> None:
        if last and last[0] == text:
            return  # unchanged status: a poll every two seconds would flood a CI log
        last[:] = [text]
        stream.write(f"[{time.monotonic() - started:5.1f}s] {text}\n")
        stream.flush()

    return report
