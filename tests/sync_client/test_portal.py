"""The portal under load and interruption: many threads, a running loop, Ctrl-C, fork, exit."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inro_async import Contact, Organization, Quota
from inro_async.errors import GovernorLoopError
from inro_async.sync import Client
from inro_async.sync import _process as portal_module
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN

from .conftest import python_child


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt here, even when the test run ignores it (background)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def ctrl_c_in(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


# -- threads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sync_fake_options", [{"contacts": 400, "quotas": [Quota(100, 1)]}])
def test_16_threads_share_one_client_for_400_requests_without_a_429(
    inro: Client, fake: FakeInro
) -> None:
    """The strict (sliding-window) fake, at 100/s: one governor paces every thread."""
    results: dict[int, list[Contact]] = {}

    def worker(index: int) -> None:
        results[index] = [inro.contacts.get(id=index * 25 + n + 1) for n in range(25)]

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    assert fake.throttled == 0
    assert len(fake.requests) == 400
    got = sorted(c.id for contacts in results.values() for c in contacts)
    assert got == list(range(1, 401))  # every request answered, each its own contact
    assert elapsed >= 2.9  # 400 at 100/s: the governor did the pacing, not luck


async def test_the_sync_client_works_inside_a_running_event_loop(inro: Client) -> None:
    """A notebook cell or an async test: this thread's loop is blocked, the portal's is not."""
    assert asyncio.get_running_loop().is_running()
    assert isinstance(inro.me(), Organization)
    assert inro.contacts.list(per_page=3).total == 100
    report = inro.messages.send_many([1, 2, 3], text="hi")
    assert report.done + report.skipped == 3


def test_a_lone_call_runs_the_loop_in_the_calling_thread(inro: Client) -> None:
    """Nobody else runs the portal's loop: the caller runs it, sparing two thread wake-ups."""
    inro.me()
    portal = portal_module.current()
    deadline = time.monotonic() + 2
    while portal._baton.locked() and time.monotonic() < deadline:  # an earlier test's work
        time.sleep(0.01)
    threads: list[str] = []
    noted = inro.with_options(on_dispatch=lambda: threads.append(threading.current_thread().name))
    noted.me()
    noted.contacts.list(per_page=2)
    assert threads == [threading.current_thread().name] * 2


def test_a_job_keeps_to_the_portal_thread_while_another_thread_runs_the_loop(
    inro: Client, fake: FakeInro, tmp_path: Path
) -> None:
    """A journal's SQLite connection belongs to one thread: a job never starts on a caller's."""
    fake.inject("latency", route="me", seconds=0.5)
    fake.inject("latency", route="messages.send", seconds=0.6, times=1)  # outlasts that call
    answered: list[Organization] = []
    other = threading.Thread(target=lambda: answered.append(inro.me()))
    other.start()  # that thread runs the loop for half a second
    time.sleep(0.1)
    report = inro.messages.send_many(range(1, 51), text="hi", job=tmp_path / "job.sqlite3")
    other.join(timeout=5)
    assert report.status.value == "completed"
    assert report.done + report.skipped == 50
    assert len(answered) == 1
    assert isinstance(inro.me(), Organization)  # and a lone call runs here again


def test_a_timer_left_on_the_loop_fires_while_nobody_calls(inro: Client) -> None:
    inro.me()
    portal = portal_module.current()
    fired = threading.Event()
    portal.post(lambda: portal.loop.call_later(0.2, fired.set))
    assert fired.wait(3)


def test_a_task_left_by_a_lone_call_finishes_while_nobody_calls(inro: Client) -> None:
    """A task waiting on another thread, not on a timer: the portal thread takes the loop over.

    Nobody would run the loop otherwise (no timer is due, the caller has gone), and the task
    would wait forever: the portal's idle check must see tasks, not only queued callbacks.
    """
    inro.me()
    portal = portal_module.current()
    finished = threading.Event()

    async def leave_a_task() -> None:
        async def in_a_worker_thread() -> None:
            await asyncio.to_thread(time.sleep, 0.2)
            finished.set()

        asyncio.get_running_loop().create_task(in_a_worker_thread())

    portal.call(leave_a_task())
    assert finished.wait(3)
    deadline = time.monotonic() + 2
    while portal._busy() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not portal._busy()  # and the task's bookkeeping is gone with it


async def test_a_sync_clients_governor_stays_with_the_portal_between_calls(inro: Client) -> None:
    """Nobody runs the portal's loop between calls, yet its governor is not free for another.

    The governor (``inro.governor``, its methods the async ones) awaited on this test's loop
    is refused, as it is while the portal's loop runs, and the sync client goes on working
    (were the governor to follow this loop, the next blocking call would be refused instead).
    """
    inro.me()
    with pytest.raises(GovernorLoopError):
        await inro.governor.estimate(1)
    assert isinstance(inro.me(), Organization)


# -- Ctrl-C -----------------------------------------------------------------------------------


def test_ctrl_c_cancels_the_call_on_the_portal_and_raises_at_once(
    inro: Client, fake: FakeInro, sigint_raises: None
) -> None:
    fake.inject("latency", route="me", seconds=5.0)
    timer = ctrl_c_in(0.2)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        inro.me()
    assert time.monotonic() - started < 1.5
    timer.join()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # left as it was
    assert isinstance(inro.me(), Organization)  # the client goes on working


