"""Progress bars on the terminal for the steps that can take more than a few seconds.

A national layer (83,403 desa) keeps a run busy for a minute; a planner at a terminal should see
that it is working and on what. Bars appear only inside a :func:`session`, which the CLI opens
for each command, and only when standard error is a terminal and ``--quiet`` was not given. So
the Python API, a notebook, a pipe, a log file and captured test output never get them.

The stages mark their steps with :func:`step` whether or not a session is open; outside one it
costs nothing. Bars are transient: they vanish when their step ends, leaving the terminal as the
command's own lines left it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ._messages import text


@dataclass
class _Session:
    progress: Any  # rich.progress.Progress, imported only when bars are shown
    lang: str


_SESSION: ContextVar[_Session | None] = ContextVar("povmap_progress", default=None)


def _nothing(advance: int = 1) -> None:
    """What :func:`step` yields when no bar is shown."""


@contextmanager
def session(lang: str = "id", *, quiet: bool = False) -> Iterator[None]:
    """Show the steps run inside as bars on standard error, when it is a terminal.

    Parameters
    ----------
    lang
        Language of the step names (``"id"`` or ``"en"``).
    quiet
        No bars at all (``--quiet``).
    """
    if quiet or _SESSION.get() is not None or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    token = _SESSION.set(_Session(progress, lang))
    try:
        with progress:
            yield
    finally:
        _SESSION.reset(token)


@contextmanager
def step(key: str, total: int | None = None, **fields: Any) -> Iterator[Callable[[int], None]]:
    """One step of a run: a bar named by the message ``key`` while the block runs.

    Parameters
    ----------
    key
        Message id in ``messages.toml`` (``progress.*``) naming the step.
    total
        Units of work (features, pairs), when the block can count them; otherwise the bar is a
        spinner with the elapsed time.
    **fields
        Fields of the message.

    Yields
    ------
    A function ``advance(n=1)`` to call as units are done (does nothing outside a session).
    """
    current = _SESSION.get()
    if current is None:
        yield _nothing
        return
    progress = current.progress
    task = progress.add_task(text(key, current.lang, **fields), total=total)

    def advance(units: int = 1) -> None:
        progress.advance(task, units)

    try:
        yield advance
    finally:
        progress.remove_task(task)
