"""The "Done when" of issue #3, kept true: every public resource method is called in this folder.

A method added to a resource without a loopback test fails here, naming it.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from inro_async.client import Client
from inro_async.resources._base import Resource

HERE = Path(__file__).parent


def public_methods() -> dict[str, list[str]]:
    """Resource attribute of ``Client`` → its public methods (``contacts`` → ``get``, …)."""
    found: dict[str, list[str]] = {}
    for attribute, member in vars(Client).items():
        if not isinstance(member, cached_property):
            continue
        cls = type(member.func(object.__new__(Client)))  # a resource only keeps its client
        assert issubclass(cls, Resource), attribute
        found[attribute] = sorted(
            name
            for name, value in vars(cls).items()
            if not name.startswith("_") and callable(value)
        )
    return found


def test_every_resource_method_is_exercised_over_loopback() -> None:
    sources = "\n".join(
        path.read_text() for path in HERE.glob("test_*.py") if path.name != "test_coverage.py"
    )
    methods = public_methods()
    assert len(methods) == 12
    missing = [
        f"{attribute}.{name}"
        for attribute, names in methods.items()
        for name in names
        if not re.search(rf"\b{attribute}\.{name}\(", sources)
    ]
    missing += [name for name in ("me", "request") if f".{name}(" not in sources]
    assert missing == []
