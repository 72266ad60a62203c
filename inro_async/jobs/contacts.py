"""``update_many``: contact updates through ``PUT /contacts/bulk``, 1,000 per call.

Each chunk is one bulk request (202 + a batch task), then the batch task is followed to the end;
per-entry errors and unknown identifiers come back per item. The batch task id is journaled the
moment the API accepts a chunk, so a rerun after a crash follows the same task instead of
sending the chunk again. ``PUT`` is idempotent, so a chunk whose answer was lost is simply sent
again on the next run (``resend_unknown`` defaults to true here).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from inro_async._routes import ROUTES
from inro_async._validate_contacts import contact_update
from inro_async.errors import (
    APIStatusError,
    BadRequestError,
    InvalidArgumentError,
    NotFoundError,
    UnprocessableEntityError,
)
from inro_async.errors import BatchTaskTimeoutError as BatchTaskTimeoutError  # its old home
from inro_async.jobs._accounting import UnaccountedAnswerError, check_accounted
from inro_async.jobs._items import (
    MAX_CHUNK,
    Identifier,
    ItemStatus,
    Outcome,
    chunk_ranges,
    identifier_from_echo,
    normalize_recipient,
)
from inro_async.jobs._items import Unique as _Unique
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
    from inro_async.models.contacts import BulkUpdateResult

__all__ = ["BULK_FIELDS", "UpdateEntry", "normalize_updates", "update_many"]

BULK_FIELDS = frozenset(
    {"email", "phone", "language", "notes", "status", "folder_ids", "custom_properties"}
)
"""What the bulk ``contact`` object accepts (docs/wire.md, Contacts)."""
SINGLE_ONLY_FIELDS: frozenset[str] = frozenset()
"""Fields only the per-contact ``PUT /contact`` accepts; entries using one are sent that way.

Empty under today's wire contract (both routes take the same object); the split stays so that a
field the bulk route learns later, or never learns, changes one line here.
"""


class UpdateEntry(NamedTuple):
    """One entry of a bulk update: who (``identifier``) and what (the ``contact`` object)."""

    identifier: Identifier
    contact: Mapping[str, Any]
    single: bool = False
    """Sent with ``PUT /contact`` because the bulk route cannot carry one of its fields."""

    def as_entry(self) -> dict[str, Any]:
        """The bulk entry: ``{"email": "…", "contact": {…}}`` (also accepted as input)."""
        return {self.identifier.kind: self.identifier.value, "contact": dict(self.contact)}


def _check_fields(contact: object, argument: str, single_only: frozenset[str]) -> dict[str, Any]:
    """The change as a plain dict, checked by the contacts resource's own rules.

    One rule set decides what a valid change is, for one contact or for 50,000; fields only the
    per-contact route takes (``single_only``) are passed through for that route to judge.
    """
    if isinstance(contact, msgspec.Struct):  # models.contacts.ContactUpdate: unset fields drop
        contact = msgspec.to_builtins(contact)
    if not isinstance(contact, Mapping):
        raise InvalidArgumentError(argument, f"must be a mapping, got {type(contact).__name__}")
    extra = {key: value for key, value in contact.items() if key in single_only}
    bulk = {key: value for key, value in contact.items() if key not in single_only}
    fields: dict[str, Any] = {}
    if bulk or not extra:
        fields = msgspec.to_builtins(contact_update(argument, bulk))
    return {**fields, **extra}


def normalize_update(
    item: object, index: int, single_only: frozenset[str] = SINGLE_ONLY_FIELDS
) -> UpdateEntry:
    """One input update as a ``UpdateEntry``, or ``InvalidArgumentError`` naming its index.

    Accepted forms: the bulk entry ``{"id"|"username"|"email": …, "contact": {…}}``; a pair
    ``(recipient, {…})`` where the recipient is anything ``send_many`` accepts; an
    ``UpdateEntry``. The change may be a ``models.contacts.ContactUpdate`` instead of a dict.
    """
    argument = f"updates[{index}]"
    if isinstance(item, UpdateEntry):
        identifier, contact = item.identifier, item.contact
    elif isinstance(item, tuple) and len(item) == 2:
        identifier = normalize_recipient(item[0], index, "updates")
        contact = item[1]
    elif isinstance(item, Mapping):
        if "contact" not in item:
            raise InvalidArgumentError(
                argument,
                'expected {"id"|"username"|"email": …, "contact": {…}} or (recipient, {…})',
            )
        identifier = normalize_recipient(
            {k: v for k, v in item.items() if k != "contact"}, index, "updates"
        )
        contact = item["contact"]
    else:
        raise InvalidArgumentError(
            argument,
            f'expected {{"id"|"username"|"email": …, "contact": {{…}}}} or (recipient, {{…}}), '
            f"got {type(item).__name__}",
        )
    fields = _check_fields(contact, f"{argument}.contact", single_only)
    return UpdateEntry(identifier, fields, single=any(key in single_only for key in fields))


def _merge(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> dict[str, Any]:
    """Two updates of one contact as one, as if applied in order (properties merge by slug)."""
    merged = dict(earlier)
    for key, value in later.items():
        if key == "custom_properties" and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def normalize_updates(
    items: Iterable[object], single_only: frozenset[str] = SINGLE_ONLY_FIELDS
) -> _Unique[UpdateEntry, UpdateEntry]:
    """Validate every update and merge repeats of one identifier into one, in input order.

    Updates within one bulk call are applied in no promised order, so two entries for one contact
    are merged client-side (later fields win, custom properties merge by slug) rather than sent
    side by side. Bulk-capable entries come first, per-contact ones after them.
    """
    return _normalize_updates(items, single_only)[0]


def _normalize_updates(
    items: Iterable[object], single_only: frozenset[str]
) -> tuple[_Unique[UpdateEntry, UpdateEntry], dict[Identifier, tuple[int, ...]]]:
    """``normalize_updates``, and where each identifier's updates sit in the input."""
    merged: dict[Identifier, UpdateEntry] = {}
    inputs: dict[Identifier, tuple[int, ...]] = {}
    duplicates = 0
    for index, item in enumerate(items):
        update = normalize_update(item, index, single_only)
        inputs[update.identifier] = (*inputs.get(update.identifier, ()), index)
        previous = merged.get(update.identifier)
        if previous is None:
            merged[update.identifier] = update
            continue
        duplicates += 1
        contact = _merge(previous.contact, update.contact)
        merged[update.identifier] = UpdateEntry(
            update.identifier, contact, single=any(key in single_only for key in contact)
        )
    if not merged:
        raise InvalidArgumentError("updates", "must not be empty")
    ordered = [u for u in merged.values() if not u.single] + [
        u for u in merged.values() if u.single
    ]
    return _Unique(ordered, ordered, duplicates), inputs


