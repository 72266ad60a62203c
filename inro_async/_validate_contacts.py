"""Contact rules checked before a request: identifiers, recipients, updates, bulk entries, order.

What an id, a username and an email are (``IDENTIFIER_PROBLEMS``: the one set of rules for the
resources, the jobs and the CLI; every object id, a folder's or a campaign's too, is checked by
its ``"id"`` rule), exactly one identifier of a contact, the recipients of a message, a
``contact`` update object, the entries of a bulk update, and the order of contact lists. Each
check raises ``InvalidArgumentError`` naming the argument and the rule it broke; the generic
checks they build on (lists, counts, choices, offsets) are in ``_validate.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, get_args

import msgspec

from inro_async._json_values import check_json_value
from inro_async._limits import (
    MAX_CONTACTS_PER_BULK_UPDATE,
    MAX_EMAIL_LENGTH,
    MAX_RECIPIENTS_PER_MESSAGE,
    MAX_USERNAME_LENGTH,
)
from inro_async._validate import check_choice, check_count, check_list, check_offset
from inro_async.errors import InvalidArgumentError
from inro_async.models.contacts import ContactUpdate, OrderColumn, OrderDirection

# -- contact identifiers: the one set of rules for resources, jobs and the CLI -----------------
#
# Each ``*_problem`` function says what is wrong with a value (``None``: nothing), worded to
# follow the argument's name ("username: cannot contain spaces…"), so that the resources
# (``contact_username: …``) and the jobs (``recipients[41]: username cannot…``) refuse the same
# values with the same words.

_USERNAME = re.compile(r"[A-Za-z0-9._]+")
"""Instagram's alphabet for handles: letters, digits, periods and underscores."""


def id_problem(value: object) -> str | None:
    """An object id is a positive ``int``; not a bool, not a numeric string (``int("42")`` it)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"must be a positive integer, got {value!r}"
    return None


def _text_problem(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return f"must be a non-empty string, got {value!r}"
    if " " in value or not value.isprintable():
        return f"cannot contain spaces or control characters, got {value!r}"
    return None


def username_problem(value: object) -> str | None:
    """An Instagram handle without ``@``: 1 to 30 letters, digits, ``.`` or ``_``."""
    problem = _text_problem(value)
    if problem is not None or not isinstance(value, str):
        return problem
    if value.startswith("@"):
        return f"is the handle without '@' ({value.lstrip('@')!r}), got {value!r}"
    if "@" in value:
        return f"cannot contain '@' (an email goes as email), got {value!r}"
    if not _USERNAME.fullmatch(value):
        return f"holds only letters, digits, '.' and '_' (Instagram's rule), got {value!r}"
    if len(value) > MAX_USERNAME_LENGTH:
        return f"has at most {MAX_USERNAME_LENGTH} characters (Instagram's rule), got {len(value)}"
    return None


def email_problem(value: object) -> str | None:
    """An address ``name@domain``: one ``@`` with text on both sides, no spaces or controls.

    Only the shape is checked (the API decides whether the address exists).
    """
    problem = _text_problem(value)
    if problem is not None or not isinstance(value, str):
        return problem
    name, _, domain = value.partition("@")
    if not name or not domain or "@" in domain:
        return f"is not an email address (name@domain), got {value!r}"
    if len(value) > MAX_EMAIL_LENGTH:
        return f"is not an email address (over {MAX_EMAIL_LENGTH} characters)"
    return None


IDENTIFIER_PROBLEMS: dict[str, Callable[[object], str | None]] = {
    "id": id_problem,
    "username": username_problem,
    "email": email_problem,
}
"""The rule of each identifier kind, by the API's key (``"id"``, ``"username"``, ``"email"``)."""


def check_identifier(kind: str, argument: str, value: object) -> Any:
    """``value`` as an identifier of ``kind``, or ``InvalidArgumentError`` naming ``argument``."""
    problem = IDENTIFIER_PROBLEMS[kind](value)
    if problem is not None:
        raise InvalidArgumentError(argument, problem)
    return value


def check_id(argument: str, value: object) -> int:
    """An object id: a positive integer (``id_problem``)."""
    number: int = check_identifier("id", argument, value)
    return number


