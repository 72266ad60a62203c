"""Helpers of the mirror tests: a fake with quotas that never pace, the server's rows."""

from __future__ import annotations

from typing import Any

import pytest

from inro_async import Client
from inro_async.governor._base import Quota
from inro_async.mirror._rows import COLUMNS
from inro_async.testing import FakeInro
from inro_async.testing.churn import create_contact, delete_contact
from inro_async.testing.store import Organization

FAST = (Quota(100_000, 1),)
"""Quotas that never pace: these tests are about data, not rate."""


async def started(contacts: int, **options: Any) -> FakeInro:
    fake = FakeInro(quotas=FAST, **options)
    fake.add_organization(contacts=contacts)
    await fake.start()
    return fake


def client_for(fake: FakeInro, token: str = "test-token") -> Client:  # noqa: S107
    return Client(token=token, base_url=fake.base_url, quotas=FAST)


def server_rows(fake: FakeInro) -> list[dict[str, Any]]:
    """The server's contacts as the mirror should hold them."""
    rows = []
    for contact_id in sorted(fake.org.contacts):
        contact = fake.org.contacts[contact_id]
        row = {name: contact.get(name) for name in COLUMNS}
        row["folders"] = [{"id": f["id"], "name": f["name"]} for f in contact["folders"]]
        rows.append(row)
    return rows


def shift_between_pages(
    org: Organization, monkeypatch: pytest.MonkeyPatch, per_page: int, *, times: int = 2
) -> None:
    """Shift the pages between list requests, as a busy organization does.

    Before each of the ``times`` list requests after the first, the first ``per_page // 40``
    contacts are deleted and as many created: the count holds, every page after them shifts.
    """
    listed = org.ordered_ids
    calls = 0

    def shifting(*args: Any) -> list[int]:
        nonlocal calls
        calls += 1
        if 1 < calls <= 1 + times:
            for contact_id in sorted(org.contacts)[: per_page // 40]:
                delete_contact(org, contact_id)
                create_contact(org)
        return listed(*args)

    monkeypatch.setattr(org, "ordered_ids", shifting)