def update_ranges(updates: Sequence[UpdateEntry], chunk_size: int) -> list[range]:
    """Bulk entries in chunks of ``chunk_size``, then one chunk per per-contact update."""
    bulk = sum(1 for u in updates if not u.single)
    return chunk_ranges(bulk, chunk_size) + chunk_ranges(len(updates) - bulk, 1, start=bulk)


def outcomes_from_batch(
    sent: Sequence[UpdateEntry],
    *,
    not_found: Iterable[object],
    task_status: str,
    errors: Iterable[object],
    inputs: Mapping[Identifier, Sequence[int]] | None = None,
) -> list[Outcome]:
    """Per entry: not found (from the 202), failed (batch task errors), or done.

    An error names its entry by identifier when it echoes one, else by ``index`` in the request.
    A task that ``failed`` without itemised errors failed every entry it accepted. With
    ``inputs`` (where each identifier sits in the caller's updates), a reason naming the
    entry's place in the request body names its place in the caller's input instead.
    """
    positions = {update.identifier: position for position, update in enumerate(sent)}
    outcomes: list[Outcome | None] = [None] * len(sent)
    for echo in not_found:
        ident = identifier_from_echo(echo)
        if ident is not None and ident in positions:
            outcomes[positions[ident]] = Outcome(ItemStatus.NOT_FOUND)
    for error in errors:
        get = error.get if isinstance(error, Mapping) else lambda k, e=error: getattr(e, k, None)
        ident = identifier_from_echo(get("identifier") or {})
        position = positions.get(ident) if ident is not None else None
        index = get("index")
        if position is None and isinstance(index, int) and 0 <= index < len(sent):
            position = index
        if position is not None:
            reason = str(get("error") or "failed")
            if inputs is not None:
                reason = _in_input_terms(reason, position, inputs.get(sent[position].identifier))
            outcomes[position] = Outcome(ItemStatus.FAILED, reason)
    if task_status == "failed":
        failed = Outcome(ItemStatus.FAILED, "the batch task failed")
        return [o if o is not None else failed for o in outcomes]
    done = Outcome(ItemStatus.DONE)
    return [o if o is not None else done for o in outcomes]