def check_media_id(argument: str, value: object) -> int:
    """An Instagram media id (a share's ``media_id``): a positive int, or one written as digits.

    Instagram's ids are large numbers (``17900000000``) that often travel as strings, from its
    own API, a CSV or a web form; ``"17900000000"`` is the same id and is sent as the number.
    """
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(
            argument, f"must be a positive integer or a string of digits, got {value!r}"
        )
    return value


def check_username(argument: str, value: object) -> str:
    """An Instagram handle (``username_problem``)."""
    text: str = check_identifier("username", argument, value)
    return text


def check_email(argument: str, value: object) -> str:
    """An email address (``email_problem``)."""
    text: str = check_identifier("email", argument, value)
    return text


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
    return {key: check_identifier(key, key, value)}


def plain_ids(values: Sequence[Any]) -> bool:
    """Whether ``values`` holds only positive ints (no bools), checked at C speed."""
    return bool(values) and set(map(type, values)) == {int} and min(values) > 0


def check_optional_id(argument: str, value: object) -> int | None:
    """An object id used as a filter: ``None`` (no filter) or a positive integer."""
    return None if value is None else check_id(argument, value)


def check_ids(argument: str, values: object, *, maximum: int) -> list[int]:
    """A list of 1 to ``maximum`` positive integer ids."""
    ids = check_list(argument, values)
    check_count(argument, ids, maximum=maximum)
    if not plain_ids(ids):
        for index, value in enumerate(ids):
            check_id(f"{argument}[{index}]", value)
    return ids


_IDENTIFIER_RECIPIENTS = (
    ("contact_id", "contact_ids", "id"),
    ("contact_username", "contact_usernames", "username"),
    ("contact_email", "contact_emails", "email"),
)


def message_recipients(
    *,
    contact_id: int | None,
    contact_username: str | None,
    contact_email: str | None,
    contact_ids: Iterable[int] | None,
    contact_usernames: Iterable[str] | None,
    contact_emails: Iterable[str] | None,
) -> dict[str, Any]:
    """The recipient fields of ``POST /messages``, checked (docs/wire.md, Messages).

    Exactly one singular field, or any of the plural lists holding 1 to 1,000 recipients in total;
    singular and plural fields are never mixed.
    """
    if (
        type(contact_id) is int
        and contact_id > 0
        and contact_username is None
        and contact_email is None
        and contact_ids is None
        and contact_usernames is None
        and contact_emails is None
    ):
        return {"contact_id": contact_id}  # the usual single send, checked without the walk
    return _recipients(
        contact_id, contact_username, contact_email, contact_ids, contact_usernames, contact_emails
    )


def _recipients(
    contact_id: int | None,
    contact_username: str | None,
    contact_email: str | None,
    contact_ids: Iterable[int] | None,
    contact_usernames: Iterable[str] | None,
    contact_emails: Iterable[str] | None,
) -> dict[str, Any]:
    """``message_recipients``, every case."""
    singular = {
        name: value
        for name, value in (
            ("contact_id", contact_id),
            ("contact_username", contact_username),
            ("contact_email", contact_email),
        )
        if value is not None
    }
    plural = {
        name: check_list(name, value)
        for name, value in (
            ("contact_ids", contact_ids),
            ("contact_usernames", contact_usernames),
            ("contact_emails", contact_emails),
        )
        if value is not None
    }
    if singular and plural:
        raise InvalidArgumentError(
            f"{', '.join(singular)} / {', '.join(plural)}",
            "pass one recipient (contact_id/contact_username/contact_email) or lists "
            "(contact_ids/contact_usernames/contact_emails), not both",
        )
    if len(singular) > 1:
        raise InvalidArgumentError(
            ", ".join(singular), "pass exactly one of contact_id, contact_username, contact_email"
        )
    checks = {"id": check_id, "username": check_username, "email": check_email}
    for one, many, kind in _IDENTIFIER_RECIPIENTS:
        if one in singular:
            checks[kind](one, singular[one])
        values = plural.get(many, ())
        if kind == "id" and plain_ids(values):
            continue  # 1,000 ids from send_many: one C-speed pass instead of 1,000 calls
        for index, value in enumerate(values):
            checks[kind](f"{many}[{index}]", value)
    if singular:
        return singular
    total = sum(len(values) for values in plural.values())
    if total == 0:
        raise InvalidArgumentError(
            "recipients",
            "name at least one recipient: contact_id=, contact_username=, contact_email=, "
            "or the lists contact_ids=, contact_usernames=, contact_emails=",
        )
    if total > MAX_RECIPIENTS_PER_MESSAGE:
        raise InvalidArgumentError(
            "recipients",
            f"{total:,} in total; the API accepts at most {MAX_RECIPIENTS_PER_MESSAGE:,} per "
            "message (use messages.send_many for more)",
        )
    return {name: values for name, values in plural.items() if values}


