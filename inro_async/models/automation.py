"""Scenarios and campaigns: triggers, actions, rules, metrics and performance funnels.

``Trigger``, ``Action`` and ``CampaignRule`` are both what the API returns and what you send:
build them as Structs or pass plain dicts, either is validated before a request goes out.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from inro_async.models._base import Model, Timestamp

ListType = Literal["folder", "segment"]
"""What a campaign rule points at."""
RuleType = Literal["inclusion", "exclusion"]
"""Whether a campaign rule adds or removes its audience."""


class Trigger(Model, frozen=True, omit_defaults=True):
    """What starts a scenario, e.g. ``Trigger(trigger_type="contact_create")``."""

    id: int | None = None
    trigger_type: str = ""
    options: dict[str, Any] | None = None


class Action(Model, frozen=True, omit_defaults=True):
    """One step of a scenario or campaign.

    A new action needs an ``action_key`` unique in its payload and, unless it is a root, a
    parent: ``parent_key`` (another item's key in the same payload) or ``parent_id`` (an
    existing action), never both. ``Action(id=5)`` alone keeps action 5 unchanged in an update.
    """

    id: int | None = None
    action_key: str | None = None
    action_type: str | None = None
    content: str | None = None
    options: dict[str, Any] | None = None
    parent_id: int | None = None
    parent_key: str | None = None
    parent_branch: str | None = None
    media_file: dict[str, Any] | None = None
    conversion_link: dict[str, Any] | None = None


class Counts(Model, frozen=True):
    """A total and the last seven days of it."""

    total: int = 0
    last_7_days: int = 0


class ScenarioMetrics(Model, frozen=True):
    """Executions and conversions of a scenario."""

    executions: Counts = msgspec.field(default_factory=Counts)
    conversions: Counts = msgspec.field(default_factory=Counts)


class Scenario(Model, frozen=True):
    """An automation: triggers (combined with OR) and a tree of actions."""

    id: int = 0
    title: str | None = None
    active: bool = False
    scenario_type: str | None = None
    triggers: list[Trigger] = msgspec.field(default_factory=list)
    actions: list[Action] = msgspec.field(default_factory=list)
    metrics: ScenarioMetrics | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None


class TriggerResult(Model, frozen=True):
    """What ``POST /scenarios/{id}/trigger`` accepted; ``not_found`` echoes identifiers as sent."""

    status: str | None = None
    accepted_count: int = 0
    not_found_count: int = 0
    not_found: list[dict[str, Any]] = msgspec.field(default_factory=list)


class StepPerformance(Model, frozen=True):
    """One step of a funnel: how many runs arrived, passed, and why the others dropped."""

    action_id: int | None = None
    action_key: str | None = None
    arrived: int = 0
    passed: int = 0
    dropped: dict[str, int] = msgspec.field(default_factory=dict)


class Performance(Model, frozen=True):
    """A scenario's or campaign's step-by-step funnel over a period."""

    scenario_id: int | None = None
    campaign_id: int | None = None
    since: Timestamp = None
    until: Timestamp = None
    steps: list[StepPerformance] = msgspec.field(default_factory=list)


class CampaignRule(Model, frozen=True):
    """Who a campaign targets: a folder or segment, included or excluded."""

    list_type: str = "folder"
    rule_type: str = "inclusion"
    destination_id: int = 0


class Campaign(Model, frozen=True):
    """A one-off or broadcast DM sequence sent to folders and segments."""

    id: int = 0
    title: str | None = None
    status: str | None = None
    """``draft``, ``scheduled``, ``running`` or ``completed``; only drafts can be edited."""
    actions: list[Action] = msgspec.field(default_factory=list)
    campaign_rules: list[CampaignRule] = msgspec.field(default_factory=list)
    campaign_folder_id: int | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None


class CampaignSendResult(Model, frozen=True):
    """A campaign started: follow ``batch_task_id`` with ``inro.batch_tasks.wait``."""

    batch_task_id: str | None = None
    status: str | None = None


class CampaignTestResult(Model, frozen=True):
    """A test run delivered to one contact (kept out of the campaign's statistics)."""

    status: str | None = None
    contact_id: int | None = None


class ResendResult(Model, frozen=True):
    """Paused sends pushed through again."""

    resent_count: int = 0
