"""What the CLI tests share besides fixtures: the token, the ``invoke`` type, the real script."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

TOKEN = "test-token"
"""The fake server's well-known test token."""

Invoke = Callable[..., Result]
"""``invoke("--json", "me")``: run ``inro`` against the test's fake server."""


def inro_command() -> list[str]:
    """The installed ``inro`` script, or the same entry point through this interpreter."""
    script = Path(sys.executable).with_name("inro")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from inro_async.cli import main; main()"]
