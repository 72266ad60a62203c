"""Contacts that change over time: create, update and delete them as the Inrō app would.

``create_contact``, ``update_contact`` and ``delete_contact`` act on an ``Organization`` (what a
test holds as ``fake.org``); ``random_changes`` applies a seeded mix of them, one per contact;
``churn`` keeps doing so at a rate (``inro fake-server --churn 60/min``). Every change bumps
``updated_at`` to the server's clock, so ``order_column=updated_at`` lists see it first.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Literal, NamedTuple

from inro_async.errors import InvalidArgumentError
from inro_async.testing.generate import generate_contacts
from inro_async.testing.store import Organization

__all__ = [
    "Change",
    "churn",
    "create_contact",
    "delete_contact",
    "parse_rate",
    "random_changes",
    "update_contact",
]

ChangeKind = Literal["created", "updated", "deleted"]


class Change(NamedTuple):
    """One change made to the organization's contacts."""

    kind: ChangeKind
    contact_id: int


def create_contact(org: Organization, *, seed: int | None = None, **fields: Any) -> dict[str, Any]:
    """Add a new contact (a fresh id, generated fields overridden by ``fields``)."""
    contact_id = org.last_contact_id + 1
    folders = {fid: f["name"] for fid, f in org.folders.items()}
    (contact,) = generate_contacts(
        1, seed=contact_id if seed is None else seed, folders=folders, start_id=contact_id
    )
    contact.update(fields)
    org.add_contact(contact)
    org.changed(contact)  # created now: updated_at is the server's clock
    return contact


def update_contact(org: Organization, contact_id: int, **changes: Any) -> dict[str, Any]:
    """Change a contact's fields (``notes="vip"``, ``custom_properties={...}``)."""
    contact = org.contacts[contact_id]
    old_email = contact.get("email")
    contact.update(changes)
    org.changed(contact, old_email=old_email)
    return contact


def delete_contact(org: Organization, contact_id: int) -> None:
    """Delete a contact: lists no longer show it."""
    org.remove_contact(contact_id)


def random_changes(
    org: Organization, count: int, *, seed: int = 0, kinds: tuple[ChangeKind, ...] | None = None
) -> list[Change]:
    """Apply ``count`` seeded changes, each to a different contact (so each is one event)."""
    rng = random.Random(seed)
    chosen = kinds or ("created", "updated", "deleted")
    existing = list(org.contacts)
    rng.shuffle(existing)
    changes: list[Change] = []
    for _ in range(count):
        kind = rng.choice(chosen) if existing else "created"
        if kind == "created":
            changes.append(
                Change("created", create_contact(org, seed=rng.randrange(1 << 30))["id"])
            )
            continue
        contact_id = existing.pop()
        if kind == "updated":
            update_contact(org, contact_id, notes=f"note {rng.randrange(1 << 30)}")
        else:
            delete_contact(org, contact_id)
        changes.append(Change(kind, contact_id))
    return changes


def parse_rate(text: str) -> float:
    """``60/min``, ``5/s`` or ``100/h`` as changes per second; ``ValueError`` otherwise."""
    count, _, unit = text.partition("/")
    seconds = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "hour": 3600.0}
    try:
        rate = float(count) / seconds[unit]
    except (KeyError, ValueError):
        raise InvalidArgumentError(
            "rate", f"expected COUNT/min (or /s, /h), got {text!r}"
        ) from None
    if not rate > 0:
        raise InvalidArgumentError("rate", f"must be positive, got {text!r}")
    return rate


async def churn(org: Organization, per_second: float, *, seed: int = 0) -> None:
    """Change one contact every ``1 / per_second`` seconds, forever (cancel to stop)."""
    step = 0
    while True:
        await asyncio.sleep(1 / per_second)
        random_changes(org, 1, seed=seed * 1_000_003 + step)
        step += 1
