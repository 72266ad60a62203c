"""The same governors pace the blocking client: a state file, and Redis shared by two clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_server import redis_server

from inro_async import Quota
from inro_async.governor import LocalGovernor
from inro_async.governor.redis import RedisGovernor
from inro_async.sync import Client
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN


def test_a_state_file_remembers_what_a_closed_client_spent(fake: FakeInro, tmp_path: Path) -> None:
    state = tmp_path / "quota.sqlite3"
    with Client(TOKEN, base_url=fake.base_url, governor=LocalGovernor(state_path=state)) as inro:
        for _ in range(3):
            inro.me()
    with Client(TOKEN, base_url=fake.base_url, governor=LocalGovernor(state_path=state)) as later:
        assert later.quota()[0].quota == Quota(20, 1)
        assert max(usage.used for usage in later.quota()) == 3


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.mark.redis
@pytest.mark.flaky(reruns=1)  # real time on shared cores, as tests/redis_governor's
@pytest.mark.parametrize("sync_fake_options", [{"contacts": 200, "quotas": [Quota(40, 1)]}])
def test_two_clients_in_eight_threads_share_a_redis_governor_without_a_429(
    fake: FakeInro, redis_url: str
) -> None:
    quotas = [Quota(40, 1)]
    clients = [  # two processes' worth of clients, one key: one pace for both
        Client(
            TOKEN,
            base_url=fake.base_url,
            governor=RedisGovernor(redis_url, key="sync-shared", quotas=quotas),
        )
        for _ in range(2)
    ]
    answered: list[int] = []

    def worker(index: int) -> None:
        inro = clients[index % 2]
        answered.extend(inro.contacts.get(id=index * 10 + n + 1).id for n in range(10))

    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for client in clients:
            client.close()
    assert sorted(answered) == list(range(1, 81))
    assert fake.throttled == 0  # 80 requests at 40/s from two clients: one pace, from Redis
