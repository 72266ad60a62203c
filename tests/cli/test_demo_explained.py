"""``inro demo`` explains its words: skipped contacts, and items/s equal to the bars' last rate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from inro_async.cli import main

FINISHED = re.compile(r"^(\w+)[^:]*: [\d,]+/[\d,]+ \(([\d,.]+)/s\) \[finished\]$")
STEP_OF = {
    "export": "export",
    "update": "update_many",
    "send": "send_many",
    "trigger": "trigger_many",
}


def test_the_table_rates_are_the_rates_the_progress_lines_ended_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    result = CliRunner().invoke(
        main,
        ["demo", "--contacts", "2000", "--seed", "1", "--quota", "50/1", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    ended = {
        m[1]: float(m[2].replace(",", ""))
        for line in result.stderr.splitlines()
        if (m := FINISHED.match(line))
    }
    rows = {
        cells[0]: cells
        for line in result.stdout.splitlines()
        if (cells := [c.strip() for c in line.strip("│ ").split("│")]) and cells[0] in STEP_OF
    }
    assert rows.keys() == STEP_OF.keys()
    for step, operation in STEP_OF.items():
        # The same figure, to a whole item in the table and to a tenth on the line: they may
        # differ by the two roundings only (297.46 is "297" there and "297.5" here).
        table_rate = float(rows[step][-1].replace(",", ""))
        assert abs(table_rate - ended[operation]) <= 0.5 + 0.05, (step, rows[step], ended)
    assert "skipped: contacts that opted out or are not active" in result.stdout


def test_the_json_summary_gives_the_reasons_for_every_skipped_contact(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "demo",
            "--contacts",
            "2000",
            "--seed",
            "1",
            "--quota",
            "50/1",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    steps = json.loads(result.stdout)["steps"]
    assert sum(step["skipped"] for step in steps) > 0  # seed 1 has opted-out customers
    for step in steps:
        assert sum(step["skip_reasons"].values()) == step["skipped"]
        assert set(step["skip_reasons"]) <= {"status is optout", "status is inactive"}
        assert step["job_elapsed"] is not None
        assert step["job_elapsed"] <= step["elapsed"]
