"""Fan-out jobs: send, update, trigger and export at the quota's pace, resumable after a crash.

The resource methods (``inro.messages.send_many``, ``inro.contacts.update_many``,
``inro.scenarios.trigger_many``, ``inro.contacts.export``) are thin wrappers over the functions
here. Each returns a ``Job``: ``report = await job``, or ``async for event in job.events()``.
A named job's journal can be read with ``read_journal(name)`` (see ``journal_reader``).
"""

from typing import TYPE_CHECKING, Any

from inro_async.errors import (
    JobLockedError,
    JobMismatchError,
    JournalUnreadableError,
    JournalWriteError,
)
from inro_async.jobs._book import ChunkStatus, JournalMeta
from inro_async.jobs._items import Identifier, ItemStatus, Outcome
from inro_async.jobs._job import Job
from inro_async.jobs._journal import jobs_directory, journal_path
from inro_async.jobs._progress import ProgressCallback, ProgressEvent
from inro_async.jobs._report import ExportReport, JobReport, JobStatus
from inro_async.jobs.contacts import UpdateEntry, update_many
from inro_async.jobs.export import export_contacts
from inro_async.jobs.journal_reader import (
    JournalItem,
    JournalSummary,
    delete_journal,
    find_journals,
    read_journal,
)
from inro_async.jobs.messages import send_many
from inro_async.jobs.scenarios import trigger_many

if TYPE_CHECKING:
    from inro_async.jobs._notebook import NotebookProgress
    from inro_async.jobs._render import RichProgress

__all__ = [
    "ChunkStatus",
    "ExportReport",
    "Identifier",
    "ItemStatus",
    "Job",
    "JobLockedError",
    "JobMismatchError",
    "JobReport",
    "JobStatus",
    "JournalItem",
    "JournalMeta",
    "JournalSummary",
    "JournalUnreadableError",
    "JournalWriteError",
    "NotebookProgress",
    "Outcome",
    "ProgressCallback",
    "ProgressEvent",
    "RichProgress",
    "UpdateEntry",
    "delete_journal",
    "export_contacts",
    "find_journals",
    "jobs_directory",
    "journal_path",
    "read_journal",
    "send_many",
    "trigger_many",
    "update_many",
]


def __getattr__(name: str) -> Any:
    # rich is imported on first use: a job that shows no bars does not pay ~35 ms for it.
    if name == "RichProgress":
        from inro_async.jobs._render import RichProgress

        return RichProgress
    if name == "NotebookProgress":
        from inro_async.jobs._notebook import NotebookProgress

        return NotebookProgress
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
