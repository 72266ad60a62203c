"""``examples/notebook.ipynb`` run by a real Jupyter kernel (nbclient) against the fake server.

The kernel is another process: the fake serves from a thread of this one, and the kernel finds it
through ``INRO_BASE_URL``/``INRO_API_TOKEN`` in its environment, as a user's would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

import inro_async
from inro_async.cli._embedded import serve_in_thread
from inro_async.testing import FakeInro

NOTEBOOK = Path(__file__).parents[2] / "examples" / "notebook.ipynb"
TOKEN = "notebook-token"


def _outputs(cell: Any, output_type: str) -> list[Any]:
    return [output for output in cell.outputs if output.output_type == output_type]


def _result(cell: Any) -> dict[str, str]:
    [result] = _outputs(cell, "execute_result")
    return dict(result.data)


@pytest.mark.timeout(240)
def test_the_example_notebook_runs_and_shows_tables_and_a_finished_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeInro()
    fake.add_organization(TOKEN, contacts=500, seed=3)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with serve_in_thread(fake) as base_url:
        monkeypatch.setenv("INRO_BASE_URL", base_url)
        monkeypatch.setenv("INRO_API_TOKEN", TOKEN)
        here = str(Path(inro_async.__file__).parents[1])  # this checkout, not an installed copy
        monkeypatch.setenv(
            "PYTHONPATH", os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
        )
        # A kernel on a loaded machine can take many seconds to start: be generous there.
        client = NotebookClient(
            notebook,
            timeout=60,
            startup_timeout=180,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
        )
        client.execute()
        deliveries = len(fake.org.deliveries)

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    org, page, job, quota, close = code
    for cell in code:
        assert _outputs(cell, "error") == [], cell.outputs
        assert _outputs(cell, "stream") == [], cell.outputs  # no warnings, no "install ipywidgets"

    assert "Fake Organization 1" in _result(org)["text/plain"]

    shown = _result(page)
    assert shown["text/html"].count("<tr>") == 1 + 20
    assert "… 30 more in page.items" in shown["text/html"]
    assert "page 1 of 10 · 50 of 500 items" in shown["text/html"]

    [bar] = _outputs(job, "display_data")  # one display, updated in place
    assert set(bar.data) == {"text/html", "text/plain"}
    assert '<progress value="50" max="50"' in bar.data["text/html"]
    assert "completed" in bar.data["text/html"]
    assert bar.data["text/plain"].startswith("send_many: 50/50")
    report = _result(job)
    assert report["text/plain"].startswith("send_many: completed in ")
    assert "<JobReport" not in report["text/plain"]
    assert "<td>total</td><td>50</td>" in report["text/html"]
    done = int(report["text/html"].split("<td>done</td><td>", 1)[1].split("<", 1)[0])
    assert done == deliveries > 0

    assert "<th>quota</th>" in _result(quota)["text/html"]
    assert "20/1s" in _result(quota)["text/html"]
    assert close.outputs == []
