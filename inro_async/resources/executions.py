"""Executions: what scenarios and campaigns actually did, and retrying what failed."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Literal

from inro_async._validate_contacts import check_id, check_optional_id
from inro_async.errors import InvalidArgumentError
from inro_async.models.executions import Execution, ExecutionHealth
from inro_async.pagination import Page
from inro_async.resources._automation_rules import time_param
from inro_async.resources._base import DEFAULT_ITER_PER_PAGE, Resource

__all__ = ["Executions"]

ExecutionType = Literal["scenario", "campaign"]


def _check_type(execution_type: str) -> str:
    if execution_type not in ("scenario", "campaign"):
        raise InvalidArgumentError(
            "execution_type", f"must be 'scenario' or 'campaign', got {execution_type!r}"
        )
    return execution_type


class Executions(Resource):
    """``inro.executions``: health, list, get, retry."""

    async def health(
        self, *, since: datetime | str | None = None, until: datetime | str | None = None
    ) -> ExecutionHealth:
        """Runs per status, the failure ratio, what fails most, and account-wide blockers."""
        return await self._call(
            "executions.health",
            ExecutionHealth,
            params={"since": time_param(since, "since"), "until": time_param(until, "until")},
        )

    async def list(
        self,
        *,
        page: int = 1,
        per_page: int | None = None,
        scenario_id: int | None = None,
        campaign_id: int | None = None,
        contact_id: int | None = None,
        status: str | None = None,
        reason_code: str | None = None,
        execution_type: ExecutionType | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        include_test: bool | None = None,
        search: str | None = None,
    ) -> Page[Execution]:
        """One page of runs, newest first, filtered as the reference allows."""
        params = _filters(
            scenario_id,
            campaign_id,
            contact_id,
            status,
            reason_code,
            execution_type,
            since,
            until,
            include_test,
            search,
        )
        return await self._page(
            "executions.list", Execution, page=page, per_page=per_page, params=params
        )

    def iter(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        scenario_id: int | None = None,
        campaign_id: int | None = None,
        contact_id: int | None = None,
        status: str | None = None,
        reason_code: str | None = None,
        execution_type: ExecutionType | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        include_test: bool | None = None,
        search: str | None = None,
    ) -> AsyncGenerator[Execution, None]:
        """Every run matching the filters, newest first."""
        params = _filters(
            scenario_id,
            campaign_id,
            contact_id,
            status,
            reason_code,
            execution_type,
            since,
            until,
            include_test,
            search,
        )
        return self._iter(
            "executions.list", Execution, per_page=per_page, concurrency=concurrency, params=params
        )

    async def get(self, execution_type: ExecutionType, execution_id: int) -> Execution:
        """One run with its steps in order, each step's error and retries."""
        return await self._call(
            "executions.get",
            Execution,
            path={
                "type": _check_type(execution_type),
                "id": check_id("execution_id", execution_id),
            },
        )

    async def retry(self, execution_type: ExecutionType, execution_id: int) -> Execution:
        """Run a failed execution again (not repeated automatically if the connection drops)."""
        return await self._call(
            "executions.retry",
            Execution,
            path={
                "type": _check_type(execution_type),
                "id": check_id("execution_id", execution_id),
            },
        )


def _filters(
    scenario_id: int | None,
    campaign_id: int | None,
    contact_id: int | None,
    status: str | None,
    reason_code: str | None,
    execution_type: str | None,
    since: datetime | str | None,
    until: datetime | str | None,
    include_test: bool | None,
    search: str | None,
) -> dict[str, str | int | bool | None]:
    return {
        "scenario_id": check_optional_id("scenario_id", scenario_id),
        "campaign_id": check_optional_id("campaign_id", campaign_id),
        "contact_id": check_optional_id("contact_id", contact_id),
        "status": status,
        "reason_code": reason_code,
        "execution_type": None if execution_type is None else _check_type(execution_type),
        "since": time_param(since, "since"),
        "until": time_param(until, "until"),
        "include_test": include_test,
        "search": search,
    }
