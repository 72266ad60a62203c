"""Sans-I/O: turning user input into identifiers, deduplicating, chunking, mapping answers back.

Nothing here sends a request or touches a file. Every input item is checked before a job sends
anything, and errors name the item's index (``recipients[41]: …``), so a bad row in a CRM export
costs no quota.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, Generic, Literal, NamedTuple, TypeVar, cast, overload

from inro_async._limits import MAX_CHUNK_SIZE
from inro_async._validate import check_chunk_size
from inro_async._validate_contacts import IDENTIFIER_PROBLEMS
from inro_async.errors import InvalidArgumentError

__all__ = [
    "MAX_CHUNK",
    "Identifier",
    "ItemStatus",
    "Outcome",
    "PlainIds",
    "Unique",
    "chunk_ranges",
    "dedupe",
    "identifier_from_echo",
    "identifier_keys_text",
    "normalize_recipient",
    "normalize_recipients",
    "outcomes_from_echoes",
    "recipient_identifiers",
    "recipient_lists",
]

MAX_CHUNK = MAX_CHUNK_SIZE
"""Recipients per ``POST /messages``, contacts per trigger or bulk update: the API's cap."""

IdentifierKind = Literal["id", "username", "email"]
_KINDS: tuple[IdentifierKind, ...] = ("id", "username", "email")

T = TypeVar("T")
K = TypeVar("K")


class Identifier(NamedTuple):
    """One way of naming a contact: by ``id``, ``username`` or ``email``."""

    kind: IdentifierKind
    value: int | str

    def as_dict(self) -> dict[str, int | str]:
        """The API's identifier object, e.g. ``{"username": "ana"}``."""
        return {self.kind: self.value}

    def __str__(self) -> str:
        return f"{self.kind}={self.value}"


class ItemStatus(Enum):
    """Where one input item ended up; the value is the one-letter code kept in the journal."""

    PENDING = "P"
    """Not attempted in this run (the job was paused, stopped or aborted first)."""
    DONE = "D"
    """Accepted by the API (message queued, update applied, scenario triggered)."""
    FAILED = "F"
    """The call carrying it failed, or the API reported an error for it; see its error."""
    NOT_FOUND = "N"
    """No contact matches the identifier."""
    SKIPPED = "S"
    """Not acted on: finished in an earlier run, or declined by the API (contact not active)."""
    UNKNOWN = "U"
    """Sent, but no answer said what became of it: it may or may not have been processed."""

    @property
    def label(self) -> str:
        """The lower-case name used in reports and events (``not_found``)."""
        return self.name.lower()


class Outcome(NamedTuple):
    """What happened to one item, with the API's reason or the error when there is one."""

    status: ItemStatus
    reason: str | None = None


