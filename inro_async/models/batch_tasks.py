"""Batch tasks: background jobs started by bulk updates and campaign sends (docs/wire.md)."""

from __future__ import annotations

import msgspec

from inro_async.models._base import Model, Timestamp
from inro_async.models.contacts import ContactIdentifier

__all__ = ["TERMINAL_STATUSES", "BatchTask", "BatchTaskError"]

TERMINAL_STATUSES = frozenset({"completed", "failed"})
"""Statuses after which a batch task never changes again."""


class BatchTaskError(Model, frozen=True):
    """One entry the task could not apply: its ``index`` in the request and the reason."""

    index: int | None = None
    identifier: ContactIdentifier | str | None = None
    error: str | None = None


class BatchTask(Model, frozen=True):
    """A background job and its progress: ``pending`` → ``processing`` → ``completed``/``failed``.

    ``failed`` means every entry failed; a ``completed`` task may still list ``errors``.
    """

    id: str = ""
    task_type: str | None = None
    """``contacts_bulk_update``, ``campaign_send`` or ``campaign_resend``."""
    status: str = "pending"
    total_count: int = 0
    processed_count: int = 0
    failed_count: int = 0
    errors: list[BatchTaskError] = msgspec.field(default_factory=list)
    created_at: Timestamp = None
    completed_at: Timestamp = None

    @property
    def done(self) -> bool:
        """Whether the task has finished (``completed`` or ``failed``) and will not change."""
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        """Whether the task completed (some entries may still have failed: see ``errors``)."""
        return self.status == "completed"
