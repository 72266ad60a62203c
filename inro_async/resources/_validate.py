"""Argument rules checked before a request is sent: bad input costs no quota.

Each check raises ``InvalidArgumentError`` naming the argument and the rule it broke.
"""

from __future__ import annotations

from collections.abc import Sized

from inro_async.errors import InvalidArgumentError

MAX_PER_PAGE = 1000
"""The API's cap on ``per_page`` ([ref])."""
MAX_RECIPIENTS = 1000
"""Recipients per ``POST /messages``, contacts per bulk update or trigger ([help], [mcp])."""


def check_page(page: int) -> None:
    """``page`` is a 1-based integer."""
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidArgumentError("page", f"must be an integer >= 1, got {page!r}")


def check_per_page(per_page: int) -> None:
    """``per_page`` is an integer from 1 to 1,000."""
    if (
        isinstance(per_page, bool)
        or not isinstance(per_page, int)
        or not (1 <= per_page <= MAX_PER_PAGE)
    ):
        raise InvalidArgumentError(
            "per_page", f"must be an integer from 1 to {MAX_PER_PAGE}, got {per_page!r}"
        )


def check_count(argument: str, items: Sized, *, maximum: int = MAX_RECIPIENTS) -> None:
    """A list argument holds from 1 to ``maximum`` items."""
    count = len(items)
    if count == 0:
        raise InvalidArgumentError(argument, "must not be empty")
    if count > maximum:
        raise InvalidArgumentError(
            argument, f"holds {count:,} items; the API accepts at most {maximum:,} per call"
        )


def one_identifier(
    *, id: int | None = None, username: str | None = None, email: str | None = None
) -> dict[str, int | str]:
    """Exactly one of id / username / email, validated, as the API's identifier object."""
    given = {
        key: value
        for key, value in (("id", id), ("username", username), ("email", email))
        if value is not None
    }
    if len(given) != 1:
        names = ", ".join(given) if given else "none"
        raise InvalidArgumentError(
            "id/username/email", f"pass exactly one identifier (got {names})"
        )
    key, value = next(iter(given.items()))
    if key == "id":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgumentError("id", f"must be a positive integer, got {value!r}")
    elif not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(key, f"must be a non-empty string, got {value!r}")
    elif key == "username" and value.startswith("@"):
        raise InvalidArgumentError("username", f"is the handle without '@', got {value!r}")
    elif key == "email" and "@" not in value:
        raise InvalidArgumentError("email", f"is not an email address: {value!r}")
    return {key: value}
