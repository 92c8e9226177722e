"""The topic filter language of SPEC §4: its grammar, limits, errors and the tree a query
parses to. The lexer is :mod:`.lexer`, the parser :mod:`.parser`, ``@slug`` references
between topics :mod:`.references`.

Grammar (operators are upper case; lower-case "and"/"or"/"not" are ordinary words)::

    expr    := unary ( (AND? unary)* | (OR unary)* )    -- one kind of connective per level
    unary   := (NOT | "-") unary | "~" unary | FIELD ":" unary | primary
    primary := WORD | "PHRASE" | @slug | "(" expr ")"

* A bare word that normalises to several syllables ("covid-19", "Kiến-Thụy") is a phrase.
* ``field:`` and ``~`` apply to everything under them; an inner explicit field wins.
* ``@slug`` is replaced by the other topic's parsed query (under the same field/``~`` context).
* The query must not match an empty article (checked by evaluating it with every term false):
  that rejects "only negative terms" and also ``a OR -b``, which would match nearly everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from feedsvc import limits

#: A topic's query, in characters as :mod:`feedsvc.limits` counts them (its one owner).
MAX_QUERY_CHARS = limits.QUERY
MAX_TERMS = 100
MAX_NESTING = 20
MAX_REF_DEPTH = 10
MAX_EXPANDED_TERMS = 1000
#: A chat's own query (``/sub <query>``, API, CLI): terms after ``@slug`` expansion. Anyone may
#: subscribe one, so it is capped well below a topic's: 50 subscriptions × 200 terms per chat.
MAX_CHAT_QUERY_TERMS = 200

#: Field name → bit.  A term's ``mask`` says where it may match.
FIELDS = {"title": 1, "body": 2, "tag": 4, "section": 8, "author": 16}
DEFAULT_MASK = FIELDS["title"] | FIELDS["body"]


class QueryError(ValueError):
    """A query that cannot be used; ``position`` is a 0-based offset into the query text (for
    code: slicing, a caret), :attr:`column` the same place counted from 1, as every surface
    shows it to people (CLI, API, admin, bot, Zalo, search feeds).

    ``message`` and ``hint`` are English (the CLI and the API show them); ``code`` and ``params``
    say the same as data, so the admin and the bot word it from the message catalogue
    (``feedsvc.catalogue``, key ``query.<code>``) instead of translating English text.
    ``cause`` is the error inside an ``@reference`` (code ``in_ref``).
    """

    def __init__(
        self,
        message: str,
        position: int | None = None,
        hint: str | None = None,
        *,
        code: str,
        params: dict[str, object] | None = None,
        cause: QueryError | None = None,
    ):
        self.message = message
        self.position = position
        self.hint = hint
        self.code = code
        self.params = params or {}
        self.cause = cause
        super().__init__(str(self))

    @property
    def column(self) -> int | None:
        """The character ``position`` points at, counted from 1 as editors and people count
        columns: the one place an error's place is made human (the CLI said "at 10" where the
        admin said "at character 11" for the same query)."""
        return None if self.position is None else self.position + 1

    def placed(self, position: int) -> QueryError:
        """The same error at ``position``: a query read before it was parsed (a reader's,
        :func:`feedsvc.typed_query.typed_error`) is placed in the text as it was sent."""
        return type(self)(
            self.message, position, self.hint, code=self.code, params=self.params,
            cause=self.cause,
        )  # fmt: skip

    def __str__(self) -> str:
        where = f"at character {self.column}: " if self.column is not None else ""
        tail = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}{self.message}{tail}"


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase: syllable keys that must occur adjacent, in order, in one sentence."""

    keys: tuple[str, ...]  # exact keys, or folded keys when ``folded``
    folded: bool
    mask: int
    label: str  # as the user wrote it, e.g. ``title:"Kiến Thụy"``
    position: int
    #: The substring to look for in a key stream (see :mod:`.normalize`); computed once.
    needle: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "needle", " " + " ".join(self.keys) + " ")


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


Node = Term | Not | And | Or


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query with ``@`` references expanded; immutable and reusable."""

    text: str
    root: Node

    def terms(self) -> Iterator[tuple[Term, bool]]:
        """Every term with its polarity (True = positive, i.e. under an even number of NOTs)."""
        return iter_terms(self.root)


def iter_terms(node: Node, positive: bool = True) -> Iterator[tuple[Term, bool]]:
    if isinstance(node, Term):
        yield node, positive
    elif isinstance(node, Not):
        yield from iter_terms(node.child, not positive)
    else:
        for child in node.children:
            yield from iter_terms(child, positive)


def evaluate(node: Node, test: Callable[[Term], bool]) -> bool:
    """Evaluate ``node`` with ``test`` deciding each term."""
    if isinstance(node, Term):
        return test(node)
    if isinstance(node, Not):
        return not evaluate(node.child, test)
    if isinstance(node, And):
        return all(evaluate(c, test) for c in node.children)
    return any(evaluate(c, test) for c in node.children)


Resolver = Callable[[str], str | None]
