"""Each-choice parameter sets: every value of every dimension, not every combination.

Why: the tests that start real processes (the CLI, the service, a demo) were parametrised as
full cross products (signal × moment × command, way the file is unreadable × command). Each
case costs a process start or several (~1-2 s of CPU on 2 cores), and the cross products
were most of the suite's time, which ran over its 20-minute budget (bench/RESULTS.md, "CI,
forty-fourth session"). Where the dimensions are independent (the code path one of them picks
does not depend on the other's value), covering each value once finds the same faults; where
two of them interact, the test keeps their cross product and varies the rest each-choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def each_choice(*dimensions: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Tuples (one value per dimension, in the dimensions' order) such that every value of
    every dimension appears in at least one tuple: ``max(len(d))`` tuples, the i-th taking
    value ``i mod len(d)`` of each dimension ``d``, so the shorter dimensions' values meet
    different partners as they repeat. Raises ``ValueError`` for an empty dimension."""
    if not dimensions or any(len(d) == 0 for d in dimensions):
        raise ValueError("each dimension needs at least one value")
    count = max(len(d) for d in dimensions)
    return [tuple(d[i % len(d)] for d in dimensions) for i in range(count)]