def _bad(argument: str, index: int, rule: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{argument}[{index}]", rule)


def _check(kind: IdentifierKind, value: object, argument: str, index: int) -> Any:
    """``value`` as an identifier of ``kind``, by the resources' own rules (one set for both)."""
    problem = IDENTIFIER_PROBLEMS[kind](value)
    if problem is not None:
        raise _bad(argument, index, f"{kind} {problem}")
    return value


def _from_mapping(item: Mapping[Any, Any], argument: str, index: int) -> Identifier:
    unexpected = [key for key in item if key not in _KINDS]
    if unexpected:
        raise _bad(
            argument,
            index,
            f"unexpected key {unexpected[0]!r}; a recipient mapping holds exactly one of "
            "'id', 'username', 'email'",
        )
    given = [kind for kind in _KINDS if item.get(kind) is not None]
    if len(given) != 1:
        found = ", ".join(given) if given else "none"
        raise _bad(argument, index, f"pass exactly one of 'id', 'username', 'email' (got {found})")
    kind = given[0]
    return Identifier(kind, _check(kind, item[kind], argument, index))


def normalize_recipient(item: object, index: int = 0, argument: str = "recipients") -> Identifier:
    """One input item as an ``Identifier``, or ``InvalidArgumentError`` naming its index.

    * ``int`` → id; ``str`` with ``"@"`` inside → email; other ``str`` → username (a leading
      ``"@"`` is refused: Instagram handles are passed without it). A numeric string stays a
      username, and ``{"id": "42"}`` is refused: ids are integers, as in the resources.
    * a mapping with exactly one of ``"id"``, ``"username"``, ``"email"``;
    * an ``Identifier``, or any object with an integer ``id`` attribute (a ``Contact``).

    Values are checked by the resources' rules (``inro_async._validate_contacts``) and never
    trimmed: a username or email with spaces or control characters is refused, not sent.
    """
    if isinstance(item, Identifier):
        return item
    if isinstance(item, bool):
        raise _bad(argument, index, f"expected an id, username, email or contact, got {item!r}")
    if isinstance(item, int):
        return Identifier("id", _check("id", item, argument, index))
    if isinstance(item, str):
        text = item.strip()  # only to tell the kind: the value is checked as given
        kind: IdentifierKind = "email" if "@" in text and not text.startswith("@") else "username"
        return Identifier(kind, _check(kind, item, argument, index))
    if isinstance(item, Mapping):
        return _from_mapping(item, argument, index)
    contact_id = getattr(item, "id", None)
    if isinstance(contact_id, int) and not isinstance(contact_id, bool):
        return Identifier("id", _check("id", contact_id, argument, index))
    raise _bad(
        argument,
        index,
        f"expected an id (int), username or email (str), a mapping or a contact; "
        f"got {type(item).__name__}",
    )


@dataclass(frozen=True, slots=True)
class Unique(Generic[K, T]):
    """Deduplicated input: the distinct keys in first-seen order, each with its first item."""

    keys: Sequence[K]
    originals: Sequence[T]
    """The input item that introduced each key (what ``failed_items()`` hands back)."""
    duplicates: int
    """Items dropped because their key had already been seen."""


def dedupe(keys: Iterable[K], items: Iterable[T]) -> Unique[K, T]:
    """Keep the first occurrence of each key, in input order."""
    # The usual case, no repeats, checked in C: 100,000 identifiers in ~10 ms instead of ~80.
    if (
        isinstance(keys, list)
        and isinstance(items, list)
        and len(keys) == len(items)
        and len(dict.fromkeys(keys)) == len(keys)
    ):
        return Unique(keys, items, 0)
    seen: set[K] = set()
    unique_keys: list[K] = []
    originals: list[T] = []
    duplicates = 0
    for key, item in zip(keys, items, strict=True):
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        unique_keys.append(key)
        originals.append(item)
    return Unique(unique_keys, originals, duplicates)


class PlainIds(Sequence[Identifier]):
    """Positive int ids read as ``Identifier("id", n)``, made one chunk at a time.

    The usual 100,000-id input: building 100,000 named tuples up front cost 50-150 ms (the
    cyclic GC runs over them as they are made) before the first request could go.
    """

    __slots__ = ("ids",)

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Identifier: ...

    @overload
    def __getitem__(self, index: slice) -> PlainIds: ...

    def __getitem__(self, index: int | slice) -> Identifier | PlainIds:
        if isinstance(index, slice):
            return PlainIds(self.ids[index])
        return Identifier("id", self.ids[index])

    def __iter__(self) -> Iterator[Identifier]:
        return map(tuple.__new__, repeat(Identifier), zip(repeat("id"), self.ids))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PlainIds):
            return self.ids == other.ids
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<PlainIds {len(self.ids):,} ids>"


def normalize_recipients(
    items: Iterable[object], argument: str = "recipients"
) -> Unique[Identifier, object]:
    """Validate every item (raising on the first bad one) and deduplicate exact repeats.

    Two spellings of one contact (its id and its username) cannot be told apart without asking
    the server, so they stay two recipients; exact repeats are sent and reported once.
    """
    materialized = list(items)
    if not materialized:
        raise InvalidArgumentError(argument, "must not be empty")
    if set(map(type, materialized)) == {int} and min(cast(list[int], materialized)) > 0:
        # Only positive ints (the 100,000-id case): checked and deduplicated in C.
        ids = cast(list[int], materialized)
        distinct = list(dict.fromkeys(ids))
        unique_ids = ids if len(distinct) == len(ids) else distinct
        return Unique(PlainIds(unique_ids), unique_ids, len(ids) - len(distinct))
    identifiers = [
        Identifier("id", item)
        if type(item) is int and item > 0
        else normalize_recipient(item, index, argument)
        for index, item in enumerate(materialized)
    ]
    return dedupe(identifiers, materialized)


