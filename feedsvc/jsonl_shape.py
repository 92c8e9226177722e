"""Whether an input's first bytes are JSON Lines at all: ``feedsvc import``'s one refusal of a
whole file, said once, instead of the same error on every line.

Why: a UTF-16 file (PowerShell's ``>`` writes one, byte order mark ``FF FE``) was "invalid UTF-8
at byte 1" and then "Expecting value" on each of its lines; a JSON array (``[{…},{…}]``,
pretty-printed or on one line) and a file whose lines end in a lone CR (old Mac editors) were
"Extra data" or one long rejected line (a tester's); a pretty-printed object (``jq .``, an
editor's "format document") was one rejected line per line of it (a verifier's). None of
them holds one article per line: the operator needs the conversion, once. ``feedsvc match``
reads the same JSON Lines on stdin and refuses the same shapes with its own words. Pure.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator
from typing import Literal, TypeVar

_Line = TypeVar("_Line")

#: How much of the input's head :func:`shape_problem` looks at.
HEAD_BYTES = 64 * 1024

_UTF32 = {b"\xff\xfe\x00\x00": "UTF-32 (little-endian)", b"\x00\x00\xfe\xff": "UTF-32 (big-endian)"}
_UTF16 = {b"\xff\xfe": "UTF-16 (little-endian)", b"\xfe\xff": "UTF-16 (big-endian)"}
_UTF8_BOM = b"\xef\xbb\xbf"
_POWERSHELL = " (PowerShell's `>` writes UTF-16)"


#: What each reading command did with an input it refused, said at the end of the refusal.
_NOTHING = {"import": "nothing imported", "match": "nothing matched"}


def shape_problem(
    head: bytes, name: str, command: Literal["import", "match"] = "import"
) -> str | None:
    """Why the input whose first bytes are ``head`` (up to :data:`HEAD_BYTES`; for a pipe its
    first line) is no JSON Lines of UTF-8 objects, with the command that converts it, else
    None. ``name``: the file as typed, ``-`` for standard input; ``command``: the feedsvc
    command reading it, named in the refusal."""
    encoding = _encoding(head)
    reads, nothing = f"feedsvc {command} reads", _NOTHING[command]
    shown = "the input" if name == "-" else name
    arg = "FILE" if name == "-" else shlex.quote(name)
    if encoding is not None:
        return (
            f"{shown} is {encoding}, not UTF-8{_POWERSHELL if 'UTF-16' in encoding else ''}: "
            f"{reads} UTF-8 "
            f"JSON Lines; convert it first, e.g. `iconv -f {encoding.split()[0]} -t UTF-8 {arg} "
            f"> articles.jsonl` (PowerShell: `Out-File -Encoding utf8`); {nothing}"
        )
    text = head.removeprefix(_UTF8_BOM).lstrip(b" \t\r\n")
    if text.startswith(b"["):
        return (
            f"{shown} is a JSON array (it begins with `[`), not JSON Lines: {reads} one JSON "
            f"object per line; convert it first, e.g. `jq -c '.[]' {arg} > articles.jsonl`; "
            f"{nothing}"
        )
    if _opens_alone(text):
        return (
            f"{shown} is pretty-printed JSON (its first line is `{{` alone), not JSON Lines: "
            f"{reads} one JSON object per line; convert it first, e.g. `jq -c . {arg} > "
            f"articles.jsonl`; {nothing}"
        )
    if b"\n" not in head and _cr_lines(text):
        return (
            f"{shown}'s lines end in a carriage return alone (CR, no line feed), so it reads as "
            f"one line: {reads} one JSON object per line (LF or CRLF); convert it first, e.g. "
            f"`tr '\\r' '\\n' < {arg} > articles.jsonl`; {nothing}"
        )
    return None


#: What JSON Lines can begin with: an object, an array (refused on its own), blank space.
_FIRST = b"{[ \t\r\n"


def _encoding(head: bytes) -> str | None:
    """UTF-32 or UTF-16 told by a byte order mark, or without one by the NULs beside the first
    character (``{``, ``[`` or blank space: three for UTF-32, one for UTF-16, a verifier's
    UTF-32 was named UTF-16 and a UTF-16 file opening with a blank line was read line by
    line): never UTF-8 JSON."""
    for marks in (_UTF32, _UTF16):
        for mark, encoding in marks.items():
            if head.startswith(mark):
                return encoding
    if len(head) >= 4 and head[:3] == b"\0\0\0" and head[3] in _FIRST:
        return "UTF-32 (big-endian)"
    if len(head) >= 4 and head[1:4] == b"\0\0\0" and head[0] in _FIRST:
        return "UTF-32 (little-endian)"
    if len(head) >= 2 and head[0] == 0 and head[1] in _FIRST:
        return "UTF-16 (big-endian)"
    if len(head) >= 2 and head[1] == 0 and head[0] in _FIRST:
        return "UTF-16 (little-endian)"
    return None


def _opens_alone(text: bytes) -> bool:
    """Whether ``text`` (the head from its first character that is not blank) opens with a
    line holding ``{`` alone: an object spread over lines (``jq .``, ``json.dumps(indent=…)``,
    PowerShell's ``ConvertTo-Json``; its lines may end in CR alone), never one article's line
    of JSON Lines."""
    first = text.replace(b"\r", b"\n").split(b"\n", 1)[0]
    return first.rstrip(b" \t") == b"{"


def _cr_lines(text: bytes) -> bool:
    """Whether ``text`` (the head, no line feed in it) holds JSON objects one after another
    separated by lone CRs: each piece between them an object (``{…}``, the last one maybe cut
    at the head's end). A CR inside one line's JSON, as blank space between its tokens, is
    no line end (a verifier's valid one-line file was refused)."""
    pieces = [p.strip(b" \t") for p in text.split(b"\r") if p.strip(b" \t")]
    if len(pieces) < 2:
        return False
    *whole, last = pieces
    return last.startswith(b"{") and all(p.startswith(b"{") and p.endswith(b"}") for p in whole)


class NotJsonLines(Exception):
    """An input whose first line that holds something is no JSON Lines (:func:`shape_problem`'s
    words as the message)."""


def checked_lines(
    lines: Iterable[_Line], name: str, command: Literal["import", "match"] = "import"
) -> Iterator[_Line]:
    """``lines`` as they come (a pipe's, read as it is written: ``bytes`` lines, and the
    reader's other items passed on), the first ``bytes`` line that holds something checked by
    :func:`shape_problem` before it is passed on. Raises :class:`NotJsonLines`: nothing of the
    input was passed on but blank lines. ``import`` and ``match`` read pipes through it."""
    checked = False
    for line in lines:
        if not checked and isinstance(line, bytes) and not blank_line(line):
            checked = True
            refused = shape_problem(line[:HEAD_BYTES], name, command)
            if refused is not None:
                raise NotJsonLines(refused)
        yield line


def blank_line(line: bytes) -> bool:
    """Whether ``line`` holds nothing but blank space (after a UTF-8 BOM): a pipe's input is
    checked at its first line that holds something (a verifier's JSON array after two blank
    lines was read as one rejected line by ``match``)."""
    return not line.removeprefix(_UTF8_BOM).strip(b" \t\r\n")
