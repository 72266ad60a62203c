"""``Quota``: a bad quota is an ``InvalidArgumentError`` naming the field, at construction."""

from __future__ import annotations

import math

import pytest

from inro_async import InvalidArgumentError, Quota
from inro_async.governor import INRO_QUOTAS, LocalGovernor
from inro_async.governor._base import effective_quotas


@pytest.mark.parametrize(
    ("limit", "period", "argument"),
    [
        (0, 1, "Quota.limit"),
        (1.5, 1, "Quota.limit"),
        (True, 1, "Quota.limit"),
        (10, 0, "Quota.period"),
        (10, -1, "Quota.period"),
        (10, math.nan, "Quota.period"),
        (10, math.inf, "Quota.period"),
        (10, "60", "Quota.period"),  # raised a bare TypeError before
    ],
)
def test_a_bad_quota_is_refused_naming_the_field(
    limit: object, period: object, argument: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        Quota(limit, period)  # type: ignore[arg-type]
    assert caught.value.argument == argument
    assert isinstance(caught.value, ValueError)  # `except ValueError` keeps working


def test_a_reserve_leaves_a_share_of_every_quota() -> None:
    assert effective_quotas(INRO_QUOTAS, 0.25) == (
        Quota(15, 1),
        Quota(750, 60),
        Quota(7500, 3600),
        Quota(75000, 86400),
    )


@pytest.mark.parametrize("reserve", [1.0, -0.1, 1.5, math.nan, True, "0.5"])
def test_a_reserve_outside_0_to_1_is_refused_naming_it(reserve: object) -> None:
    with pytest.raises(InvalidArgumentError, match="reserve") as raised:
        effective_quotas(INRO_QUOTAS, reserve)  # type: ignore[arg-type]
    assert raised.value.argument == "reserve"
    with pytest.raises(InvalidArgumentError, match="reserve"):
        LocalGovernor(reserve=reserve)  # type: ignore[arg-type]


def test_no_quota_at_all_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="quotas"):
        effective_quotas((), 0.0)
