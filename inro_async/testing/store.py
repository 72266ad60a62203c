"""One organization's data in the fake server: contacts, folders, automations, deliveries.

Tests read it directly (``org.contacts``, ``org.deliveries``, ``org.delivery_counts()``).
Contacts are kept as API-shaped dicts and encoded to JSON once, cached until they change, so
a 1,000-contact page is a join of cached bytes.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

import msgspec

from inro_async.governor._base import Quota
from inro_async.testing._ratelimit import Mode, RateLimiter
from inro_async.testing.generate import DEFAULT_FOLDERS, DEFAULT_PROPERTIES, generate_contacts, iso

__all__ = ["Delivery", "Organization"]

_encode = msgspec.json.Encoder().encode

ORDER_COLUMNS = ("id", "created_at", "updated_at", "username", "name", "follower_count")
"""Columns ``order_column`` accepts (docs/wire.md)."""


class Delivery(NamedTuple):
    """One message that reached one contact (what ``DeliveryLog`` hands back for each row)."""

    contact_id: int
    message_type: str
    content: str | None
    media: Any
    source: str
    """``message``, ``scenario``, ``campaign`` or ``campaign_test``."""
    at: float
    """Server clock (epoch seconds)."""


class DeliveryLog(Sequence[Delivery]):
    """Every delivery in order, read as ``Delivery`` tuples, kept as plain ones.

    A plain tuple of strings and numbers is dropped from the cyclic GC's lists, so 100,000
    deliveries do not make its full passes long (each stalled the server ~90 ms and so delayed
    every answer in flight).
    """

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []

    def append(self, delivery: Delivery) -> None:
        """Record one delivery."""
        self._rows.append(tuple(delivery))

    def extend_rows(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Record deliveries given as plain tuples in ``Delivery`` field order."""
        self._rows.extend(rows)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Delivery: ...

    @overload
    def __getitem__(self, index: slice) -> list[Delivery]: ...

    def __getitem__(self, index: int | slice) -> Delivery | list[Delivery]:
        if isinstance(index, slice):
            return [Delivery._make(row) for row in self._rows[index]]
        return Delivery._make(self._rows[index])

    def __iter__(self) -> Iterator[Delivery]:
        return map(Delivery._make, self._rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DeliveryLog):
            return self._rows == other._rows
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<DeliveryLog {len(self._rows)} deliveries>"


