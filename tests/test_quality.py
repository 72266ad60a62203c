"""The project's own gates run with the suite: mypy --strict and ruff on the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.timeout(300)
def test_package_passes_mypy_strict() -> None:
    result = _run("mypy", "inro_async")
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_and_tests_pass_ruff() -> None:
    result = _run("ruff", "check", "inro_async", "tests", "benchmarks", "examples")
    assert result.returncode == 0, result.stdout + result.stderr
