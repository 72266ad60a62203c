"""``inro scenarios|folders|campaigns|segments|properties list`` against the fake (issue 18)."""

from __future__ import annotations

import asyncio
import json

from cli._helpers import TOKEN, Invoke
from inro_async.client import Client
from inro_async.testing import FakeInro


def _create(fake: FakeInro, what: str, count: int) -> list[int]:
    """Make ``count`` scenarios, campaigns or segments through the SDK; their ids."""

    async def create() -> list[int]:
        async with Client(TOKEN, base_url=fake.base_url) as inro:
            ids = []
            for n in range(count):
                if what == "scenarios":
                    made = await inro.scenarios.create(template_id=501, title=f"Flow {n}")
                elif what == "campaigns":
                    made = await inro.campaigns.create(title=f"Spring {n}")
                else:
                    made = await inro.segments.create(title=f"Segment {n}", emoji="🌱")
                ids.append(made.id)
            return ids

    return asyncio.run(create())


def test_folders_list_walks_every_page_and_shows_their_ids(invoke: Invoke, fake: FakeInro) -> None:
    result = invoke("--json", "folders", "list", "--per-page", "4")
    assert result.exit_code == 0, result.output
    folders = json.loads(result.stdout)
    assert [f["id"] for f in folders] == sorted(fake.org.folders)
    assert [f["name"] for f in folders] == [f["name"] for f in fake.org.folders.values()]
    assert [r.query["page"] for r in fake.requests_to("folders.list")] == ["1", "2"]

    human = invoke("folders", "list")
    assert human.exit_code == 0, human.output
    assert "6 folders" in human.stdout
    for folder_id, folder in fake.org.folders.items():
        assert folder["name"] in human.stdout
        assert str(folder_id) in human.stdout


def test_scenarios_list_shows_each_scenario_once_across_pages(
    invoke: Invoke, fake: FakeInro
) -> None:
    ids = _create(fake, "scenarios", 5)
    result = invoke("--json", "scenarios", "list", "--per-page", "2")
    assert result.exit_code == 0, result.output
    scenarios = json.loads(result.stdout)
    assert [s["id"] for s in scenarios] == ids
    assert scenarios[0]["title"] == "Flow 0"
    assert len(fake.requests_to("scenarios.list")) == 3
    human = invoke("scenarios", "list")
    assert "5 scenarios" in human.stdout
    assert "Flow 4" in human.stdout


def test_campaigns_list_passes_its_filters_to_the_api(invoke: Invoke, fake: FakeInro) -> None:
    ids = _create(fake, "campaigns", 3)
    everything = json.loads(invoke("--json", "campaigns", "list").stdout)
    assert [c["id"] for c in everything] == ids
    assert {c["status"] for c in everything} == {"draft"}
    searched = invoke("--json", "campaigns", "list", "--search", "spring 2", "--status", "draft")
    assert searched.exit_code == 0, searched.output
    assert [c["title"] for c in json.loads(searched.stdout)] == ["Spring 2"]
    query = fake.requests_to("campaigns.list")[-1].query
    assert (query["search"], query["status"]) == ("spring 2", "draft")
    assert json.loads(invoke("--json", "campaigns", "list", "--status", "running").stdout) == []


def test_segments_list_says_when_there_are_none_then_lists_them(
    invoke: Invoke, fake: FakeInro
) -> None:
    empty = invoke("segments", "list")
    assert empty.exit_code == 0, empty.output
    assert "no segments" in empty.stdout
    [segment_id] = _create(fake, "segments", 1)
    human = invoke("segments", "list")
    assert "🌱 Segment 0" in human.stdout
    assert str(segment_id) in human.stdout


def test_properties_list_shows_slugs_types_and_choices(invoke: Invoke, fake: FakeInro) -> None:
    result = invoke("properties", "list")
    assert result.exit_code == 0, result.output
    for slug, prop in fake.org.properties.items():
        assert slug in result.stdout
        assert prop["property_type"] in result.stdout
    assert "free, basic, pro" in result.stdout
    listed = json.loads(invoke("--json", "properties", "list").stdout)
    assert [p["slug"] for p in listed] == list(fake.org.properties)


def test_a_bad_page_size_is_a_usage_error_before_any_request(
    invoke: Invoke, fake: FakeInro
) -> None:
    result = invoke("folders", "list", "--per-page", "0")
    assert result.exit_code == 2
    assert "--per-page" in result.output
    assert fake.requests == []
