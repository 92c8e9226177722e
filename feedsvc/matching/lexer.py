"""The topic filter language's lexer (SPEC §4): query text → tokens (:class:`Tok`), or a
:class:`~.query.QueryError` at the offending character. The grammar and the tree the parser
builds from the tokens are in :mod:`.query`; the parser in :mod:`.parser`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from feedsvc.phrase_marks import CLOSER, CLOSING_MARKS, OPENING_ONLY, PHRASE_MARKS

from .normalize import INVISIBLE_RE
from .query import FIELDS, QueryError
from .typed_names import field_refusal, slug_refusal

_OPERATORS = {"AND", "OR", "NOT"}
#: What ends a bare word besides whitespace; whitespace is any ``str.isspace()`` character, as for
#: the gaps between tokens (a word pasted with NBSP or U+2028 between syllables is two words).
#: The phrase marks are :data:`feedsvc.phrase_marks.PHRASE_MARKS`; ``„``/``‟`` (``low``) end a
#: word only in the newest reading (:func:`lex`).
_STOP = frozenset("()" + PHRASE_MARKS)
_STOP_BEFORE_LOW = _STOP - frozenset(OPENING_ONLY)
#: The readings before the newest (:func:`earlier_readings`), newest first: before ``„``/``‟``
#: opened a phrase (``low``), and before ``"``, ``“`` and ``”`` paired in any way (``legacy``).
_EARLIER: tuple[dict[str, bool], ...] = ({"low": False}, {"low": False, "legacy": True})
#: What reads as ``-`` (NOT) where ``-`` does, glued in front of a term: the dashes a word
#: processor or keyboard puts there (en dash, em dash, minus sign, full-width hyphen-minus,
#: hyphen, non-breaking hyphen, small hyphen-minus) and ``!`` (NOT in Lucene's syntax). Read as
#: typed, the normaliser dropped the mark and the term was *required*: ``"an ninh" –giao``
#: matched exactly "an ninh giao thông", which it was written to leave out (a tester's).
NOT_MARKS = frozenset("-\u2013\u2014\u2212\uff0d\u2010\u2011\ufe63!")
_SLUG_RE = re.compile(r"[A-Za-z0-9_-]+")
_FIELD_RE = re.compile(r"([A-Za-z]+):")


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str  # WORD PHRASE REF FIELD LPAREN RPAREN AND OR NOT MINUS TILDE
    text: str
    pos: int


def _attached(text: str, i: int, what: str) -> None:
    """A prefix operator must be glued to its operand ("-a", "~a", "title:a")."""
    if i >= len(text) or text[i].isspace():
        raise QueryError(
            f"{what} must be followed directly by a term",
            i - 1,
            f"write it without a space, e.g. {what}term",
            code="detached_prefix",
            params={"op": what},
        )


def _not_run(text: str, i: int) -> int:
    """Where the run of :data:`NOT_MARKS` that begins at ``text[i]`` ends."""
    j = i + 1
    while j < len(text) and text[j] in NOT_MARKS:
        j += 1
    return j


def _glued(text: str, j: int) -> bool:
    """Whether a run of :data:`NOT_MARKS` ending before ``text[j]`` is glued to a term:
    something other than whitespace follows. Else a run that does not begin with ``-`` is read
    as it was before such marks meant NOT, a word of it (``Hà Nội – Hải Phòng``, ``a !!!``: "no
    letters or digits"): a dash typed as a separator is not told to be glued to the next word,
    which would negate it."""
    return j < len(text) and not text[j].isspace()


def _lex_word(text: str, i: int, stop: frozenset[str]) -> tuple[Tok, int]:
    j = i
    while j < len(text) and not (text[j].isspace() or text[j] in stop):
        j += 1
    word = text[i:j]
    _typed_field(word, i, text[:i].split()[-1:])
    field = _FIELD_RE.match(word)
    if field:
        name = field.group(1)
        if name.lower() not in FIELDS:
            valid = ", ".join(FIELDS)
            raise QueryError(
                f"unknown field {name!r}; valid fields are {valid}",
                i,
                "put text that contains ':' in quotes",
                code="unknown_field",
                params={"name": name, "valid": valid},
            )
        end = i + field.end()
        _attached(text, end, f"{name}:")
        return Tok("FIELD", name.lower(), i), end
    if word in _OPERATORS:
        return Tok(word, word, i), j
    return Tok("WORD", word, i), j


def _typed_field(word: str, i: int, before: list[str]) -> None:
    """Refuse a word that begins with a field name other than SPEC §4's ASCII ones, saying
    which field to write (:func:`.typed_names.field_refusal`: ``tiêu_đề:``, ``tiêu đề:``)."""
    refusal = field_refusal(word, FIELDS, before[0] if before else "")
    if refusal is not None:
        raise QueryError(refusal.message, i, refusal.hint, code=refusal.code, params=refusal.params)


def _lex_ref(text: str, i: int) -> tuple[Tok, int]:
    """The ``@slug`` at ``text[i]``; one typed with marks is refused naming its slug form
    (:func:`.typed_names.slug_refusal`: ``@kiến-thụy`` was "unknown topic @ki")."""
    m = _SLUG_RE.match(text, i + 1)
    refusal = slug_refusal(text, i + 1, m.end() if m else i + 1)
    if refusal is not None:
        raise QueryError(refusal.message, i, refusal.hint, code=refusal.code, params=refusal.params)
    if not m:
        raise QueryError(
            "'@' must be followed by a topic slug", i, "e.g. @kien-thuy", code="bare_at"
        )
    return Tok("REF", m.group(), i), m.end()


def _lex_quote(text: str, i: int, legacy: bool, low: bool) -> tuple[Tok, int]:
    """The phrase opened at ``text[i]`` (a mark of :data:`~feedsvc.phrase_marks.PHRASE_MARKS`)
    and where the text goes on.

    It closes at the next ``"`` or ``”``, or at a ``“`` right after a letter or digit
    (``“an ninh“``, ``„an ninh“``); a ``“`` with none before it opens a quotation inside the
    phrase, which its ``”`` closes (``"báo “Tuổi trẻ” hôm nay"`` is one phrase). Where ``„``
    or ``‟`` opened (``low``: the phrase, or the quotation inside it a ``“`` would close), a
    ``“`` with nothing alphanumeric after it closes too (``„tin nóng!“``, ``„xem 「phim…“``),
    and a ``„`` inside a phrase always opens a quotation (``"báo „Tuổi trẻ“ hôm nay"``).
    ``legacy``: the reading before any pairing (a ``"`` closed at ``"`` only, a ``“`` at ``"``
    or ``”``, a ``”`` opened nothing), which refused ``"an ninh”`` and ``”an ninh”`` (a
    tester's); a text a newer reading refuses and an earlier one reads is read so still
    (:func:`read_tokens`)."""
    j, inner = i + 1, list[str]()  # inner: the quotations open inside, by opening mark
    if legacy:
        closers = '"' if text[i] == '"' else '"”'
        while j < len(text) and text[j] not in closers:
            j += 1
    while not legacy and j < len(text):
        ch = text[j]
        if low and ch in OPENING_ONLY:
            inner.append(ch)
        elif ch == "“":
            low_quote = (inner[-1] if inner else text[i]) in OPENING_ONLY
            after = text[j + 1 : j + 2]
            if not text[j - 1].isalnum() and not (low_quote and not after.isalnum()):
                inner.append(ch)
            elif inner and inner[-1] in OPENING_ONLY:
                inner.pop()
            else:
                break
        elif ch == "”" and inner:
            inner.pop()
        elif ch in CLOSING_MARKS:
            break
        j += 1
    if j >= len(text) and text[i] == "”":  # nothing after it closes: it closes nothing
        raise QueryError("closing quote without an opening one", i, code="stray_quote")
    if j >= len(text):
        mark, close = text[i], CLOSER[text[i]]
        raise QueryError(
            "unterminated phrase",
            i,
            f"close it with {close}, as in {mark}an ninh{close}",
            code="unterminated_phrase",
            params={"mark": mark, "close": close},
        )
    return Tok("PHRASE", text[i + 1 : j], i), j + 1


def read_tokens(text: str) -> list[Tok]:
    """:func:`lex`'s tokens of ``text``, or, when it refuses the text, the tokens of the first
    earlier quote reading that takes it (:func:`earlier_readings`): a query saved before reads
    as it did (the parser does the same, :class:`~.parser._Parser`). Raises the newest
    reading's :class:`QueryError` when none takes it."""
    try:
        return lex(text)
    except QueryError as exc:
        for toks in earlier_readings(text):
            return toks
        raise exc from None


def typed_refusal(text: str) -> QueryError | None:
    """For a query typed now, not one read back from where it was saved: the newest reading's
    refusal, which the earlier readings (:func:`read_tokens`, the parser: there so a saved
    query reads as it did) must not turn into another meaning. ``„an ninh“ x“`` (a stray
    ``“``) was saved as the words an, ninh, x by the reading from before ``„`` opened a phrase,
    and ``„an ninh`` as the two words with no word of warning (a tester's): both are refused,
    naming the mark that closes the phrase. None: the newest reading takes ``text``."""
    try:
        lex(text)
    except QueryError as exc:
        return exc
    return None


def earlier_readings(text: str) -> Iterator[list[Tok]]:
    """The tokens of ``text`` by each reading of its quotes before the newest that takes it,
    newest first (:data:`_EARLIER`): where the newest refuses a query saved before, the
    reading it was saved under is among them."""
    for options in _EARLIER:
        try:
            yield lex(text, **options)
        except QueryError:
            continue


def lex(text: str, *, legacy: bool = False, low: bool = True) -> list[Tok]:
    """Split query text into tokens; raises :class:`QueryError` at the offending character.

    Invisible format characters (:data:`.normalize.INVISIBLE_RE`: zero-width space and joiners,
    LRM/RLM, word joiner, BOM, soft hyphen… that a paste brings along) are read past as if
    absent, the way the normaliser already deletes them inside a term: ``\u200b@an-ninh`` was
    the words "an ninh" (a ZWSP in front is no ``@``), ``@an-ninh\u200b`` a term without letters,
    ``\u200bOR`` the word "or", ``\u200b-x`` the positive term ``x``. Lexing here, the one
    tokeniser of the parser and of :func:`references`, makes every surface (CLI, API, admin,
    bots, topics file, stored queries parsed again at a start) read a query the same way.
    Token and error positions index into ``text`` as given, invisible characters counted.
    ``legacy`` and ``low`` select an earlier reading of the quotes (:func:`_lex_quote`).
    """
    cleaned = INVISIBLE_RE.sub("", text)
    if len(cleaned) == len(text):
        return _lex(text, legacy, low)
    # where each character of ``cleaned`` (and its end) is in ``text``
    origin = [i for i, ch in enumerate(text) if not INVISIBLE_RE.match(ch)]
    origin.append(len(text))
    try:
        toks = _lex(cleaned, legacy, low)
    except QueryError as exc:
        if exc.position is None or not 0 <= exc.position < len(origin):
            raise
        raise QueryError(
            exc.message,
            origin[exc.position],
            exc.hint,
            code=exc.code,
            params=exc.params,
            cause=exc.cause,
        ) from None
    return [Tok(tok.kind, tok.text, origin[tok.pos]) for tok in toks]


def _lex(text: str, legacy: bool, low: bool) -> list[Tok]:
    """:func:`lex` of a text without invisible format characters."""
    stop = _STOP if low else _STOP_BEFORE_LOW
    out: list[Tok] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(Tok("LPAREN" if ch == "(" else "RPAREN", ch, i))
            i += 1
        elif ch in '"“' or (ch == "”" and not legacy) or (low and ch in OPENING_ONLY):
            tok, i = _lex_quote(text, i, legacy, low)
            out.append(tok)
        elif ch == "”":
            raise QueryError("closing quote without an opening one", i, code="stray_quote")
        elif ch == "~":
            _attached(text, i + 1, ch)
            out.append(Tok("TILDE", ch, i))
            i += 1
        elif ch in NOT_MARKS and (ch == "-" or _glued(text, _not_run(text, i))):
            # A run of marks glued to a term is one NOT, whatever it holds: ``--giao`` (a
            # keyboard's em dash typed as two hyphens), ``–-giao``, ``!!giao``, ``－－giao``
            # were NOT NOT giao or the word giao, both *required*, where ``-giao`` left it out.
            j = _not_run(text, i)
            _attached(text, j, ch)
            out.append(Tok("MINUS", text[i:j], i))
            i = j
        elif ch == "@":
            tok, i = _lex_ref(text, i)
            out.append(tok)
        else:
            tok, i = _lex_word(text, i, stop)
            out.append(tok)
    return out