CONTACT_STATUSES = ("active", "optout")
"""The statuses an update may set."""


def contact_update(argument: str, value: object) -> ContactUpdate:
    """A ``contact`` update object from a ``ContactUpdate`` or a mapping, checked.

    Unknown keys are refused (the API answers 400), and so is an update that changes nothing.
    """
    if isinstance(value, ContactUpdate):
        update = value
    elif isinstance(value, Mapping):
        allowed = ContactUpdate.__struct_fields__
        for key in value:
            if key not in allowed:
                raise InvalidArgumentError(
                    f"{argument}.{key}", f"is not updatable; use {', '.join(allowed)}"
                )
        try:
            update = msgspec.convert(dict(value), ContactUpdate)
        except msgspec.ValidationError as exc:
            raise InvalidArgumentError(argument, str(exc)) from None
    else:
        raise InvalidArgumentError(
            argument, f"must be a ContactUpdate or a mapping, got {type(value).__name__}"
        )
    if update.is_empty():
        raise InvalidArgumentError(argument, "is empty: nothing to update")
    if update.status is not msgspec.UNSET and update.status not in CONTACT_STATUSES:
        raise InvalidArgumentError(
            f"{argument}.status", f"must be 'active' or 'optout', got {update.status!r}"
        )
    if update.folder_ids is not msgspec.UNSET:
        check_list(f"{argument}.folder_ids", update.folder_ids)
        for index, folder_id in enumerate(update.folder_ids):
            check_id(f"{argument}.folder_ids[{index}]", folder_id)
    if update.custom_properties is not msgspec.UNSET and not all(
        isinstance(key, str) and key for key in update.custom_properties
    ):
        raise InvalidArgumentError(
            f"{argument}.custom_properties", "must map property slugs (strings) to values"
        )
    check_json_value(argument, update)  # a NaN would go as null and clear the property
    return update


def bulk_entries(entries: object) -> list[dict[str, Any]]:
    """The entries of ``PUT /contacts/bulk``: 1 to 1,000, each one identifier and a ``contact``."""
    items = check_list("entries", entries)
    check_count("entries", items, maximum=MAX_CONTACTS_PER_BULK_UPDATE)
    checked: list[dict[str, Any]] = []
    for index, entry in enumerate(items):
        argument = f"entries[{index}]"
        if not isinstance(entry, Mapping) or "contact" not in entry:
            raise InvalidArgumentError(
                argument, 'expected {"id"|"username"|"email": …, "contact": {…}}'
            )
        unknown = [key for key in entry if key not in ("id", "username", "email", "contact")]
        if unknown:
            raise InvalidArgumentError(argument, f"unknown keys: {', '.join(map(str, unknown))}")
        try:
            identifier = one_identifier(
                id=entry.get("id"), username=entry.get("username"), email=entry.get("email")
            )
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"{argument}.{exc.argument}", exc.rule) from None
        checked.append(
            {**identifier, "contact": contact_update(f"{argument}.contact", entry["contact"])}
        )
    return checked


ORDER_COLUMNS: tuple[str, ...] = get_args(OrderColumn)
"""What contact lists can be sorted by (docs/wire.md, Pagination)."""
ORDER_DIRECTIONS: tuple[str, ...] = get_args(OrderDirection)
"""``asc`` or ``desc``."""


def contact_order(
    offset: int | None, order_column: str | None, order_direction: str | None
) -> dict[str, int | str | None]:
    """The offset and ordering parameters of contact lists, checked (``None``: not sent)."""
    if offset is None and order_column is None and order_direction is None:
        return {}  # the usual list call, on every page
    check_offset(offset)
    check_choice("order_column", order_column, ORDER_COLUMNS)
    check_choice("order_direction", order_direction, ORDER_DIRECTIONS)
    return {"offset": offset, "order_column": order_column, "order_direction": order_direction}
