"""The pure rule of when a state-DB outage is said (``feedsvc.db.outage_rule``): events in,
lines out, the clock passed in. Timelines at the level of :class:`Outage` (with the log's
words, a real SQLite file, ingest) are in ``test_outage_flapping.py``."""

from __future__ import annotations

from feedsvc.db.outage_rule import BURST, FLAP_SECONDS, SUMMARY_SECONDS, Line, OutageRule


def kinds(lines: list[Line]) -> list[str]:
    return [line.kind for line in lines]


def test_the_testers_sequence() -> None:
    """10 s away, 3 s back, 20 s away: the resumed outage's end is said, from its start."""
    rule = OutageRule()
    assert kinds(rule.failed(0.0)) == ["start"]
    assert rule.answered(10.0) == [Line("end", lasted=10.0, failures=1)]
    assert rule.failed(13.0) == []  # within FLAP_SECONDS: resumed, no second start
    assert rule.failed(20.0) == []
    assert rule.answered(33.0) == [Line("end", lasted=33.0, failures=3, flaps=1)]
    assert not rule.held and not rule.down


def test_a_held_end_is_said_when_a_line_is_free_or_dropped_by_a_failure() -> None:
    """Past the burst an end is held; a failure within it resumes (it was no end); once the
    database stays back, the next event after a line is free says it, with its real length."""
    rule, t, said = OutageRule(), 0.0, []
    while len(said) < BURST:
        said += rule.failed(t)
        said += rule.answered(t + 1)
        t += 2
    assert kinds(said) == ["start", "end", "end", "end"]
    assert rule.failed(t) == [] and rule.answered(t + 1) == [] and rule.held
    assert rule.failed(t + 2) == [] and rule.down and not rule.held  # resumed: no end to say
    assert rule.answered(t + 3) == [] and rule.held
    back = t + 3
    assert rule.due(back + 10) == []  # no line free yet
    [end] = rule.due(back + SUMMARY_SECONDS)
    assert end.kind == "end" and end.lasted == back and end.late == SUMMARY_SECONDS
    assert end.flaps == 4 and end.failures == 5  # the failures at 2, 4, 6, 8 s resumed it


def test_no_line_free_resumes_whatever_the_gap() -> None:
    """A flap slower than FLAP_SECONDS, past the burst: resumed, not a new start."""
    rule, t, said = OutageRule(), 0.0, []
    for _ in range(10):
        said += rule.failed(t)
        said += rule.answered(t + 6)
        t += 6 + FLAP_SECONDS + 1
    assert kinds(said).count("start") == 2, said  # then flaps: resumed
    assert len(said) <= BURST + t // SUMMARY_SECONDS, said  # the burst, then one a minute


def test_a_summary_a_minute_while_down() -> None:
    rule = OutageRule()
    said = [line for s in range(0, 185) for line in rule.failed(float(s))]
    assert kinds(said) == ["start", "summary", "summary", "summary"]
    assert [line.lasted for line in said[1:]] == [60.0, 120.0, 180.0]


def test_a_held_end_is_said_at_the_stop_whatever_the_budget() -> None:
    """The stop says a held end at once, with its real length and lateness; it says nothing
    while the database is down (no end to say) or once the end was said."""
    rule, t, said = OutageRule(), 0.0, []
    while len(said) < BURST:
        said += rule.failed(t)
        said += rule.answered(t + 1)
        t += 2
    assert rule.failed(t) == [] and rule.answered(t + 1) == [] and rule.held
    [end] = rule.at_stop(t + 4)
    assert end == Line("end", lasted=t + 1, failures=4, flaps=3, late=3.0)  # one outage, from 0
    assert not rule.held and rule.at_stop(t + 5) == [] and rule.due(t + 600) == []
    assert rule.failed(t + 6) == [] and rule.down  # no line free: it resumes, unsaid
    assert rule.at_stop(t + 7) == []  # down: no end to say


def test_nothing_is_said_at_the_stop_without_a_held_end() -> None:
    rule = OutageRule()
    assert rule.at_stop(0.0) == []
    assert kinds(rule.failed(1.0)) == ["start"] and kinds(rule.answered(2.0)) == ["end"]
    assert rule.at_stop(3.0) == []
