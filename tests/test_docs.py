"""The documentation site builds with ``mkdocs build --strict``: no broken link, page or reference.

Strict mode fails on a page missing from the nav, a link to a missing page or anchor, and an
API reference (``::: inro_async.…``) whose object or docstring mkdocstrings cannot read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.timeout(300)
def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
         "-d", str(site)],
        capture_output=True, text=True, env=env, timeout=280, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    client = (site / "reference" / "client" / "index.html").read_text(encoding="utf-8")
    assert "inro_async.Client" in client
    assert "send_many" in (site / "reference" / "resources" / "index.html").read_text("utf-8")
    for page in ("getting-started", "guides/cli", "guides/notebooks", "wire", "architecture"):
        assert (site / page / "index.html").is_file(), page
