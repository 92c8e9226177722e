"""Parameter sets that spread a test's cases over the two state DB backends (each-choice).

Why: a test crossing its own dimension (an HTTP status, a channel, a cookie) with the state
DB's backend ran every value on SQLite and on PostgreSQL, although the value's code path does
not depend on where the rows are stored (the storage layer's SQL is covered on both backends by
its own tests). ``on_backends`` gives each case one backend, rotating, so every value is run
once and each backend still runs some of them (the PostgreSQL ones marked ``postgres``).
Use with ``indirect=["db_url"]`` (the ``db`` and ``state_url`` fixtures read it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

BACKENDS = ("sqlite", "postgres")


def _shown(value: Any) -> str:
    return str(getattr(value, "__name__", value))


def on_backends(
    cases: Sequence[Any], start: int = 0, label: Callable[[Any], str] = _shown
) -> list[Any]:
    """``pytest.param(backend, *case)`` for each case (a tuple, or one value), the i-th on
    ``BACKENDS[(start + i) % 2]``: for ``parametrize(("db_url", *names), ...,
    indirect=["db_url"])``. Ids read ``<backend>-<values>``, each value shown by ``label``."""
    params = []
    for i, case in enumerate(cases):
        values = case if isinstance(case, tuple) else (case,)
        backend = BACKENDS[(start + i) % len(BACKENDS)]
        marks = [pytest.mark.postgres] if backend == "postgres" else []
        ident = "-".join([backend, *(label(v) for v in values)])
        params.append(pytest.param(backend, *values, marks=marks, id=ident))
    return params


#: Runs a test on SQLite only (its ``db``, ``db_url`` and ``state_url`` fixtures): for a test
#: whose point is not the backend (a reply's words, a page, the order of Python's steps) while
#: the SQL it runs is the storage layer's, run on PostgreSQL by that layer's own tests. The
#: module's docstring says which functions and what covers their SQL on PostgreSQL.
on_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def on_sqlite_only(cases: Sequence[Any], label: Callable[[Any], str] = _shown) -> list[Any]:
    """``on_backends``' parameter sets all on SQLite: for cases refused or decided before any
    SQL (ids read ``sqlite-<values>`` as before)."""
    params = []
    for case in cases:
        values = case if isinstance(case, tuple) else (case,)
        ident = "-".join(["sqlite", *(label(v) for v in values)])
        params.append(pytest.param("sqlite", *values, id=ident))
    return params


#: A module's ``pytestmark``: each of its tests that takes a state DB (``db_url``, and the
#: ``db``/``state_url`` fixtures on it) runs on SQLite only, unless the test parametrizes
#: ``db_url`` itself (``on_backends``). For a module whose subject is not the SQL it runs — a
#: page, a reply's words, an HTTP exchange, a process's steps — while that SQL is the storage
#: layer's, run on PostgreSQL by the modules whose subject it is (``tests/conftest.py``'s
#: ``pytest_generate_tests`` applies it; ``FEEDSVC_TEST_EVERY_BACKEND=1`` lifts it). Why: the
#: suite is CPU-bound on 2 cores and had outgrown its 20 minutes (bench/RESULTS.md, "CI,
#: fifty-third session").
module_on_sqlite = pytest.mark.module_on_sqlite
