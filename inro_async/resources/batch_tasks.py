"""``inro.batch_tasks``: background jobs (bulk updates, campaign sends) and waiting for them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from urllib.parse import quote

from inro_async._validate import check_text
from inro_async.errors import BatchTaskTimeoutError, InvalidArgumentError
from inro_async.models.batch_tasks import BatchTask
from inro_async.pagination import Page
from inro_async.resources._base import DEFAULT_ITER_PER_PAGE, Resource

__all__ = ["BatchTaskTimeoutError", "BatchTasks"]  # the error lives in errors.py


class BatchTasks(Resource):
    """Background jobs started by bulk updates and campaign sends."""

    async def list(self, *, page: int = 1, per_page: int | None = None) -> Page[BatchTask]:
        """One page of batch tasks, newest first."""
        return await self._page("batch_tasks.list", BatchTask, page=page, per_page=per_page)

    def iter(
        self, *, per_page: int = DEFAULT_ITER_PER_PAGE, concurrency: int = 1
    ) -> AsyncGenerator[BatchTask, None]:
        """Every batch task, newest first."""
        return self._iter("batch_tasks.list", BatchTask, per_page=per_page, concurrency=concurrency)

    async def get(self, task_id: str) -> BatchTask:
        """One batch task with its live progress."""
        # A string id ("bt_…"), escaped so that no character of it can change the path.
        path = {"id": quote(check_text("task_id", task_id), safe="")}
        return await self._call("batch_tasks.get", BatchTask, path=path)

    async def wait(
        self,
        task_id: str,
        *,
        poll_interval: float = 1.0,
        # The timeout is part of the answer (the last state rides on the error), not a
        # cancellation scope, so it is a parameter rather than ``asyncio.timeout``.
        timeout: float | None = 600.0,  # noqa: ASYNC109
    ) -> BatchTask:
        """Poll the task until it is ``completed`` or ``failed``, and return it.

        Each poll is an ordinary request, paced by the governor. Raises
        ``BatchTaskTimeoutError`` (a ``TimeoutError``) after ``timeout`` seconds (``None``: wait
        as long as it takes); the task itself is not affected.
        """
        check_text("task_id", task_id)
        if not poll_interval > 0:
            raise InvalidArgumentError(
                "poll_interval", f"must be > 0 seconds, got {poll_interval!r}"
            )
        if timeout is not None and not timeout >= 0:
            raise InvalidArgumentError("timeout", f"must be >= 0 seconds or None, got {timeout!r}")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            task = await self.get(task_id)
            if task.done:
                return task
            delay = poll_interval
            if deadline is not None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise BatchTaskTimeoutError(task, timeout or 0.0)
                delay = min(delay, remaining)
            await asyncio.sleep(delay)
