"""A governor given bad settings refuses them at construction, naming the argument.

Every error the SDK raises is an ``InroError``: bad configuration is an ``InvalidArgumentError``
(a ``ValueError`` too), never a bare ``ValueError`` from deep inside the core.
"""

from __future__ import annotations

import math

import pytest

from inro_async import InvalidArgumentError
from inro_async.governor import GovernorCore, LocalGovernor, Quota
from inro_async.governor.redis import RedisGovernor

URL = "redis://127.0.0.1:1/0"  # never connected to: construction sends nothing


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"margin": -0.1}, "margin"),
        ({"margin": math.nan}, "margin"),
        ({"margin": "0.05"}, "margin"),
        ({"windows": "tumbling"}, "windows"),
        ({"quotas": []}, "quotas"),
        ({"reserve": 1.0}, "reserve"),
    ],
)
def test_a_local_governor_names_the_bad_setting(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        LocalGovernor(**kwargs)  # type: ignore[arg-type]
    assert raised.value.argument == argument


def test_the_core_names_server_limits_that_do_not_match_the_quotas() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        GovernorCore([Quota(20, 1), Quota(100, 60)], server_limits=[20])
    assert raised.value.argument == "server_limits"


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"url": None}, "url"),
        ({"key": ""}, "key"),
        ({"key": 42}, "key"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": math.inf}, "horizon"),
        ({"horizon": True}, "horizon"),
        ({"fallback_share": 0}, "fallback_share"),
        ({"fallback_share": 1.5}, "fallback_share"),
        ({"margin": -1}, "margin"),
        ({"reserve": -0.5}, "reserve"),
    ],
)
def test_a_redis_governor_names_the_bad_setting(kwargs: dict[str, object], argument: str) -> None:
    settings: dict[str, object] = {"url": URL, "key": "inro:acme", **kwargs}
    with pytest.raises(InvalidArgumentError) as raised:
        RedisGovernor(**settings)  # type: ignore[arg-type]
    assert raised.value.argument == argument


def test_good_settings_are_taken() -> None:
    assert LocalGovernor(margin=0, windows="fixed", reserve=0.5).reserve == 0.5
    governor = RedisGovernor(URL, key="inro:acme", horizon=0.05, fallback_share=1)
    assert governor.key == "inro:acme"
