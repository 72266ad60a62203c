"""What a notebook shows: progress drawn in place without ipywidgets, reports, pages, quotas."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from IPython.lib.pretty import pretty

from inro_async import Client, Page
from inro_async.jobs import NotebookProgress
from inro_async.testing import FakeInro


class Frontend:
    """What IPython's ``display`` would send to Jupyter: the first frame, then updates."""

    def __init__(self) -> None:
        self.frames: list[dict[str, str]] = []
        self.displays = 0

    def display(self, bundle: dict[str, str], *, raw: bool, display_id: bool) -> Frontend:
        assert raw
        assert display_id
        self.displays += 1
        self.frames.append(bundle)
        return self

    def update(self, bundle: dict[str, str], *, raw: bool) -> None:
        assert raw
        self.frames.append(bundle)


async def test_progress_is_one_display_updated_in_place_ending_on_the_final_frame(
    inro_server: FakeInro, inro_client: Client
) -> None:
    frontend = Frontend()
    progress = NotebookProgress(display=frontend.display, interval=0.0)
    report = await inro_client.messages.send_many(range(1, 2_501), text="Hi", on_progress=progress)
    assert frontend.displays == 1
    assert len(frontend.frames) >= 3  # started, at least one chunk, finished
    last = frontend.frames[-1]
    assert set(last) == {"text/html", "text/plain"}
    assert '<progress value="2500" max="2500"' in last["text/html"]
    assert "2,500/2,500" in last["text/html"]
    assert "completed" in last["text/html"]
    assert last["text/plain"].endswith("[finished]")
    assert "ETA" not in last["text/html"]
    assert (report.total, report.pending) == (2_500, 0)


async def test_progress_draws_at_most_once_an_interval_but_always_the_last_event(
    inro_server: FakeInro, inro_client: Client
) -> None:
    frontend = Frontend()
    progress = NotebookProgress(display=frontend.display, interval=3600.0)
    await inro_client.messages.send_many(range(1, 2_501), text="Hi", on_progress=progress)
    kinds = [frame["text/plain"].rsplit("[", 1)[1] for frame in frontend.frames]
    assert kinds == ["started]", "finished]"]


async def test_without_a_kernel_progress_falls_back_to_lines(
    inro_server: FakeInro, inro_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "IPython", None)  # not installed at all
    lines: list[str] = []
    progress = NotebookProgress(fallback=lines.append)
    await inro_client.messages.send_many(range(1, 11), text="Hi", on_progress=progress)
    assert lines[0].endswith("[started]")
    assert lines[-1].startswith("send_many: 10/10")
    assert lines[-1].endswith("[finished]")


async def test_a_report_shows_as_a_table_and_its_summary_never_a_token(
    inro_server: FakeInro, inro_client: Client
) -> None:
    report = await inro_client.messages.send_many([1, 2, 3, 99_999_999], text="Hi")
    shown = report._repr_html_()
    assert shown.startswith("<table>")
    assert "<td>not found</td><td>1</td>" in shown
    assert "<td>total</td><td>4</td>" in shown
    assert "<JobReport" not in shown
    assert pretty(report) == report.summary()
    assert inro_server.org.token not in shown


async def test_a_page_shows_its_first_rows_and_counts_the_rest(
    inro_server: FakeInro, inro_client: Client
) -> None:
    page = await inro_client.contacts.list(per_page=25)
    shown = page._repr_html_()
    assert shown.count("<tr>") == 1 + 20  # the header and twenty contacts
    assert "<th>id</th>" in shown
    assert "<th>username</th>" in shown
    assert page.items[0].username in shown
    assert "… 5 more in page.items" in shown
    assert f"page 1 of {page.total_pages:,} · 25 of {page.total:,} items" in shown


def test_a_page_escapes_what_it_shows() -> None:
    page: Page[Any] = Page([{"name": "<script>x</script>", "n": 1_000}], page=1, per_page=20)
    shown = page._repr_html_()
    assert "<script>" not in shown
    assert "&lt;script&gt;" in shown
    assert "<td>1,000</td>" in shown


async def test_a_quota_usage_shows_as_one_row(inro_server: FakeInro, inro_client: Client) -> None:
    await inro_client.me()
    usage = (await inro_client.governor.snapshot())[0]
    shown = usage._repr_html_()
    assert f"<td>{usage.quota}</td><td>1</td><td>{usage.remaining:,}</td>" in shown
