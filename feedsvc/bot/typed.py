"""What chat readers type, read as they mean it — pure, shared by the Telegram and Zalo bots.

A command is often not the first character of the message that carries it: text pasted from a
web page or a chat app brings a zero-width space (U+200B), a word joiner (U+2060), a BOM
(U+FEFF) or a direction mark (LRM/RLM, U+200E/F) along, some keyboards put one in front, and a
space or NBSP slips in. Telegram then marks no ``bot_command`` at offset 0 (PTB's
``CommandHandler`` and ``filters.COMMAND`` look only there), and Zalo's text did not begin
with ``/``: ``\u200b/sub an ninh`` got no answer on either bot while the reader saw
``/sub an ninh``. :func:`read_command` is the one reading of a command for both bots.
"""

from __future__ import annotations

import re
import unicodedata

#: ``/name`` or ``/name@addressee`` (Telegram's command names: 1-32 of ``[A-Za-z0-9_]``)
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@(\w+))?", re.ASCII)


def unseen(char: str) -> bool:
    """Whether ``char`` shows as nothing or as blank space: whitespace (NBSP included) or an
    invisible format character (Unicode category Cf: ZWSP, word joiner, BOM, LRM/RLM…)."""
    return char.isspace() or unicodedata.category(char) == "Cf"


def visible_start(text: str) -> str:
    """``text`` from its first character that shows (:func:`unseen`)."""
    start = 0
    while start < len(text) and unseen(text[start]):
        start += 1
    return text[start:]


def read_command(text: str) -> tuple[str, str, str] | None:
    """``(name, addressee, argument)`` of the command ``text`` begins with once what does not
    show is skipped: ``"\u200b/Sub@Tin_bot  an ninh "`` → ``("sub", "Tin_bot", "an ninh")``
    (the name in lower case, as Telegram's clients match it; ``""`` without an addressee).
    None when ``text`` begins with no command: not ``/`` then a name, or the name runs on into
    other characters (``/sub-x``, ``/2½``). The argument is the rest, untouched but for what
    does not show at its ends."""
    shown = visible_start(text)
    found = _COMMAND.match(shown)
    if found is None:
        return None
    rest = shown[found.end() :]
    if rest and not unseen(rest[0]):
        return None
    argument = visible_start(visible_start(rest)[::-1])[::-1]
    return found.group(1).lower(), found.group(2) or "", argument