def _in_input_terms(reason: str, request_index: int, inputs: Sequence[int] | None) -> str:
    """A server reason about ``contacts[i]`` of one bulk request, reworded for the caller.

    The API counts within the request body (at most 1,000 entries), which says nothing about
    where the update sits in the caller's own list: ``contacts[207]`` of the second chunk is
    ``updates[1207]``. Updates merged from several input items name each of them. A reason
    naming no index is left as it is (the outcome is attached to its item already, and
    ``report.errors()`` keeps counting equal reasons together).
    """
    token = f"contacts[{request_index}]"
    if not inputs or token not in reason:
        return reason
    return reason.replace(token, " and ".join(f"updates[{index}]" for index in inputs))


def _field(obj: object, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


@dataclass(frozen=True, slots=True)
class UpdateContacts:
    """The ``update_many`` operation."""

    poll_interval: float = 1.0
    task_timeout: float = 600.0
    single_only: frozenset[str] = field(default=SINGLE_ONLY_FIELDS)
    kind: str = "update_many"
    idempotent: bool = ROUTES["contacts.bulk_update"].idempotent  # a PUT: True
    requests_per_chunk: float = 3.0  # the PUT and, typically, two polls
    inputs: Mapping[Identifier, Sequence[int]] = field(default_factory=dict, compare=False)
    """Where each identifier's updates sit in the caller's input, to word reasons by it."""

    def payload_fingerprint(self) -> str:
        """The changes live in the items; the payload is just the operation."""
        return payload_fingerprint(self.kind, {})

    def keys_text(self, items: Sequence[UpdateEntry]) -> str:
        """Per entry: identifier, canonical JSON of the change, a record separator (U+001E)."""
        return "".join(
            f"{item.identifier}:{json.dumps(item.contact, sort_keys=True, default=str)}\x1e"
            for item in items
        )

    async def run_chunk(self, ctx: ChunkContext, items: Sequence[UpdateEntry]) -> list[Outcome]:
        """One bulk request (or one per-contact PUT), followed to its end."""
        if items[0].single:
            return [await self._update_one(ctx, items[0])]
        checkpoint = json.loads(ctx.checkpoint) if ctx.checkpoint else None
        if checkpoint is not None:
            try:
                return await self._follow(ctx, items, checkpoint)
            except NotFoundError:
                pass  # the task is gone: send the chunk again (a PUT may be repeated)
        excluded: dict[int, str] = {}
        while True:
            sent = [p for p in range(len(items)) if p not in excluded]
            if not sent:
                return [Outcome(ItemStatus.FAILED, excluded[p]) for p in range(len(items))]
            try:
                # Checked once, when the job was built (normalize_updates): sent as they are.
                entries = [items[p].as_entry() for p in sent]
                result = await ctx.client.contacts._bulk_update_checked(entries)
            except BadRequestError as exc:
                # "each entry exactly one identifier (else 400, naming the entry's index; the
                # whole request is refused)": drop that entry and send the others again.
                index = exc.body.get("index") if isinstance(exc.body, Mapping) else None
                if not isinstance(index, int) or not 0 <= index < len(sent) or len(excluded) >= 10:
                    raise
                excluded[sent[index]] = _in_input_terms(
                    str(exc), index, self.inputs.get(items[sent[index]].identifier)
                )
                continue
            break
        self._check_accounted([items[p] for p in sent], result)
        checkpoint = {
            "batch_task_id": result.batch_task_id,
            "not_found": [_echo(echo) for echo in result.not_found],
            "excluded": {str(p): error for p, error in excluded.items()},
        }
        ctx.accept(json.dumps(checkpoint))
        return await self._follow(ctx, items, checkpoint)

    @staticmethod
    def _check_accounted(sent: Sequence[UpdateEntry], result: BulkUpdateResult) -> None:
        """Refuse a 202 that does not account for the entries sent, or names no task to follow.

        Checked before the task id is journaled: a chunk whose answer says nothing of it is
        ``unknown`` (the writes may have been made), not a task to follow on every rerun.
        """
        route = ROUTES["contacts.bulk_update"]
        outcomes = outcomes_from_batch(
            sent, not_found=result.not_found, task_status="completed", errors=()
        )
        check_accounted(
            "contacts",
            method=route.method,
            path=route.path,
            sent=[entry.identifier for entry in sent],
            outcomes=outcomes,
            accepted=result.accepted_count,
            not_found=result.not_found_count,
        )
        if result.accepted_count and not result.batch_task_id:
            raise UnaccountedAnswerError(
                f"the 2xx answer accepted {result.accepted_count:,} contacts but names no batch "
                "task to follow, so whether they were written cannot be told",
                method=route.method,
                path=route.path,
            )

    async def _follow(
        self, ctx: ChunkContext, items: Sequence[UpdateEntry], checkpoint: Mapping[str, Any]
    ) -> list[Outcome]:
        """Wait for the chunk's batch task and map its result back to the chunk's items."""
        excluded = {int(p): error for p, error in checkpoint.get("excluded", {}).items()}
        positions = [p for p in range(len(items)) if p not in excluded]
        sent = [items[p] for p in positions]
        not_found = checkpoint["not_found"]
        if len(not_found) >= len(sent):
            status, errors = "completed", ()
        else:
            # Past task_timeout this raises BatchTaskTimeoutError: the chunk stays accepted
            # (its outcome unknown) and a rerun follows the same task again.
            task = await ctx.client.batch_tasks.wait(
                checkpoint["batch_task_id"],
                poll_interval=self.poll_interval,
                timeout=self.task_timeout,
            )
            status, errors = str(_field(task, "status")), _field(task, "errors") or ()
        mapped = outcomes_from_batch(
            sent, not_found=not_found, task_status=status, errors=errors, inputs=self.inputs
        )
        outcomes = [Outcome(ItemStatus.FAILED, excluded.get(p)) for p in range(len(items))]
        for position, outcome in zip(positions, mapped, strict=True):
            outcomes[position] = outcome
        return outcomes

    async def _update_one(self, ctx: ChunkContext, item: UpdateEntry) -> Outcome:
        try:
            # The change goes in contact=: there, "email" is a new value, not the identifier.
            identifier: dict[str, Any] = item.identifier.as_dict()
            updated = await ctx.client.contacts.update_by(**identifier, contact=item.contact)
        except NotFoundError:
            return Outcome(ItemStatus.NOT_FOUND)
        except (BadRequestError, UnprocessableEntityError) as exc:
            return Outcome(ItemStatus.FAILED, str(exc))
        # The answer is the updated contact: one that names no contact, or another one than
        # the id addressed, says nothing of this update (``{}``, an error object with a 200).
        addressed = item.identifier.value if item.identifier.kind == "id" else None
        if updated.id <= 0 or (addressed is not None and updated.id != addressed):
            route = ROUTES["contacts.update_by"]
            raise UnaccountedAnswerError(
                f"the 2xx answer names no contact (id {updated.id}) for {item.identifier}, so "
                "whether the update was applied cannot be told",
                method=route.method,
                path=route.path,
            )
        return Outcome(ItemStatus.DONE)

    def is_fatal(self, error: BaseException) -> bool:
        """As ``send_many``: a 4xx other than 429 on the bulk route refuses every chunk."""
        return is_fatal_for_all(error) and not (
            isinstance(error, APIStatusError) and error.status == 404
        )


def _echo(echo: object) -> dict[str, Any]:
    ident = identifier_from_echo(echo)
    return ident.as_dict() if ident is not None else {}


def update_many(
    client: Client,
    updates: Iterable[object],
    *,
    job: str | os.PathLike[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    chunk_size: int = MAX_CHUNK,
    resend_unknown: bool = True,
    stop_when_blocked_over: timedelta | float | None = None,
    on_progress: ProgressCallback | None = None,
    poll_interval: float = 1.0,
    task_timeout: float = 600.0,
) -> Job[JobReport[Any]]:
    """Apply contact updates with ``PUT /contacts/bulk``, 1,000 per call, and follow each task.

    ``updates`` holds bulk entries (``{"email": "…", "contact": {"phone": "…"}}``) or pairs
    ``(recipient, {fields})``. Every entry is validated first; two updates of one contact are
    merged. Unknown identifiers are reported ``not_found`` and entries the batch task rejected
    ``failed`` with its error. Returns a ``Job``: ``report = await job``.
    """
    if not isinstance(updates, Iterable) or isinstance(updates, str | bytes | Mapping):
        raise InvalidArgumentError("updates", "must be a list (or other iterable) of updates")
    options = JobOptions.build(
        job=job,
        concurrency=concurrency,
        chunk_size=chunk_size,
        resend_unknown=resend_unknown,
        stop_when_blocked_over=stop_when_blocked_over,
        on_progress=on_progress,
    )
    unique, inputs = _normalize_updates(updates, SINGLE_ONLY_FIELDS)
    ranges = update_ranges(unique.keys, chunk_size)
    operation = UpdateContacts(
        poll_interval=poll_interval, task_timeout=task_timeout, inputs=inputs
    )
    return run_fanout(client, operation, unique, ranges, options)
