"""Fake handlers of executions: the runs of scenarios and campaigns, their health, retries."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from inro_async.testing._http import (
    ApiError,
    Handler,
    int_path,
    json_response,
    org_of,
    paginate,
    time_window,
)
from inro_async.testing.store import Organization

__all__ = ["HANDLERS"]


async def executions_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    query = request.query
    window = time_window(request)
    runs = [e for e in reversed(org.executions) if window.holds(e)]
    for key in ("scenario_id", "campaign_id", "contact_id"):
        if query.get(key):
            runs = [e for e in runs if str(e[key]) == query[key]]
    for key in ("status", "reason_code", "execution_type"):
        if query.get(key):
            runs = [e for e in runs if e[key] == query[key]]
    if query.get("type"):
        runs = [e for e in runs if e["execution_type"] == query["type"]]
    if query.get("include_test") != "true":
        runs = [e for e in runs if not e["is_test"]]
    return paginate(request, runs)


async def executions_health(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    window = time_window(request)
    counts: dict[str, int] = {}
    failing: dict[int, int] = {}
    # Test sends "are kept out of statistics" (reference 7.10), so health ignores them.
    for run in (e for e in org.executions if not e["is_test"] and window.holds(e)):
        counts[run["status"]] = counts.get(run["status"], 0) + 1
        if run["status"] == "failed":
            owner = run["scenario_id"] or run["campaign_id"]
            failing[owner] = failing.get(owner, 0) + 1
    total = sum(counts.values())
    top = sorted(failing.items(), key=lambda kv: -kv[1])[:5]
    return json_response(
        {
            **window.echo(),
            "counts": counts,
            "failure_ratio": round(counts.get("failed", 0) / total, 4) if total else 0.0,
            "top_failing": [{"id": owner, "failed": n} for owner, n in top],
            "blockers": [],
        }
    )


def _execution(org: Organization, request: web.Request) -> dict[str, Any]:
    kind, run_id = request.match_info["type"], int_path(request)
    run = next(
        (e for e in org.executions if e["id"] == run_id and e["execution_type"] == kind), None
    )
    if run is None:
        raise ApiError(404, f"Execution not found: {kind} {run_id}")
    return run


async def executions_get(request: web.Request) -> web.StreamResponse:
    return json_response(_execution(org_of(request), request))


async def executions_retry(request: web.Request) -> web.StreamResponse:
    run = _execution(org_of(request), request)
    for step in run["steps"]:
        if step["status"] == "failed":
            step["retry_count"] += 1
    return json_response(run, status=202)


HANDLERS: dict[str, Handler] = {
    "executions.health": executions_health,
    "executions.list": executions_list,
    "executions.get": executions_get,
    "executions.retry": executions_retry,
}
"""Route name → handler for this module's routes."""
