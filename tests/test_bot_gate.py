"""The bots' command budgets (:mod:`feedsvc.bot.gate`): a flood is answered once, then ignored
until allowed again; a chat's budget holds whoever sends; memory stays bounded. The bots'
behaviour under these budgets, end to end, is in ``test_bot_limits.py``."""

from __future__ import annotations

from feedsvc.bot import gate


def test_gate_answers_the_first_refusal_then_stays_silent_until_allowed() -> None:
    budgets = gate.CommandGate(gate.Limits(user_command_burst=3, user_commands_per_minute=6))
    verdicts = [budgets.admit("telegram:1", "telegram:1", now=100.0) for _ in range(6)]
    assert [ok for ok, _ in verdicts] == [True, True, True, False, False, False]
    refusals = [reply for _, reply in verdicts[3:]]
    assert refusals[0] is not None and "10 giây" in refusals[0]  # 1 token per 10 s
    assert refusals[1:] == [None, None]  # one reply per spell, then silence
    assert budgets.admit("telegram:1", "telegram:1", now=109.0) == (False, None)
    assert budgets.admit("telegram:1", "telegram:1", now=110.0) == (True, None)  # refilled
    ok, reply = budgets.admit("telegram:1", "telegram:1", now=110.5)
    assert not ok and reply is not None  # a new spell is answered again
    assert budgets.admit("telegram:2", "telegram:2", now=110.5) == (True, None)  # others unaffected


def test_gate_limits_a_chat_whoever_sends() -> None:
    budgets = gate.CommandGate(gate.Limits(chat_command_burst=4, chat_commands_per_minute=1))
    verdicts = [budgets.admit(f"telegram:{u}", "telegram:-5", now=0.0) for u in range(10)]
    assert [ok for ok, _ in verdicts] == [True] * 4 + [False] * 6
    assert verdicts[4][1] is not None and "Cuộc trò chuyện này" in verdicts[4][1]
    assert all(reply is None for _, reply in verdicts[5:])
    assert budgets.admit("telegram:99", "telegram:-6", now=0.0) == (True, None)


def test_gate_memory_is_bounded() -> None:
    budgets = gate.CommandGate(gate.Limits(user_command_burst=1), max_keys=100)
    for n in range(5000):
        budgets.admit(f"telegram:{n}", f"telegram:{n}", now=0.0)
        budgets.admit(f"telegram:{n}", f"telegram:{n}", now=0.0)  # refused: remembered as told
    assert max(budgets.tracked()) <= 200
