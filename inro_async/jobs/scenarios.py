"""``trigger_many``: run a scenario for any number of contacts, 1,000 per trigger call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from inro_async._json_values import check_json_value
from inro_async._routes import ROUTES
from inro_async._validate_contacts import check_id
from inro_async.errors import InvalidArgumentError
from inro_async.jobs._accounting import check_accounted
from inro_async.jobs._items import (
    MAX_CHUNK,
    Identifier,
    Outcome,
    chunk_ranges,
    identifier_keys_text,
    normalize_recipients,
)
from inro_async.jobs._items import outcomes_from_echoes as _outcomes
from inro_async.jobs._job import DEFAULT_CONCURRENCY, Job, JobOptions
from inro_async.jobs._operation import ChunkContext
from inro_async.jobs._payload import payload_fingerprint
from inro_async.jobs._progress import ProgressCallback
from inro_async.jobs._report import JobReport
from inro_async.jobs._runner import run_fanout
from inro_async.jobs.messages import is_fatal_for_all

if TYPE_CHECKING:
    import os

    from inro_async.client import Client

__all__ = ["trigger_many"]


@dataclass(frozen=True, slots=True)
class TriggerScenario:
    """The ``trigger_many`` operation: one ``POST /scenarios/{id}/trigger`` per chunk."""

    scenario_id: int
    data: Mapping[str, Any] | None
    kind: str = "trigger_many"
    idempotent: bool = ROUTES["scenarios.trigger"].idempotent  # a POST: False
    requests_per_chunk: float = 1.0

    def payload_fingerprint(self) -> str:
        """Hash of the scenario id and the data."""
        return payload_fingerprint(self.kind, {"scenario_id": self.scenario_id, "data": self.data})

    def keys_text(self, items: Sequence[Identifier]) -> str:
        """``kind=value`` and a record separator (U+001E) per recipient."""
        return identifier_keys_text(items)

    async def run_chunk(self, ctx: ChunkContext, items: Sequence[Identifier]) -> list[Outcome]:
        """Trigger the scenario for this chunk's contacts in one call.

        The scenario id, the data and the contacts were checked once, when the job was built:
        the body goes as it is. Done only for the contacts the answer accounts for.
        """
        body: dict[str, Any] = {"contacts": [item.as_dict() for item in items]}
        if self.data is not None:
            body["data"] = self.data
        result = await ctx.client.scenarios._trigger_checked(self.scenario_id, body)
        outcomes = _outcomes(items, not_found=result.not_found)
        route = ROUTES["scenarios.trigger"]
        check_accounted(
            "contacts",
            method=route.method,
            path=route.format(id=self.scenario_id),
            sent=items,
            outcomes=outcomes,
            accepted=result.accepted_count,
            not_found=result.not_found_count,
        )
        return outcomes

    def is_fatal(self, error: BaseException) -> bool:
        """A missing or inactive scenario (404, 422) refuses every chunk alike."""
        return is_fatal_for_all(error)


def trigger_many(
    client: Client,
    scenario_id: int,
    contacts: Iterable[object],
    *,
    data: Mapping[str, Any] | None = None,
    job: str | os.PathLike[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    chunk_size: int = MAX_CHUNK,
    resend_unknown: bool = False,
    stop_when_blocked_over: timedelta | float | None = None,
    on_progress: ProgressCallback | None = None,
) -> Job[JobReport[Any]]:
    """Trigger scenario ``scenario_id`` for every contact, 1,000 per call, with the same ``data``.

    Contacts are given as for ``send_many`` (ids, usernames, emails, mappings, contacts); each
    key of ``data`` becomes ``{{ trigger.<key> }}`` in the scenario. Journaling, unknown chunks
    and pausing work as in ``send_many``.
    """
    check_id("scenario_id", scenario_id)
    if data is not None:
        if not isinstance(data, Mapping):
            raise InvalidArgumentError("data", f"must be a mapping, got {type(data).__name__}")
        check_json_value("data", data)  # once for the job: its chunks send it as checked
    if not isinstance(contacts, Iterable) or isinstance(contacts, str | bytes | Mapping):
        raise InvalidArgumentError("contacts", "must be a list (or other iterable) of contacts")
    options = JobOptions.build(
        job=job,
        concurrency=concurrency,
        chunk_size=chunk_size,
        resend_unknown=resend_unknown,
        stop_when_blocked_over=stop_when_blocked_over,
        on_progress=on_progress,
    )
    unique = normalize_recipients(contacts, "contacts")
    ranges = chunk_ranges(len(unique.keys), chunk_size)
    operation = TriggerScenario(scenario_id, dict(data) if data is not None else None)
    return run_fanout(client, operation, unique, ranges, options)
