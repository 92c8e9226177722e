"""``tests/combos.py``: each-choice parameter sets cover every value, in max(len) cases."""

from __future__ import annotations

import pytest
from combos import each_choice


def test_every_value_of_every_dimension_appears() -> None:
    dims = (["a", "b", "c"], [1, 2], ["x", "y", "z", "w", "v"])
    cases = each_choice(*dims)
    assert len(cases) == 5
    for k, values in enumerate(dims):
        assert {case[k] for case in cases} == set(values)


def test_shorter_dimensions_meet_different_partners() -> None:
    cases = each_choice([0, 1], ["p", "q", "r", "s"])
    assert cases == [(0, "p"), (1, "q"), (0, "r"), (1, "s")]


def test_one_dimension_is_its_values() -> None:
    assert each_choice(["only"]) == [("only",)]


@pytest.mark.parametrize("dims", [(), ([1], [])])
def test_an_empty_dimension_is_refused(dims: tuple[list[int], ...]) -> None:
    with pytest.raises(ValueError, match="at least one value"):
        each_choice(*dims)


def test_on_backends_rotates_the_state_db_and_marks_postgresql() -> None:
    """``tests/backend_cases.py``: each case once, on alternating backends."""
    from backend_cases import on_backends

    params = on_backends([("a", 1), ("b", 2), ("c", 3)], start=1)
    assert [p.values for p in params] == [("postgres", "a", 1), ("sqlite", "b", 2),
                                          ("postgres", "c", 3)]  # fmt: skip
    assert [p.id for p in params] == ["postgres-a-1", "sqlite-b-2", "postgres-c-3"]
    assert [[m.name for m in p.marks] for p in params] == [["postgres"], [], ["postgres"]]
    assert [p.values for p in on_backends(["x"])] == [("sqlite", "x")]
