"""Every ``inro`` command and option explains itself in ``--help`` (issue 18)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from inro_async.cli import main


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield " ".join((*path, name)), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


COMMANDS = [("", main), *_commands(main)]


def test_every_command_is_walked() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"contacts export", "fake-server", "jobs delete", "folders list"} <= names


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n or "inro" for n, _ in COMMANDS])
def test_every_command_and_option_has_help(name: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"inro {name} has no help"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"inro {name} {param.opts[0]} has no help"


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n or "inro" for n, _ in COMMANDS])
def test_help_prints_every_option_with_its_text(name: str, command: click.Command) -> None:
    result = CliRunner().invoke(main, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden and param.help:
            assert param.opts[-1] in result.output
            assert param.help.split()[0] in result.output
