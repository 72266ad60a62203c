"""The fake's handler modules (``inro_async.testing._handlers``): one per resource family."""

from __future__ import annotations

from collections import Counter

from inro_async._routes import ROUTES
from inro_async.testing._handlers import HANDLERS, MODULES


def test_every_route_has_one_handler() -> None:
    assert set(HANDLERS) == set(ROUTES)


def test_no_two_handler_modules_claim_the_same_route() -> None:
    claims = Counter(name for module in MODULES for name in module.HANDLERS)
    assert [name for name, count in claims.items() if count > 1] == []


def test_each_module_serves_the_routes_of_its_own_family() -> None:
    # ``contacts.py`` serves ``contacts.*``; media serves posts and uploaded files; ``me`` is
    # the organization's.
    families = {"organization": {"me"}, "media": {"medias", "media_files"}}
    for module in MODULES:
        short = module.__name__.rsplit(".", 1)[-1]
        expected = families.get(short, {short})
        assert {name.split(".", 1)[0] for name in module.HANDLERS} == expected, short
