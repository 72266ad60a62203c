"""The layers of docs/architecture.md, as import-linter checks them (pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_imports_point_one_way_down_the_layers() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
        "lint-imports"
    )
    assert lint is not None, "import-linter is in the test extra: pip install -e '.[test]'"
    result = subprocess.run(
        [lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_no_context_variable_or_signature_sniffing_carries_the_dispatch() -> None:
    package = ROOT / "inro_async"
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert "contextvars" not in text, path
        assert "inspect.signature" not in text, path
