"""``inro fake-server``: the fake Inrō API standalone on 127.0.0.1, for trying the SDK or CLI.

It serves until SIGINT (Ctrl-C) or SIGTERM, both handled explicitly: a server started as a
background job (``inro fake-server &``) inherits SIGINT *ignored*, so waiting for a
``KeyboardInterrupt`` alone left it running forever; ``kill`` or the test that started it now
stops it, with exit code 0, after closing the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
from collections.abc import Iterator

import click

from inro_async.cli._common import fail_usage
from inro_async.governor._base import Quota

__all__ = ["fake_server", "parse_quota"]


def parse_quota(text: str) -> Quota:
    """``20/1`` or ``1000/60s`` as a ``Quota``; a ``click.BadParameter`` otherwise."""
    limit, _, period = text.partition("/")
    try:
        return Quota(int(limit), float(period.rstrip("s")))
    except ValueError:
        raise click.BadParameter(f"expected LIMIT/SECONDS like 20/1, got {text!r}") from None


@click.command("fake-server")
@click.option(
    "--contacts",
    type=click.IntRange(0),
    default=1000,
    show_default=True,
    help="Contacts generated for each token's organization.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to listen on (0: any free port, printed in the banner).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback only by default.")
@click.option(
    "--mode",
    type=click.Choice(["sliding", "fixed"]),
    default="sliding",
    show_default=True,
    help="How the rate limiter counts: sliding windows (strict) or fixed ones (reset on the "
    "period's boundary).",
)
@click.option("--token", "tokens", multiple=True, help="Token(s) to accept [default: test-token].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated data.")
@click.option(
    "--quota",
    "quotas",
    multiple=True,
    help="LIMIT/SECONDS, e.g. 20/1 (repeatable) [default: Inrō's 20/1 1000/60 10000/3600 "
    "100000/86400].",
)
@click.option("--latency", type=float, default=0.0, help="Seconds added to every response.")
@click.option("--churn", "churn_rate", help="Change contacts at a rate, e.g. 60/min.")
@click.option("--ignore-order", is_flag=True, help="Answer contact lists in id order.")
@click.option("--verbose", "-v", is_flag=True, help="Log every request and each 429 on stderr.")
@click.option(
    "--orgs",
    type=click.IntRange(1),
    default=None,
    help="Serve N organizations, tokens org-1 … org-N (listed at start), each its own quota.",
)
def fake_server(
    contacts: int,
    port: int,
    host: str,
    mode: str,
    tokens: tuple[str, ...],
    seed: int,
    quotas: tuple[str, ...],
    latency: float,
    churn_rate: str | None,
    ignore_order: bool,
    verbose: bool,
    orgs: int | None,
) -> None:
    """Run the fake Inrō API (in-memory, strict rate limits) until Ctrl-C or SIGTERM."""
    from inro_async.testing import FakeInro, Faults
    from inro_async.testing.churn import churn, parse_rate

    try:
        per_second = None if churn_rate is None else parse_rate(churn_rate)
    except ValueError as exc:
        fail_usage(f"--churn: {exc}")

    async def serve() -> None:
        with _stop_signals() as stop:  # from the start: a signal during startup counts too
            await serve_until(stop)

    async def serve_until(stop: asyncio.Event) -> None:
        options: dict[str, object] = {"mode": mode}
        if quotas:
            options["quotas"] = [parse_quota(q) for q in quotas]
        if latency:
            options["faults"] = Faults(latency=latency)
        fake = FakeInro(**options)  # type: ignore[arg-type]
        if verbose:
            from inro_async.cli._request_log import log_requests

            log_requests(fake)
        served = organization_tokens(tokens, orgs)
        for index, token in enumerate(served):
            org = fake.add_organization(token, contacts=contacts, seed=seed + index)
            org.ignore_order = ignore_order
            if per_second is not None:
                fake.background(churn(org, per_second, seed=seed + index))
        try:
            base_url = await fake.start(host=host, port=port)
        except OSError as exc:
            raise _CannotListen(_listen_problem(exc, host, port)) from None
        click.echo(f"fake Inrō API at {base_url} ({mode} windows, {contacts:,} contacts)")
        for token in served:
            click.echo(f"  token: {token}")
        click.echo(f"  export INRO_BASE_URL={base_url} INRO_API_TOKEN={served[0]}")
        # Last, so the lines scripts already read (URL, tokens, export) keep their places.
        click.echo(f"  quotas: {', '.join(str(q) for q in fake.quotas)} per organization")
        try:
            await stop.wait()
        finally:
            await fake.close()

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve())
    except _CannotListen as exc:
        fail_usage(str(exc))


def organization_tokens(tokens: tuple[str, ...], orgs: int | None) -> tuple[str, ...]:
    """The tokens served: ``--token``s, then ``org-1`` … up to ``--orgs`` in all."""
    served = tokens or (() if orgs else ("test-token",))
    if orgs is not None and orgs > len(served):
        served += tuple(f"org-{i}" for i in range(1, orgs - len(served) + 1))
    return served


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""What stops the server: Ctrl-C, and ``kill`` (which a test's teardown or a supervisor sends)."""


@contextlib.contextmanager
def _stop_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGINT or SIGTERM, whatever their disposition when the process started.

    (Inherited as ignored, SIGINT would never raise ``KeyboardInterrupt``.)
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C still interrupts
            continue
        handled.append(signum)
    try:
        yield stop
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


class _CannotListen(Exception):
    """The server could not bind its address; the message says what to do."""


def _listen_problem(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use: pick another with --port, or --port 0 for a free one"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