def test_ctrl_c_stops_a_walk_and_its_pages(
    inro: Client, fake: FakeInro, sigint_raises: None
) -> None:
    fake.inject("latency", route="contacts.list", seconds=5.0, times=10)
    walk = inro.contacts.iter(per_page=10, concurrency=3)
    timer = ctrl_c_in(0.2)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        next(walk)
    assert time.monotonic() - started < 1.5
    timer.join()
    assert list(walk) == []  # stopped for good


SEND_CHILD = """
import json, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
from inro_async.sync import Client

base_url, journal, token = sys.argv[1:4]
with Client(token, base_url=base_url) as inro:
    try:
        report = inro.messages.send_many(
            range(1, 20_001), text="Spring sale", job=journal, concurrency=4
        )
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
print(json.dumps({"done": report.done, "skipped": report.skipped,
                  "unknown": report.unknown_items(), "status": report.status.value}))
"""


def deliveries(fake: FakeInro) -> dict[int, int]:
    """The delivery counts, read while the server thread may be adding to them."""
    while True:
        try:
            return dict(fake.org.delivery_counts())
        except RuntimeError:  # changed size during iteration
            continue


@pytest.mark.parametrize("sync_fake_options", [{"contacts": 20_000, "seed": 3}])
def test_ctrl_c_mid_send_many_exits_within_2_s_and_a_rerun_finishes_the_job(
    fake: FakeInro, tmp_path: Path
) -> None:
    from inro_async.jobs import ChunkStatus, ItemStatus, read_journal

    assert fake.base_url is not None
    fake.inject("latency", route="messages.send", times=1000, seconds=0.15)
    journal = tmp_path / "spring.sqlite3"
    child = python_child(SEND_CHILD, fake.base_url, str(journal), TOKEN)
    while sum(deliveries(fake).values()) < 4_000:
        assert child.poll() is None, child.communicate()
        time.sleep(0.01)
    child.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    out, err = child.communicate(timeout=10)
    assert time.monotonic() - interrupted < 2.0, err
    assert child.returncode == 130, err
    assert "interrupted" in out

    summary = read_journal(journal)
    assert summary.chunk_counts[ChunkStatus.IN_FLIGHT] == 0  # every chunk settled
    delivered = set(deliveries(fake))
    done = {item.position + 1 for item in summary.items(ItemStatus.DONE)}
    unknown = {item.position + 1 for item in summary.items(ItemStatus.UNKNOWN)}
    pending = {item.position + 1 for item in summary.items(ItemStatus.PENDING)}
    assert done <= delivered <= done | unknown  # the journal says what the server did
    assert pending
    assert not pending & delivered

    rerun = python_child(SEND_CHILD, fake.base_url, str(journal), TOKEN)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert '"status": "completed"' in out
    assert max(deliveries(fake).values()) == 1  # nobody got it twice


# -- fork and exit ----------------------------------------------------------------------------

_FORKED: Client | None = None
"""The client a forked worker inherits (as with gunicorn --preload or a fork Pool)."""


def _in_forked_worker(contact_id: int) -> tuple[int, int, int]:
    assert _FORKED is not None
    contact = _FORKED.contacts.get(id=contact_id)
    return contact.id, os.getpid(), id(portal_module.current())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_a_client_used_before_fork_gives_each_child_a_new_portal(inro: Client) -> None:
    global _FORKED
    _FORKED = inro
    inro.me()  # the parent's portal, session and connection are in use
    parent_portal = id(portal_module.current())
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            answers = pool.map(_in_forked_worker, range(1, 9))
    finally:
        _FORKED = None
    assert [contact for contact, _, _ in answers] == list(range(1, 9))
    assert os.getpid() not in {pid for _, pid, _ in answers}
    assert all(portal != parent_portal for _, _, portal in answers)
    assert isinstance(inro.me(), Organization)  # the parent's client is untouched


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_a_forked_child_never_uses_the_parents_async_client(inro: Client) -> None:
    parent_async = inro._async_client()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running the parent's teardown
        code = 1
        try:
            inro.me()
            fresh = inro._async_client()
            code = 0 if fresh is not parent_async and fresh.governor is not None else 2
        finally:
            os.write(writer, bytes([code]))
            os._exit(0)
    os.close(writer)
    _, status = os.waitpid(pid, 0)
    assert os.read(reader, 1) == b"\x00"
    os.close(reader)
    assert os.WEXITSTATUS(status) == 0
    assert inro._async_client() is parent_async


EXIT_CHILD = """
import sys, warnings
warnings.simplefilter("always", ResourceWarning)
from inro_async.governor import LocalGovernor
from inro_async.sync import Client

base_url, token, state = sys.argv[1:4]
inro = Client(token, base_url=base_url, governor=LocalGovernor(state_path=state))
inro.me()
walk = inro.contacts.iter(per_page=10, concurrency=2)
next(walk)
print("leaving without close()", flush=True)
"""


def test_a_client_left_open_is_closed_at_interpreter_exit(fake: FakeInro, tmp_path: Path) -> None:
    assert fake.base_url is not None
    state = tmp_path / "quota.sqlite3"
    child = python_child(EXIT_CHILD, fake.base_url, TOKEN, str(state))
    out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert "leaving" in out
    assert "Unclosed" not in err, err
    assert "Task was destroyed" not in err, err
    assert state.exists()
    assert state.stat().st_size > 0


def test_one_portal_serves_every_client(fake: FakeInro) -> None:
    threads_before = threading.active_count()
    clients: list[Any] = [Client(TOKEN, base_url=fake.base_url) for _ in range(5)]
    try:
        for client in clients:
            client.me()
        assert threading.active_count() <= threads_before + 1
    finally:
        for client in clients:
            client.close()
