"""Scenarios: automations made of triggers and a tree of actions."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from inro_async._json_values import check_json_value
from inro_async._transport import APIResponse, decoder_for
from inro_async._validate_contacts import check_id
from inro_async.errors import InvalidArgumentError
from inro_async.jobs import trigger_many
from inro_async.models.automation import Action, Performance, Scenario, Trigger, TriggerResult
from inro_async.pagination import Page
from inro_async.resources._automation_rules import (
    action_payloads,
    contact_identifiers,
    time_param,
    trigger_payloads,
)
from inro_async.resources._base import DEFAULT_ITER_PER_PAGE, Resource

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable
    from datetime import timedelta

    from inro_async.jobs import Job, JobReport, ProgressCallback

__all__ = ["Scenarios"]

T = TypeVar("T")


class _ScenarioList(msgspec.Struct):
    scenarios: list[Scenario] = msgspec.field(default_factory=list)


def unwrap(response: APIResponse, key: str, type_: type[T]) -> T:
    """The body decoded as ``type_``, whether bare or wrapped as ``{key: {...}}``.

    Third-party code reads created scenarios from a ``scenario`` key; the reference shows bare
    objects. Both are accepted.
    """
    fields: dict[str, msgspec.Raw] = response.parse(dict[str, msgspec.Raw])
    if key in fields and "id" not in fields:
        decoded: T = decoder_for(type_).decode(fields[key])
        return decoded
    result: T = response.parse(type_)
    return result


class Scenarios(Resource):
    """``inro.scenarios``: list, get, create, update, trigger, performance."""

    def _items(self, response: APIResponse, item_type: type[T]) -> list[T]:
        # GET /scenarios may come wrapped as {"scenarios": [...]} (see docs/wire.md).
        decoded: list[Scenario] | _ScenarioList = response.parse(list[Scenario] | _ScenarioList)
        items: list[Any] = decoded if isinstance(decoded, list) else decoded.scenarios
        return items

    async def list(self, *, page: int = 1, per_page: int | None = None) -> Page[Scenario]:
        """One page of scenarios."""
        return await self._page("scenarios.list", Scenario, page=page, per_page=per_page)

    def iter(
        self, *, per_page: int = DEFAULT_ITER_PER_PAGE, concurrency: int = 1
    ) -> AsyncGenerator[Scenario, None]:
        """Every scenario, page after page."""
        return self._iter("scenarios.list", Scenario, per_page=per_page, concurrency=concurrency)

    async def get(self, scenario_id: int) -> Scenario:
        """One scenario with its triggers and actions."""
        check_id("scenario_id", scenario_id)
        response = await self._request("scenarios.get", path={"id": scenario_id})
        return unwrap(response, "scenario", Scenario)

    async def create(
        self,
        *,
        title: str | None = None,
        template_id: int | None = None,
        prompt: str | None = None,
        triggers: Sequence[Trigger | Mapping[str, Any]] | None = None,
        actions: Sequence[Action | Mapping[str, Any]] | None = None,
        active: bool | None = None,
        scenario_type: str | None = None,
    ) -> Scenario:
        """Create a scenario in one mode: ``template_id``, ``prompt``, or triggers + actions."""
        modes = [
            name
            for name, given in (
                ("template_id", template_id is not None),
                ("prompt", prompt is not None),
                ("triggers/actions", triggers is not None or actions is not None),
            )
            if given
        ]
        if len(modes) != 1:
            raise InvalidArgumentError(
                "template_id/prompt/triggers+actions",
                f"use exactly one creation mode (got {', '.join(modes) or 'none'})",
            )
        if modes == ["triggers/actions"] and (triggers is None or actions is None):
            raise InvalidArgumentError(
                "triggers/actions", "a scenario defined in JSON needs both triggers and actions"
            )
        body: dict[str, Any] = {}
        if title is not None:
            body["title"] = title
        if template_id is not None:
            body["template_id"] = template_id
        if prompt is not None:
            if not prompt.strip():
                raise InvalidArgumentError("prompt", "must not be empty")
            body["prompt"] = prompt
        if triggers is not None:
            body["triggers"] = trigger_payloads(triggers)
        if actions is not None:
            body["actions"] = action_payloads(actions)
        if active is not None:
            body["active"] = active
        if scenario_type is not None:
            body["scenario_type"] = scenario_type
        response = await self._request("scenarios.create", json=body)
        return unwrap(response, "scenario", Scenario)

    async def update(
        self,
        scenario_id: int,
        *,
        title: str | None = None,
        active: bool | None = None,
        triggers: Sequence[Trigger | Mapping[str, Any]] | None = None,
        actions: Sequence[Action | Mapping[str, Any]] | None = None,
    ) -> Scenario:
        """Change a scenario; ``actions`` and ``triggers`` are authoritative.

        ``{"id": N}`` keeps action N, ``{"id": N, ...}`` updates it, an item without ``id``
        creates one, and every existing action left out is deleted. The server applies all of
        it or nothing.
        """
        check_id("scenario_id", scenario_id)
        body: dict[str, Any] = {}
        if title is not None:
            body["title"] = title
        if active is not None:
            body["active"] = active
        if triggers is not None:
            body["triggers"] = trigger_payloads(triggers)
        if actions is not None:
            body["actions"] = action_payloads(actions)
        if not body:
            raise InvalidArgumentError("update", "nothing to change: pass at least one field")
        response = await self._request("scenarios.update", path={"id": scenario_id}, json=body)
        return unwrap(response, "scenario", Scenario)

    async def trigger(
        self,
        scenario_id: int,
        *,
        contacts: Sequence[Mapping[str, int | str] | Any],
        data: Mapping[str, Any] | None = None,
    ) -> TriggerResult:
        """Run a scenario for 1 to 1,000 contacts; each key of ``data`` becomes ``{{trigger.key}}``.

        Not retried once it may have reached the server: a repeat would run it twice.
        """
        check_id("scenario_id", scenario_id)
        body: dict[str, Any] = {"contacts": contact_identifiers(contacts)}
        if data is not None:
            if not isinstance(data, Mapping):
                raise InvalidArgumentError("data", f"must be a mapping, got {type(data).__name__}")
            body["data"] = dict(data)
            check_json_value("data", body["data"])
        return await self._trigger_checked(scenario_id, body)

    async def _trigger_checked(self, scenario_id: int, body: Mapping[str, Any]) -> TriggerResult:
        """Send a trigger body already checked (``trigger_many``'s chunks), as it is."""
        return await self._call(
            "scenarios.trigger", TriggerResult, path={"id": scenario_id}, json=body, checked=True
        )

    async def performance(
        self,
        scenario_id: int,
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> Performance:
        """The scenario's step-by-step funnel, with the reasons runs dropped out."""
        check_id("scenario_id", scenario_id)
        return await self._call(
            "scenarios.performance",
            Performance,
            path={"id": scenario_id},
            params={"since": time_param(since, "since"), "until": time_param(until, "until")},
        )

    # -- fan-out jobs (inro_async.jobs) ------------------------------------------------------

    def trigger_many(
        self,
        scenario_id: int,
        contacts: Iterable[object],
        *,
        data: Mapping[str, Any] | None = None,
        job: str | os.PathLike[str] | None = None,
        concurrency: int | None = None,
        resend_unknown: bool = False,
        stop_when_blocked_over: timedelta | float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Job[JobReport[Any]]:
        """Trigger a scenario for any number of contacts, 1,000 per call, resumable.

        See ``inro_async.jobs.trigger_many``; ``report = await inro.scenarios.trigger_many(...)``.
        """
        extra: dict[str, Any] = {} if concurrency is None else {"concurrency": concurrency}
        return trigger_many(
            self._client,
            scenario_id,
            contacts,
            data=data,
            job=job,
            resend_unknown=resend_unknown,
            stop_when_blocked_over=stop_when_blocked_over,
            on_progress=on_progress,
            **extra,
        )
