"""``inro fake-server --orgs N``: which tokens are served (the banner lists them)."""

from __future__ import annotations

from inro_async.cli.fake_server import organization_tokens


def test_orgs_alone_serves_org_1_to_org_n() -> None:
    assert organization_tokens((), 3) == ("org-1", "org-2", "org-3")


def test_orgs_tops_up_the_tokens_given_to_n_in_all() -> None:
    assert organization_tokens(("mine",), 3) == ("mine", "org-1", "org-2")
    assert organization_tokens(("a", "b"), 1) == ("a", "b")


def test_without_orgs_or_tokens_the_well_known_test_token() -> None:
    assert organization_tokens((), None) == ("test-token",)
