"""What a contact update sends, and whether repeating it is safe.

``update_object`` builds the ``contact`` object of ``contacts.update`` and ``update_by`` from
``contact=`` or from keyword fields, checked; ``readdresses`` says when a repeat of updates
could look a contact up by an email they changed, which makes the PUT unsafe to repeat blindly
(``Route.idempotent_for``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from msgspec import UNSET

from inro_async._json_values import check_json_value
from inro_async._validate import check_list
from inro_async._validate_contacts import contact_update
from inro_async.errors import InvalidArgumentError
from inro_async.models.contacts import ContactUpdate

__all__ = ["readdresses", "update_object"]


def readdresses(entries: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a repeat of these updates might look a contact up by an email they changed.

    ``entries`` have the bulk shape ``{"id"|"username"|"email": …, "contact": …}``, the change
    a ``ContactUpdate`` or its plain-dict form.
    Only the email is both writable and an address; rewriting an entry's own address to the same
    string is harmless. An email written to a contact addressed by id or username counts too:
    its old email may be another entry's address, and the SDK cannot know it.
    """
    if not any("email" in entry for entry in entries):
        return False
    return any(
        _written_email(entry["contact"]) not in (UNSET, entry.get("email")) for entry in entries
    )


def _written_email(change: Any) -> Any:
    return change.get("email", UNSET) if isinstance(change, Mapping) else change.email


def update_object(
    contact: ContactUpdate | Mapping[str, Any] | None, **fields: Any
) -> ContactUpdate:
    """The ``contact`` object from ``contact=`` or from keyword fields (not both), checked."""
    given = {name: value for name, value in fields.items() if value is not msgspec.UNSET}
    if contact is not None and given:
        raise InvalidArgumentError(
            "contact", f"pass contact= or field keywords ({', '.join(given)}), not both"
        )
    if contact is None:
        for name, value in given.items():
            check_json_value(name, value)  # named as passed: custom_properties.score
        if "folder_ids" in given:
            given["folder_ids"] = check_list("folder_ids", given["folder_ids"])
        if "custom_properties" in given and isinstance(given["custom_properties"], Mapping):
            given["custom_properties"] = dict(given["custom_properties"])
        return contact_update("contact", given)
    return contact_update("contact", contact)