@dataclass(eq=False)
class Organization:
    """Everything one token can see and change."""

    token: str = field(repr=False)
    id: int
    name: str
    plan: str
    limiter: RateLimiter
    clock: Callable[[], float] = field(repr=False)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    folders: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    medias: list[dict[str, Any]] = field(default_factory=list, repr=False)
    media_files: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    scenarios: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    campaigns: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    segments: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    executions: list[dict[str, Any]] = field(default_factory=list, repr=False)
    batch_tasks: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    templates: list[dict[str, Any]] = field(default_factory=list, repr=False)
    deliveries: DeliveryLog = field(default_factory=lambda: DeliveryLog(), repr=False)
    conversations: dict[int, tuple[dict[str, Any], ...]] = field(default_factory=dict, repr=False)
    """Each contact's messages, oldest first (tuples of flat dicts: the GC never tracks them)."""
    last_contact_id: int = 0
    """The highest contact id ever added (a deleted contact's id is never given again)."""
    ignore_order: bool = False
    """Answer contact lists in id order whatever ``order_column`` asks (as the real API may)."""
    _encoded: dict[int, bytes] = field(default_factory=dict, repr=False)
    _by_username: dict[str, int] = field(default_factory=dict, repr=False)
    _by_email: dict[str, int] = field(default_factory=dict, repr=False)
    _orders: dict[tuple[str, str], list[int]] = field(default_factory=dict, repr=False)
    _counter: Callable[[], int] = field(
        default_factory=lambda: itertools.count(1).__next__, repr=False
    )

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        token: str,
        *,
        org_id: int,
        plan: str,
        quotas: tuple[Quota, ...],
        mode: Mode,
        clock: Callable[[], float],
        contacts: int,
        seed: int,
    ) -> Organization:
        """A populated organization: folders, properties, posts, templates and contacts."""
        org = cls(
            token=token,
            id=org_id,
            name=f"Fake Organization {org_id}",
            plan=plan,
            limiter=RateLimiter(quotas, mode),
            clock=clock,
        )
        for name, color in DEFAULT_FOLDERS:
            folder_id = org.next_id()
            org.folders[folder_id] = {"id": folder_id, "name": name, "color": color}
        for prop in DEFAULT_PROPERTIES:
            org.properties[prop["slug"]] = dict(prop)
        for index, media_type in enumerate(("IMAGE", "REEL", "CAROUSEL_ALBUM", "VIDEO", "IMAGE")):
            media_id = 17_900_000_000 + index
            org.medias.append(
                {
                    "id": media_id,
                    "media_type": media_type,
                    "caption": f"Post number {index + 1}",
                    "permalink": f"https://instagram.com/p/FAKE{index}",
                    "timestamp": iso(clock() - 86_400 * (index + 1)),
                }
            )
        org.templates = [
            {
                "id": 501,
                "title": "Welcome new followers",
                "kind": "scenario",
                "description": "Greets every new contact",
            },
            {
                "id": 502,
                "title": "Comment to DM",
                "kind": "scenario",
                "description": "Answers keyword comments by DM",
            },
            {
                "id": 601,
                "title": "Black Friday broadcast",
                "kind": "campaign",
                "description": "One promotional message",
            },
        ]
        folder_names = {fid: f["name"] for fid, f in org.folders.items()}
        for contact in generate_contacts(contacts, seed=seed, folders=folder_names, now=clock()):
            org.add_contact(contact)
        return org

    def next_id(self) -> int:
        """A fresh id for any object of this organization."""
        return self._counter()

    # -- contacts ----------------------------------------------------------------------------

    def add_contact(self, contact: dict[str, Any]) -> None:
        """Insert a contact (API-shaped dict) and index it."""
        contact_id = contact["id"]
        self.contacts[contact_id] = contact
        self.last_contact_id = max(self.last_contact_id, contact_id)
        self._index(contact)
        self._encoded.pop(contact_id, None)
        self._orders.clear()

    def remove_contact(self, contact_id: int) -> None:
        """Delete a contact (as someone would in the Inrō app): lists no longer show it."""
        contact = self.contacts.pop(contact_id)
        if contact.get("username"):
            self._by_username.pop(contact["username"].lower(), None)
        if contact.get("email"):
            self._by_email.pop(contact["email"].lower(), None)
        self._encoded.pop(contact_id, None)
        self._orders.clear()

    def _index(self, contact: dict[str, Any]) -> None:
        if contact.get("username"):
            self._by_username[contact["username"].lower()] = contact["id"]
        if contact.get("email"):
            self._by_email[contact["email"].lower()] = contact["id"]

    def changed(self, contact: dict[str, Any], *, old_email: str | None = None) -> None:
        """Call after changing a contact: refreshes indexes, ``updated_at`` and the cache."""
        if old_email and old_email.lower() != (contact.get("email") or "").lower():
            self._by_email.pop(old_email.lower(), None)
        contact["updated_at"] = iso(self.clock())
        self._index(contact)
        self._encoded.pop(contact["id"], None)
        self._orders.clear()

    def find(self, identifier: Mapping[str, Any]) -> dict[str, Any] | None:
        """The contact named by ``{"id"|"username"|"email": …}``, or None."""
        if "id" in identifier:
            try:
                return self.contacts.get(int(identifier["id"]))
            except (TypeError, ValueError):
                return None
        if "username" in identifier:
            found = self._by_username.get(str(identifier["username"]).lower())
        elif "email" in identifier:
            found = self._by_email.get(str(identifier["email"]).lower())
        else:
            return None
        return self.contacts.get(found) if found is not None else None

    def encoded(self, contact_id: int) -> bytes:
        """The contact's JSON bytes, encoded once until it changes."""
        cached = self._encoded.get(contact_id)
        if cached is None:
            cached = self._encoded[contact_id] = _encode(self.contacts[contact_id])
        return cached

    def ordered_ids(self, column: str = "id", direction: str = "asc") -> list[int]:
        """Contact ids sorted by a column, cached until a contact changes."""
        key = (column, direction)
        cached = self._orders.get(key)
        if cached is None:
            if column == "id":
                cached = sorted(self.contacts)
            else:
                cached = sorted(
                    self.contacts,
                    key=lambda cid: (_sort_key(self.contacts[cid].get(column)), cid),
                )
            if direction == "desc":
                cached.reverse()
            self._orders[key] = cached
        return cached

    def folder_members(self, folder_id: int) -> list[int]:
        """Ids of the contacts in a folder, in id order."""
        return [
            cid
            for cid in self.ordered_ids()
            if any(f["id"] == folder_id for f in self.contacts[cid]["folders"])
        ]

    # -- deliveries --------------------------------------------------------------------------

    def deliver(
        self,
        contact: dict[str, Any],
        *,
        message_type: str,
        content: str | None,
        media: Any,
        source: str,
    ) -> Delivery:
        """Record that a message reached a contact (and show it in its conversation)."""
        self.deliver_many(
            (contact,), message_type=message_type, content=content, media=media, source=source
        )
        return self.deliveries[-1]

    def deliver_many(
        self,
        contacts: Iterable[dict[str, Any]],
        *,
        message_type: str,
        content: str | None,
        media: Any,
        source: str,
    ) -> None:
        """``deliver`` to each contact in turn, at one clock reading (a send to 1,000 in ~1 ms)."""
        now = self.clock()
        received_at = iso(now)
        last = {"content": content, "received_at": received_at, "received": False}
        conversations, encoded = self.conversations, self._encoded
        rows: list[tuple[Any, ...]] = []
        first_id = len(self.deliveries) + 1
        for message_id, contact in enumerate(contacts, first_id):
            contact_id = contact["id"]
            rows.append((contact_id, message_type, content, media, source, now))
            message = {
                "id": message_id,
                "content": content,
                "message_type": message_type,
                "received": False,
                "received_at": received_at,
            }
            conversations[contact_id] = (*conversations.get(contact_id, ()), message)
            recent = contact["last_messages"]  # in place: no new list for the GC to track
            recent.insert(0, last.copy())
            del recent[10:]
            encoded.pop(contact_id, None)
        self.deliveries.extend_rows(rows)

    def delivery_counts(self) -> Counter[int]:
        """How many messages each contact received (contact id → count)."""
        return Counter(d.contact_id for d in self.deliveries)

    def deliveries_to(self, contact_id: int) -> list[Delivery]:
        """Every message one contact received, in order."""
        return [d for d in self.deliveries if d.contact_id == contact_id]


def _sort_key(value: Any) -> tuple[int, Any]:
    # None sorts first, then values of one type.
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.lower())
    return (1, value)
