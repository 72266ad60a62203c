"""The one idempotency rule (``_routes.is_idempotent``): when a request may be repeated blindly."""

from __future__ import annotations

import pytest

from inro_async._routes import ROUTES, is_idempotent, is_read


@pytest.mark.parametrize(
    ("method", "facts", "repeatable"),
    [
        ("GET", {}, True),
        ("HEAD", {}, True),
        ("OPTIONS", {}, True),
        ("PUT", {}, True),
        ("DELETE", {}, True),
        ("POST", {}, False),
        ("PATCH", {}, False),
        ("POST", {"reads": True}, True),  # a query sent as POST (contacts.filter)
        ("DELETE", {"counts_changes": True}, False),  # a repeat would answer "removed 0"
        ("PUT", {"readdresses": True}, False),  # a repeat looks up the old email: nobody
        ("GET", {"counts_changes": True}, True),  # a read changes nothing to count
    ],
)
def test_whether_a_request_may_be_repeated(
    method: str, facts: dict[str, bool], repeatable: bool
) -> None:
    assert is_idempotent(method, **facts) is repeatable


def test_only_reads_have_no_outcome_when_lost() -> None:
    assert [m for m in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST") if is_read(m)] == [
        "GET",
        "HEAD",
        "OPTIONS",
    ]


def test_each_route_answers_by_the_rule_from_its_own_facts() -> None:
    assert ROUTES["contacts.filter"].idempotent  # a read sent as POST
    assert not ROUTES["folders.remove_contacts"].idempotent  # counts its changes
    assert not ROUTES["messages.send"].idempotent
    assert ROUTES["contacts.update_by"].idempotent
    assert not ROUTES["contacts.update_by"].idempotent_for(readdresses=True)
