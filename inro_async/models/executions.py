"""Executions: what automations actually did, step by step."""

from __future__ import annotations

from typing import Any

import msgspec

from inro_async.models._base import Model, Timestamp


class ExecutionStep(Model, frozen=True):
    """One step of a run, with the settings it ran with (``action_data``)."""

    action_id: int | None = None
    status: str | None = None
    error: str | None = None
    retry_count: int = 0
    action_data: dict[str, Any] | None = None


class Execution(Model, frozen=True):
    """One run of a scenario or campaign for one contact."""

    id: int = 0
    execution_type: str | None = None
    """``scenario`` or ``campaign``."""
    scenario_id: int | None = None
    campaign_id: int | None = None
    contact_id: int | None = None
    status: str | None = None
    reason_code: str | None = None
    is_test: bool = False
    created_at: Timestamp = None
    steps: list[ExecutionStep] = msgspec.field(default_factory=list)


class ExecutionHealth(Model, frozen=True):
    """Runs per status over a period, the failure ratio, what fails most, and blockers."""

    since: Timestamp = None
    until: Timestamp = None
    counts: dict[str, int] = msgspec.field(default_factory=dict)
    failure_ratio: float = 0.0
    top_failing: list[dict[str, Any]] = msgspec.field(default_factory=list)
    blockers: list[Any] = msgspec.field(default_factory=list)
