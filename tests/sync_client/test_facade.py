"""The blocking facade cannot drift from the async classes: generated, checked, compared."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
import typing
from functools import cached_property
from pathlib import Path

import pytest

import inro_async.sync as sync
from inro_async.client import Client as AsyncClient

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "generate_sync.py"


def run_tool(
    *args: str, script: str | None = None, tmp_path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    if script is None:
        command = [sys.executable, str(TOOL), *args]
    else:
        assert tmp_path is not None
        path = tmp_path / "patched.py"
        path.write_text(textwrap.dedent(script))
        command = [sys.executable, str(path), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_the_generated_facade_is_up_to_date() -> None:
    result = run_tool("--check")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


PATCHED = """
import sys
sys.path.insert(0, {tools!r})
import generate_sync
from inro_async.resources.contacts import Contacts

{addition}

raise SystemExit(generate_sync.main(["--check"]))
"""


def test_an_async_method_without_its_twin_fails_the_check(tmp_path: Path) -> None:
    addition = '''
async def archive(self, contact_id: int) -> None:
    """Archive a contact."""

Contacts.archive = archive
'''
    script = PATCHED.format(tools=str(TOOL.parent), addition=addition)
    result = run_tool(script=script, tmp_path=tmp_path)
    assert result.returncode == 1
    assert "def archive(self, contact_id: int) -> None:" in result.stderr
    assert "out of date" in result.stderr


def test_a_member_of_an_unknown_kind_stops_the_generator_with_what_to_do(tmp_path: Path) -> None:
    addition = """
Contacts.newest = property(lambda self: None, doc="The newest contact.")
"""
    script = PATCHED.format(tools=str(TOOL.parent), addition=addition)
    result = run_tool(script=script, tmp_path=tmp_path)
    assert result.returncode == 1
    assert "Contacts.newest is a property: twin it by hand" in result.stderr


def resource_classes() -> dict[str, type]:
    return {
        name: typing.get_type_hints(value.func)["return"]
        for name, value in vars(AsyncClient).items()
        if isinstance(value, cached_property)
    }


def parameters(function: object) -> list[tuple[str, object, object, object]]:
    signature = inspect.signature(function)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default, p.annotation) for p in signature.parameters.values()]


def expected_return(annotation: str) -> str:
    if annotation.startswith("AsyncGenerator["):
        return "Walk[" + annotation.removeprefix("AsyncGenerator[").removesuffix(", None]") + "]"
    if annotation.startswith("Job["):
        return annotation.removeprefix("Job[").removesuffix("]")
    return annotation


ASYNC_ONLY = {("Contacts", "changes")}
"""The methods tools/generate_sync.py's ASYNC_ONLY leaves without a twin (and says why)."""


@pytest.mark.parametrize("group", sorted(resource_classes()))
def test_every_async_method_has_a_twin_with_the_same_parameters(group: str) -> None:
    async_class = resource_classes()[group]
    sync_class = typing.get_type_hints(getattr(sync.Client, group).func)["return"]
    assert sync_class.__name__ == async_class.__name__
    public = [
        n
        for n in dir(async_class)
        if not n.startswith("_") and (async_class.__name__, n) not in ASYNC_ONLY
    ]
    assert public == [n for n in dir(sync_class) if not n.startswith("_")]
    for name in public:
        async_method, sync_method = getattr(async_class, name), getattr(sync_class, name)
        assert parameters(sync_method) == parameters(async_method), name
        returns = inspect.signature(async_method).return_annotation
        assert inspect.signature(sync_method).return_annotation == expected_return(returns), name


def test_the_client_takes_the_same_arguments_but_session() -> None:
    async_init = [p for p in parameters(AsyncClient.__init__) if p[0] != "session"]
    assert parameters(sync.Client.__init__) == async_init
    assert parameters(sync.Client.with_options) == parameters(AsyncClient.with_options)
    assert parameters(sync.Client.request) == parameters(AsyncClient.request)
    for async_name, sync_name in [("aclose", "close"), ("__aenter__", "__enter__")]:
        assert hasattr(AsyncClient, async_name)
        assert hasattr(sync.Client, sync_name)
