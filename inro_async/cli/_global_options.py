"""The ``inro`` group's options, accepted after the subcommand too: ``inro me --token x``.

Click knows a group's options only before its subcommand, so ``inro me --token x`` said just
"No such option" (``gh`` and ``stripe`` take both orders). ``share_global_options(main)`` gives
every command that talks to the API a copy of ``--token``, ``--base-url``, ``--json``,
``--quiet``, ``--quota`` and ``-v``: the copy has no environment variable and no default (the
group's option reads those) and converts its value as the group's does; when it is given, it
overrides the group's value in the ``Settings`` the command receives, so the later of two
places wins.
A command's own option of the same spelling keeps its meaning, and the commands that run their
own server (``demo``, ``fake-server``) get none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import click

from inro_async.cli._common import Settings

__all__ = ["SHARED", "STANDALONE", "share_global_options"]

SHARED: dict[str, str] = {
    "token": "token",
    "base_url": "base_url",
    "as_json": "json",
    "quiet": "quiet",
    "quotas": "quotas",
    "verbose": "verbose",
}
"""The group's options given to every command: option name → ``Settings`` field."""
STANDALONE = frozenset({"demo", "fake-server"})
"""Commands with a server of their own: the API's options mean nothing to them."""


def _commands_below(group: click.Group) -> Iterator[click.Command]:
    for name, command in group.commands.items():
        if name in STANDALONE:
            continue
        yield command
        if isinstance(command, click.Group):
            yield from _commands_below(command)


def _override(
    option: click.Option, field: str
) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if param.name is None or value is None or value is False or value == () or value == 0:
            # Not written after the command: the group's value stands. The copy has no default
            # and no environment variable, so "not given" is its empty value; asking
            # ``ctx.get_parameter_source`` instead fails on click < 8.5, which records no
            # source for an option with ``expose_value=False``.
            return
        if option.callback is not None:  # the group's own conversion (--quota: text to Quota)
            value = option.callback(ctx, param, value)
        settings = ctx.find_object(Settings)
        if settings is not None:
            setattr(settings, field, value)

    return callback


def _copy(option: click.Option, field: str) -> click.Option:
    return click.Option(
        option.opts,
        is_flag=option.is_flag,
        multiple=option.multiple,
        count=option.count,
        help=option.help,
        metavar=option.metavar,
        expose_value=False,
        callback=_override(option, field),
    )


def share_global_options(root: click.Group) -> None:
    """Add the group's ``SHARED`` options to every command below ``root`` that lacks them."""
    shared = [
        (option, SHARED[option.name])
        for option in root.params
        if isinstance(option, click.Option) and option.name in SHARED
    ]
    for command in _commands_below(root):
        taken = {spelling for param in command.params for spelling in param.opts}
        taken |= {param.name for param in command.params if param.name is not None}
        for option, field in shared:
            if taken.isdisjoint(option.opts) and option.name not in taken:
                command.params.append(_copy(option, field))
