"""Many calls at once: a task group that raises the first error, not an exception group."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import anyio


async def run_concurrently(
    jobs: Iterable[Callable[[], Coroutine[Any, Any, Any]]], *, workers: int | None = None
) -> None:
    """Run the jobs concurrently (the client's limiter bounds what is on the wire).

    With ``workers``, that many tasks take jobs in turn, so thousands of jobs never wait as
    thousands of tasks holding their state at once: memory stays flat as the world grows.
    The first failure cancels the rest and is raised as itself, not as an exception group, so
    the user sees one clear ProviderError.
    """
    pending = iter(jobs)

    async def worker() -> None:
        for job in pending:  # one shared iterator: each job is taken exactly once
            await job()

    try:
        async with anyio.create_task_group() as group:
            if workers is None:
                for job in pending:
                    group.start_soon(job)
            else:
                for _ in range(max(1, workers)):
                    group.start_soon(worker)
    except BaseExceptionGroup as group_error:
        raise _first_leaf(group_error) from None


def _first_leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = next(
            (e for e in error.exceptions if not isinstance(e, anyio.get_cancelled_exc_class())),
            error.exceptions[0],
        )
    return error