def identifier_keys_text(identifiers: Sequence[Identifier]) -> str:
    """Each identifier as ``kind=value`` plus a record separator (U+001E): the item fingerprint."""
    if isinstance(identifiers, PlainIds):
        return ("id=%d\x1e" * len(identifiers)) % tuple(identifiers.ids)
    return ("%s=%s\x1e" * len(identifiers)) % tuple(chain.from_iterable(identifiers))


def chunk_ranges(count: int, size: int = MAX_CHUNK, *, start: int = 0) -> list[range]:
    """Split positions ``start .. start+count-1`` into consecutive ranges of at most ``size``."""
    check_chunk_size(size)
    if count < 0:
        raise InvalidArgumentError("count", f"must be >= 0, got {count!r}")
    chunks = math.ceil(count / size)
    return [range(start + i * size, start + min(count, (i + 1) * size)) for i in range(chunks)]


def recipient_lists(identifiers: Sequence[Identifier]) -> dict[str, list[int | str]]:
    """The plural recipient fields of one ``POST /messages`` (empty lists left out)."""
    if isinstance(identifiers, PlainIds):
        return {"contact_ids": list(identifiers.ids)}
    if set(map(itemgetter(0), identifiers)) == {"id"}:  # the usual case, at C speed
        return {"contact_ids": list(map(itemgetter(1), identifiers))}
    lists: dict[str, list[int | str]] = {}
    for kind, field in (
        ("id", "contact_ids"),
        ("username", "contact_usernames"),
        ("email", "contact_emails"),
    ):
        values = [ident.value for ident in identifiers if ident.kind == kind]
        if values:
            lists[field] = values
    return lists


_RECIPIENT_KINDS: dict[str, IdentifierKind] = {
    "contact_id": "id",
    "contact_ids": "id",
    "contact_username": "username",
    "contact_usernames": "username",
    "contact_email": "email",
    "contact_emails": "email",
}


def recipient_identifiers(recipients: Mapping[str, Any]) -> list[Identifier]:
    """The identifiers named by checked ``POST /messages`` recipient fields, in field order.

    The inverse of ``recipient_lists``, for the singular fields too (``contact_id=42``).
    """
    identifiers: list[Identifier] = []
    for name, value in recipients.items():
        kind = _RECIPIENT_KINDS[name]
        values = value if isinstance(value, list | tuple) else [value]
        identifiers.extend(Identifier(kind, item) for item in values)
    return identifiers


def identifier_from_echo(echo: object) -> Identifier | None:
    """The identifier in an echoed object (``{"email": "…"}`` or a model with such a field)."""
    for kind in _KINDS:
        value = echo.get(kind) if isinstance(echo, Mapping) else getattr(echo, kind, None)
        if isinstance(value, bool) or value is None:
            continue
        if kind == "id":
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            if isinstance(value, int):
                return Identifier("id", value)
        elif isinstance(value, str):
            return Identifier(kind, value)
    return None


def _reason_of(echo: object) -> str | None:
    reason = echo.get("reason") if isinstance(echo, Mapping) else getattr(echo, "reason", None)
    return reason if isinstance(reason, str) else None


def outcomes_from_echoes(
    sent: Sequence[Identifier],
    *,
    not_found: Iterable[object] = (),
    skipped: Iterable[object] = (),
) -> list[Outcome]:
    """Per sent identifier: not found, skipped (with the API's reason), or done.

    The API echoes identifiers "as sent" (docs/wire.md); an echo that matches nothing sent is
    ignored rather than guessed at.
    """
    by_identifier: dict[Identifier, Outcome] = {}
    for echo in not_found:
        ident = identifier_from_echo(echo)
        if ident is not None:
            by_identifier[ident] = Outcome(ItemStatus.NOT_FOUND)
    for echo in skipped:
        ident = identifier_from_echo(echo)
        if ident is not None:
            by_identifier.setdefault(ident, Outcome(ItemStatus.SKIPPED, _reason_of(echo)))
    done = Outcome(ItemStatus.DONE)
    if not by_identifier:
        return [done] * len(sent)
    return list(map(by_identifier.get, sent, repeat(done)))
