"""Interleaved rounds: the order of the sides each round, and the spread of what they measured.

This machine is noisy; a figure is a median over rounds in which every side ran once, in an
order reversed every other round, so that a drift in the machine's speed (other processes, CPU
frequency) lands on every side alike.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def round_order(sides: Sequence[T], index: int) -> Sequence[T]:
    """The sides in the order round ``index`` runs them: as given, then reversed, and so on."""
    return sides if index % 2 == 0 else sides[::-1]


def spread(values: list[float]) -> tuple[float, float, float, float, float]:
    """Median, min, max, first and third quartiles."""
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return statistics.median(values), min(values), max(values), q1, q3
