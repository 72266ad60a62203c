"""Rules for scenario and campaign payloads, checked before anything is sent.

The API refuses a whole update when one action reference does not resolve ([help]: updating
actions); catching that here costs no quota and names the item at fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from inro_async._limits import MAX_CONTACTS_PER_TRIGGER
from inro_async._validate import check_count
from inro_async._validate_contacts import one_identifier
from inro_async.errors import InvalidArgumentError
from inro_async.models.automation import Action, CampaignRule, Trigger

__all__ = [
    "action_payloads",
    "contact_identifiers",
    "rule_payloads",
    "time_param",
    "trigger_payloads",
]

_LIST_TYPES = ("folder", "segment")
_RULE_TYPES = ("inclusion", "exclusion")


def _as_dict(item: object, argument: str, struct: type[msgspec.Struct]) -> dict[str, Any]:
    if isinstance(item, struct):
        return {k: v for k, v in msgspec.structs.asdict(item).items() if v is not None}
    if isinstance(item, Mapping):
        return {str(k): v for k, v in item.items() if v is not None}
    raise InvalidArgumentError(
        argument, f"expected a {struct.__name__} or a mapping, got {type(item).__name__}"
    )


def _positive_int(value: object, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(argument, f"must be a positive integer id, got {value!r}")
    return value


def action_payloads(actions: Sequence[Action | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The actions as JSON objects, after checking keys, parents and references.

    Existing actions (with ``id``) are kept or updated; new ones need ``action_key`` and
    ``action_type``, and at most one of ``parent_key`` / ``parent_id``. Keys are unique,
    ``parent_key`` names another action of the payload, and parent chains have no cycle.
    """
    if isinstance(actions, str | bytes) or not isinstance(actions, Sequence):
        raise InvalidArgumentError("actions", "must be a list of actions")
    payloads = [_as_dict(item, f"actions[{i}]", Action) for i, item in enumerate(actions)]
    keys: dict[str, int] = {}
    for index, action in enumerate(payloads):
        where = f"actions[{index}]"
        if "id" in action:
            _positive_int(action["id"], f"{where}.id")
        else:
            key = action.get("action_key")
            if not isinstance(key, str) or not key:
                raise InvalidArgumentError(
                    f"{where}.action_key", "a new action (without 'id') needs an action_key"
                )
            if not isinstance(action.get("action_type"), str) or not action["action_type"]:
                raise InvalidArgumentError(
                    f"{where}.action_type", "a new action (without 'id') needs an action_type"
                )
        if "parent_key" in action and "parent_id" in action:
            raise InvalidArgumentError(
                where, "give parent_key or parent_id, not both (they are mutually exclusive)"
            )
        if "parent_id" in action:
            _positive_int(action["parent_id"], f"{where}.parent_id")
        key = action.get("action_key")
        if isinstance(key, str) and key:
            if key in keys:
                raise InvalidArgumentError(
                    f"{where}.action_key",
                    f"{key!r} is already used by actions[{keys[key]}]; keys must be unique",
                )
            keys[key] = index
    for index, action in enumerate(payloads):
        parent = action.get("parent_key")
        if parent is None:
            continue
        if parent not in keys:
            raise InvalidArgumentError(
                f"actions[{index}].parent_key",
                f"{parent!r} names no action_key in this payload",
            )
        if parent == action.get("action_key"):
            raise InvalidArgumentError(
                f"actions[{index}].parent_key", "an action cannot parent itself"
            )
    _check_no_cycle(payloads, keys)
    return payloads


def _check_no_cycle(payloads: list[dict[str, Any]], keys: dict[str, int]) -> None:
    for start in range(len(payloads)):
        seen = {start}
        index = start
        while (parent := payloads[index].get("parent_key")) is not None:
            index = keys[parent]
            if index in seen:
                raise InvalidArgumentError(
                    f"actions[{start}].parent_key", "parent_key references form a cycle"
                )
            seen.add(index)


def trigger_payloads(triggers: Sequence[Trigger | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The triggers as JSON objects; a new trigger needs a ``trigger_type``."""
    if isinstance(triggers, str | bytes) or not isinstance(triggers, Sequence):
        raise InvalidArgumentError("triggers", "must be a list of triggers")
    payloads = [_as_dict(item, f"triggers[{i}]", Trigger) for i, item in enumerate(triggers)]
    for index, trigger in enumerate(payloads):
        if "id" in trigger:
            _positive_int(trigger["id"], f"triggers[{index}].id")
        elif not isinstance(trigger.get("trigger_type"), str) or not trigger["trigger_type"]:
            raise InvalidArgumentError(
                f"triggers[{index}].trigger_type", "a new trigger needs a trigger_type"
            )
    return payloads


def rule_payloads(rules: Sequence[CampaignRule | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Campaign rules as JSON objects, with ``list_type``, ``rule_type`` and a destination."""
    if isinstance(rules, str | bytes) or not isinstance(rules, Sequence):
        raise InvalidArgumentError("campaign_rules", "must be a list of rules")
    payloads = [
        _as_dict(item, f"campaign_rules[{i}]", CampaignRule) for i, item in enumerate(rules)
    ]
    for index, rule in enumerate(payloads):
        where = f"campaign_rules[{index}]"
        if rule.get("list_type") not in _LIST_TYPES:
            raise InvalidArgumentError(
                f"{where}.list_type",
                f"must be 'folder' or 'segment', got {rule.get('list_type')!r}",
            )
        if rule.get("rule_type", "inclusion") not in _RULE_TYPES:
            raise InvalidArgumentError(
                f"{where}.rule_type",
                f"must be 'inclusion' or 'exclusion', got {rule.get('rule_type')!r}",
            )
        _positive_int(rule.get("destination_id"), f"{where}.destination_id")
    return payloads


def contact_identifiers(contacts: Sequence[object]) -> list[dict[str, int | str]]:
    """1 to 1,000 contacts, each as ``{"id"|"username"|"email": …}`` (or a model with ``id``)."""
    if isinstance(contacts, str | bytes) or not isinstance(contacts, Sequence):
        raise InvalidArgumentError("contacts", "must be a list of contacts")
    check_count("contacts", contacts, maximum=MAX_CONTACTS_PER_TRIGGER)
    identifiers: list[dict[str, int | str]] = []
    for index, contact in enumerate(contacts):
        try:
            if isinstance(contact, Mapping):
                unknown = set(contact) - {"id", "username", "email"}
                if unknown:
                    raise InvalidArgumentError(
                        "contact", f"unknown key(s) {sorted(unknown)}; use id, username or email"
                    )
                identifiers.append(one_identifier(**contact))
            elif isinstance(getattr(contact, "id", None), int):
                identifiers.append(one_identifier(id=contact.id))  # type: ignore[attr-defined]
            else:
                raise InvalidArgumentError(
                    "contact", f"expected {{'id'|'username'|'email': …}}, got {contact!r}"
                )
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(
                f"contacts[{index}]", f"{exc.argument}: {exc.rule}"
            ) from None
    return identifiers


def time_param(value: datetime | str | None, argument: str) -> str | None:
    """A ``since`` / ``until`` query value: ISO-8601 text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise InvalidArgumentError(argument, f"must be a datetime or ISO-8601 text, got {value!r}")
