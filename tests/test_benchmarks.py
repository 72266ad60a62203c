"""The fan-out benchmark runs end to end at a small size, so its figures cannot rot unseen."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(120)
def test_fanout_benchmark_runs_every_row_and_the_rule_keeps_clear_of_429s() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/fanout.py", "--contacts", "3000", "--latency", "0.005"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        match = re.match(r"(\S.*?)\s{2,}(\d+)\s+(\d+)\s+([\d.]+)s", line.strip())
        if match:
            rows[match[1]] = (int(match[2]), int(match[3]), float(match[4]))
    assert set(rows) == {
        "walk 3,000 contacts",
        "aiohttp + aiolimiter (3,000)",
        "hand-timed, same rule (3,000)",
        "send to 3,000 recipients",
        "aiohttp + aiolimiter",
        "hand-timed, same rule",
    }, result.stdout
    # requests, 429s the server counted, elapsed: 3 pages or chunks each, none throttled here
    assert rows["walk 3,000 contacts"][:2] == (3, 0)
    assert rows["hand-timed, same rule (3,000)"][:2] == (3, 0)
    assert rows["send to 3,000 recipients"][:2] == (3, 0)
    assert rows["hand-timed, same rule"][:2] == (3, 0)
    assert "walk: inro_async takes" in result.stdout
    assert "send: inro_async takes" in result.stdout


@pytest.mark.timeout(120)
def test_decode_benchmark_prints_both_tables_with_the_spread_of_interleaved_rounds() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/decode.py", "--rounds", "5", "--per-round", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "faster than json.loads + pydantic" in result.stdout
    assert "5 interleaved rounds of 20 requests per side" in result.stdout
    # each side: median, IQR and min–max of µs per request, then its per-round ratio
    number, span = r"\d+", r"\d+–\d+"
    ratio = r"[\d.]+×"
    for side in ("inro_async client", "raw aiohttp + msgspec typed"):
        row = rf"{re.escape(side)}\s+{number}\s+{span}\s+{span}\s+\|\s+{ratio}\s+[\d.]+–{ratio}"
        assert re.search(row, result.stdout), result.stdout
    assert re.search(r"raw aiohttp \+ json\.loads\s+\d+\s+\d+–\d+\s+\d+–\d+", result.stdout)
    assert re.search(r"-> the client's median CPU per request is [\d.]+×", result.stdout)


@pytest.mark.timeout(120)
def test_sync_client_benchmark_prints_the_added_cost_the_floor_and_the_throughput() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "benchmarks/sync_client.py",
            "--rounds",
            "5",
            "--per-round",
            "20",
            "--threads",
            "4",
            "--per-thread",
            "10",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "5 interleaved rounds of 20 calls per side" in out
    for side in ("inro_async.Client (async)", "inro_async.sync.Client", "http.client + json.loads"):
        assert re.search(rf"{re.escape(side)}\s+\d+\s+\d+–\d+\s+\d+–\d+\s+\|", out), out
    assert re.search(r"-> the sync client adds -?\d+ µs wall \(-?\d+ µs CPU\) per call", out)
    assert "a bare round trip" in out
    assert re.search(r"inro_async\.sync\.Client, 4 threads\s+[\d,]+", out), out


@pytest.mark.parametrize("side", ["inro_async.Client (async)", "inro_async.sync.Client"])
def test_sync_client_benchmark_runs_each_side_alone_as_callgrind_counts_it(side: str) -> None:
    """``--instructions`` runs this under valgrind: each side's calls alone, then exit 0."""
    result = subprocess.run(
        [sys.executable, "benchmarks/sync_client.py", "--one-side", side, "--count", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(120)
def test_mirror_benchmark_prints_every_row_and_the_incremental_refresh_is_cheap() -> None:
    result = subprocess.run(
        [
            *(sys.executable, "benchmarks/mirror.py", "--contacts", "3000", "--changes", "100"),
            *("--rounds", "1", "--latency", "0.005"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mirror / export: median" in result.stdout
    rows = {}
    for line in result.stdout.splitlines():
        match = re.match(r"(\S.*?)\s{2,}(\d+)\s+([\d.]+)s\s+(\d+)\s+(\S.*)", line.strip())
        if match:
            rows[match[1]] = (int(match[2]), int(match[4]), match[5])
    assert rows["refresh, ordering honoured"] == (2, 100, "incremental"), result.stdout
    assert rows["refresh, ordering ignored"][1:] == (100, "full walk"), result.stdout
    assert rows["naive: re-export + diff"][1] == 100, result.stdout


@pytest.mark.timeout(120)
def test_many_orgs_benchmark_prints_a_row_per_size_and_no_organization_is_throttled() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "benchmarks/many_orgs.py",
            *("--sizes", "1,4", "--messages", "40", "--rounds", "2", "--servers", "2"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = re.findall(
        r"^\s+(\d+)\s+([\d.]+)%\s+([\d.]+)%\s+(\d+)\s+\d+\s+\d+\s+\d+\s+[\d.]+×\s+\d+\s+\d+ MB",
        result.stdout,
        re.MULTILINE,
    )
    assert [int(row[0]) for row in rows] == [1, 4], result.stdout
    assert all(int(row[3]) == 0 for row in rows), result.stdout  # no 429 for any organization
    assert "2 interleaved rounds" in result.stdout
    assert re.search(r"the busiest server used [\d.]+ CPU s", result.stdout), result.stdout
    # The hand-paced baseline is sound too: a row per size, no 429 either.
    paced = result.stdout.split("paced by hand", 1)[1]
    rows = re.findall(r"^\s+(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+\d+\s+[\d.]+×", paced, re.M)
    assert [(int(n), int(throttled)) for n, throttled in rows] == [(1, 0), (4, 0)], paced
    # Every token is this process's alone: no governor takes a request for someone else's.
    assert "governors: 0 requests taken for someone else's" in result.stdout, result.stdout
