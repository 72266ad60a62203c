"""Campaigns: DM sequences sent once to folders and segments."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import datetime
from typing import Any

from inro_async._validate_contacts import check_id, check_optional_id, one_identifier
from inro_async.errors import InvalidArgumentError
from inro_async.models.automation import (
    Action,
    Campaign,
    CampaignRule,
    CampaignSendResult,
    CampaignTestResult,
    Performance,
    ResendResult,
)
from inro_async.pagination import Page
from inro_async.resources._automation_rules import action_payloads, rule_payloads, time_param
from inro_async.resources._base import DEFAULT_ITER_PER_PAGE, Resource

__all__ = ["Campaigns"]


class Campaigns(Resource):
    """``inro.campaigns``: drafts, send, test, performance and resend."""

    async def list(
        self,
        *,
        page: int = 1,
        per_page: int | None = None,
        status: str | None = None,
        search: str | None = None,
        campaign_folder_id: int | None = None,
        sort_by: str | None = None,
        sort_direction: str | None = None,
    ) -> Page[Campaign]:
        """One page of campaigns, optionally filtered."""
        return await self._page(
            "campaigns.list",
            Campaign,
            page=page,
            per_page=per_page,
            params=_filters(status, search, campaign_folder_id, sort_by, sort_direction),
        )

    def iter(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        status: str | None = None,
        search: str | None = None,
        campaign_folder_id: int | None = None,
        sort_by: str | None = None,
        sort_direction: str | None = None,
    ) -> AsyncGenerator[Campaign, None]:
        """Every campaign matching the filters, page after page."""
        return self._iter(
            "campaigns.list",
            Campaign,
            per_page=per_page,
            concurrency=concurrency,
            params=_filters(status, search, campaign_folder_id, sort_by, sort_direction),
        )

    async def get(self, campaign_id: int) -> Campaign:
        """One campaign with its actions and rules."""
        check_id("campaign_id", campaign_id)
        return await self._call("campaigns.get", Campaign, path={"id": campaign_id})

    async def create(
        self,
        *,
        title: str | None = None,
        template_id: int | None = None,
        actions: Sequence[Action | Mapping[str, Any]] | None = None,
        campaign_rules: Sequence[CampaignRule | Mapping[str, Any]] | None = None,
        campaign_folder_id: int | None = None,
    ) -> Campaign:
        """Create a draft: from ``template_id``, from actions and rules, or blank."""
        if template_id is not None and (actions is not None or campaign_rules is not None):
            raise InvalidArgumentError(
                "template_id", "cannot be combined with actions or campaign_rules"
            )
        body = _body(title, actions, campaign_rules)
        if template_id is not None:
            body["template_id"] = template_id
        if campaign_folder_id is not None:
            body["campaign_folder_id"] = campaign_folder_id
        return await self._call("campaigns.create", Campaign, json=body)

    async def update(
        self,
        campaign_id: int,
        *,
        title: str | None = None,
        actions: Sequence[Action | Mapping[str, Any]] | None = None,
        campaign_rules: Sequence[CampaignRule | Mapping[str, Any]] | None = None,
    ) -> Campaign:
        """Change a draft (other statuses get a 422); ``actions`` are authoritative."""
        check_id("campaign_id", campaign_id)
        body = _body(title, actions, campaign_rules)
        if not body:
            raise InvalidArgumentError("update", "nothing to change: pass at least one field")
        return await self._call("campaigns.update", Campaign, path={"id": campaign_id}, json=body)

    async def send(self, campaign_id: int) -> CampaignSendResult:
        """Start a draft; follow the returned ``batch_task_id`` with ``inro.batch_tasks.wait``."""
        check_id("campaign_id", campaign_id)
        return await self._call("campaigns.send", CampaignSendResult, path={"id": campaign_id})

    async def test(
        self,
        campaign_id: int,
        *,
        id: int | None = None,
        username: str | None = None,
        email: str | None = None,
    ) -> CampaignTestResult:
        """Really deliver the campaign to one contact, without starting it or counting it."""
        check_id("campaign_id", campaign_id)
        contact = one_identifier(id=id, username=username, email=email)
        return await self._call(
            "campaigns.test",
            CampaignTestResult,
            path={"id": campaign_id},
            json={"contact": contact},
        )

    async def performance(
        self,
        campaign_id: int,
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> Performance:
        """The campaign's step-by-step funnel, with reason codes for drop-offs."""
        check_id("campaign_id", campaign_id)
        return await self._call(
            "campaigns.performance",
            Performance,
            path={"id": campaign_id},
            params={"since": time_param(since, "since"), "until": time_param(until, "until")},
        )

    async def resend(self, campaign_id: int) -> ResendResult:
        """Push through sends paused by a broken connection or an exhausted activation quota."""
        check_id("campaign_id", campaign_id)
        return await self._call("campaigns.resend", ResendResult, path={"id": campaign_id})


def _filters(
    status: str | None,
    search: str | None,
    campaign_folder_id: int | None,
    sort_by: str | None,
    sort_direction: str | None,
) -> dict[str, str | int | None]:
    if sort_direction is not None and sort_direction not in ("asc", "desc"):
        raise InvalidArgumentError(
            "sort_direction", f"must be 'asc' or 'desc', got {sort_direction!r}"
        )
    return {
        "status": status,
        "search": search,
        "campaign_folder_id": check_optional_id("campaign_folder_id", campaign_folder_id),
        "sort_by": sort_by,
        "sort_direction": sort_direction,
    }


def _body(
    title: str | None,
    actions: Sequence[Action | Mapping[str, Any]] | None,
    campaign_rules: Sequence[CampaignRule | Mapping[str, Any]] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if title is not None:
        body["title"] = title
    if actions is not None:
        body["actions"] = action_payloads(actions)
    if campaign_rules is not None:
        body["campaign_rules"] = rule_payloads(campaign_rules)
    return body
