"""Recursive-descent parser for the filter language (grammar in :mod:`.query`)."""

from __future__ import annotations

import unicodedata

from feedsvc.limits import too_long

from .lexer import Tok, earlier_readings, lex, typed_refusal
from .normalize import LINE_RUN_RE, normalize_query_terms
from .query import (
    DEFAULT_MASK,
    FIELDS,
    MAX_CHAT_QUERY_TERMS,
    MAX_EXPANDED_TERMS,
    MAX_NESTING,
    MAX_QUERY_CHARS,
    MAX_REF_DEPTH,
    MAX_TERMS,
    And,
    Node,
    Not,
    Or,
    Query,
    QueryError,
    Resolver,
    Term,
    evaluate,
)

_MIX_HINT = 'add parentheses, e.g. "(a b) OR c" or "a (b OR c)"'


class _Parser:
    """Parses one query text; ``@refs`` are parsed by child parsers under the same context."""

    def __init__(
        self,
        text: str,
        resolve: Resolver | None,
        stack: tuple[str, ...],
        fold: bool,
        field: str | None,
    ) -> None:
        self.text = text
        self.resolve = resolve
        self.stack = stack
        self.base = (fold, field)
        self.i = 0
        self.own_terms = 0
        self.total_terms = 0
        if (over := too_long("query", text, MAX_QUERY_CHARS)) is not None:  # feedsvc.limits
            raise QueryError(  # the whole text is at fault, no one character: no position
                f"too long ({over.length} characters, at most {over.limit})",
                None,
                "split it into several topics and combine them with @slug",
                code="too_long",
                params=over.params,
            )
        self.toks: list[Tok] = []

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Node:
        """The query's tree; raises :class:`QueryError`. A text the lexer's quote reading
        refuses (:func:`~.lexer.lex`) but a reading before took (:func:`~.lexer.
        earlier_readings`) is parsed as then, the newest such first, so a query saved then
        reads as it did. Raises the newest reading's error when none parses."""
        try:
            return self._parse(lex(self.text))
        except QueryError as exc:
            tried = [self.toks]
            for earlier in earlier_readings(self.text):
                if earlier in tried:
                    continue
                tried.append(earlier)
                try:
                    return self._parse(earlier)
                except QueryError:
                    continue
            raise exc from None

    def _parse(self, toks: list[Tok]) -> Node:
        self.toks, self.i, self.own_terms, self.total_terms = toks, 0, 0, 0
        if not self.toks:
            raise QueryError("empty", None, 'write at least one word, e.g. "an ninh"', code="empty")
        node = self.expr(0, *self.base)
        tok = self.peek()
        if tok is not None:  # only a stray ')' can stop expr() early
            raise QueryError(
                "unbalanced ')'", tok.pos, "remove it or add a matching '('", code="stray_paren"
            )
        return node

    def expr(self, depth: int, fold: bool, field: str | None) -> Node:
        nodes = [self.unary(depth, fold, field)]
        kind: str | None = None
        while (tok := self.peek()) is not None and tok.kind != "RPAREN":
            op = "OR" if tok.kind == "OR" else "AND"
            if kind is not None and op != kind:
                what = "AND and OR" if tok.kind in ("AND", "OR") else "OR and an implied AND"
                raise QueryError(
                    f"{what} are mixed at this level",
                    tok.pos,
                    _MIX_HINT,
                    code="mixed_and_or" if tok.kind in ("AND", "OR") else "mixed_or_implied",
                )
            kind = op
            if tok.kind in ("AND", "OR"):
                self.i += 1
                nxt = self.peek()
                if nxt is None or nxt.kind in ("RPAREN", "AND", "OR"):
                    raise QueryError(
                        f"{tok.kind} needs a term after it",
                        tok.pos,
                        code="needs_term",
                        params={"op": tok.kind},
                    )
            nodes.append(self.unary(depth, fold, field))
        if len(nodes) == 1:
            return nodes[0]
        return _flatten(Or if kind == "OR" else And, nodes)

    def unary(self, depth: int, fold: bool, field: str | None) -> Node:
        tok = self.peek()
        if tok is None:
            raise QueryError("it ends where a term is expected", len(self.text), code="ends_early")
        if depth > MAX_NESTING:
            raise QueryError(
                f"nested more than {MAX_NESTING} levels deep",
                tok.pos,
                code="too_deep",
                params={"limit": MAX_NESTING},
            )
        if tok.kind in ("NOT", "MINUS", "TILDE", "FIELD"):
            self.i += 1
            if self.peek() is None:
                raise QueryError(
                    f"{tok.text} needs a term after it",
                    tok.pos,
                    code="needs_term",
                    params={"op": tok.text},
                )
            if tok.kind == "TILDE":
                return self.unary(depth + 1, True, field)
            if tok.kind == "FIELD":
                return self.unary(depth + 1, fold, tok.text)
            return Not(self.unary(depth + 1, fold, field))
        return self.primary(tok, depth, fold, field)

    def primary(self, tok: Tok, depth: int, fold: bool, field: str | None) -> Node:
        self.i += 1
        if tok.kind in ("WORD", "PHRASE"):
            return self.term(tok, fold, field)
        if tok.kind == "REF":
            return self.ref(tok, fold, field)
        if tok.kind == "LPAREN":
            if (nxt := self.peek()) is not None and nxt.kind == "RPAREN":
                raise QueryError(
                    "empty parentheses",
                    tok.pos,
                    "put a term inside or remove them",
                    code="empty_parens",
                )
            node = self.expr(depth + 1, fold, field)
            closing = self.peek()
            if closing is None:
                raise QueryError(
                    "unclosed '('", tok.pos, "add a matching ')'", code="unclosed_paren"
                )
            self.i += 1
            return node
        if tok.kind == "RPAREN":
            raise QueryError(
                "unbalanced ')'", tok.pos, "remove it or add a matching '('", code="stray_paren"
            )
        raise QueryError(
            f"unexpected {tok.kind}",
            tok.pos,
            f"{tok.kind} goes between two terms",
            code="misplaced_operator",
            params={"op": tok.kind},
        )

    def term(self, tok: Tok, fold: bool, field: str | None) -> Term:
        raw = unicodedata.normalize("NFC", tok.text.strip())
        phrase = tok.kind == "PHRASE"
        if "*" in raw:
            raise QueryError(
                "wildcards are not supported",
                tok.pos,
                "list the variants with OR",
                code="wildcard",
            )
        if not phrase and len(raw) > 2 and raw[0] == "/" and raw[-1] == "/":
            raise QueryError(
                "regular expressions are not supported",
                tok.pos,
                "use words and OR",
                code="regex",
            )
        groups = normalize_query_terms(raw)
        what = "phrase" if phrase else "term"
        if not groups:
            raise QueryError(
                f"{what} has no letters or digits",
                tok.pos,
                code="no_letters",
                params={"term": raw},
            )
        if len(groups) > 1:
            raise QueryError(
                f"{what} spans sentence punctuation, so it could never match",
                tok.pos,
                "remove the punctuation or split it into two terms",
                code="spans_punctuation",
                params={"term": raw},
            )
        self.own_terms += 1
        self.total_terms += 1
        if self.own_terms > MAX_TERMS:
            raise QueryError(
                f"more than {MAX_TERMS} terms",
                tok.pos,
                "split it into several topics",
                code="too_many_terms",
                params={"limit": MAX_TERMS},
            )
        keys = tuple(k[1] if fold else k[0] for k in groups[0])
        label = ("~" if fold else "") + (f"{field}:" if field else "")
        # a phrase wrapped over lines is shown on one, as it is read (normalize.query_spaces)
        label += f'"{LINE_RUN_RE.sub(" ", raw)}"' if phrase else raw
        mask = FIELDS[field] if field else DEFAULT_MASK
        return Term(keys, fold, mask, label, tok.pos)

    def ref(self, tok: Tok, fold: bool, field: str | None) -> Node:
        slug = tok.text
        if slug in self.stack:
            chain = " → ".join(f"@{s}" for s in (*self.stack, slug))
            raise QueryError(
                f"circular reference {chain}",
                tok.pos,
                "a topic cannot include itself",
                code="circular_ref",
                params={"chain": chain},
            )
        if len(self.stack) >= MAX_REF_DEPTH:
            raise QueryError(
                f"@references nested more than {MAX_REF_DEPTH} deep",
                tok.pos,
                code="refs_too_deep",
                params={"limit": MAX_REF_DEPTH},
            )
        text = self.resolve(slug) if self.resolve is not None else None
        if text is None:
            raise QueryError(
                f"unknown topic @{slug}",
                tok.pos,
                "check the slug",
                code="unknown_ref",
                params={"slug": slug},
            )
        try:
            child = _Parser(text, self.resolve, (*self.stack, slug), fold, field)
            node = child.parse()
        except QueryError as exc:
            inner = f" at character {exc.column}" if exc.column is not None else ""
            raise QueryError(
                f"in @{slug}{inner}: {exc.message}",
                tok.pos,
                exc.hint,
                code="in_ref",
                params={"slug": slug},
                cause=exc,
            ) from None
        self.total_terms += child.total_terms
        return node


def _flatten(kind: type[And] | type[Or], nodes: list[Node]) -> Node:
    """Merge nested groups of the same kind (``@a @b`` inside an AND) into one level."""
    flat: list[Node] = []
    for n in nodes:
        flat.extend(n.children if isinstance(n, kind) else (n,))
    return kind(tuple(flat))


def parse_query(text: str, resolve: Resolver | None = None) -> Query:
    """Parse ``text``; ``resolve(slug)`` gives another topic's query text (None: unknown)."""
    return parse_topic(text, resolve, None)


def parse_chat_query(text: str, resolve: Resolver | None = None) -> Query:
    """A chat's own query: :func:`parse_query` plus the cap on its terms after ``@slug``
    expansion (:data:`MAX_CHAT_QUERY_TERMS`). Every path that stores one (bot, API, CLI) parses
    it here; raises :class:`QueryError` code ``chat_query_too_big`` (params ``terms``, ``limit``).
    """
    query = parse_query(text, resolve)
    terms = sum(1 for _ in query.terms())
    if terms > MAX_CHAT_QUERY_TERMS:
        raise QueryError(
            f"it expands to {terms} terms with its @references "
            f"(at most {MAX_CHAT_QUERY_TERMS} in a chat's own)",
            None,
            "subscribe to the topic itself, or use fewer or smaller @references",
            code="chat_query_too_big",
            params={"terms": terms, "limit": MAX_CHAT_QUERY_TERMS},
        )
    return query


def parse_typed(
    text: str, resolve: Resolver | None = None, slug: str | None = None, *,
    saved: str | None = None,
) -> Query:  # fmt: skip
    """:func:`parse_topic` for a query typed now (a save, a preview, ``match --query``):
    refused where the newest quote reading refuses it (:func:`~.lexer.typed_refusal`), never
    read by a reading kept for saved queries. ``saved``: the topic's stored query; ``text``
    equal to it is read as saved (a title edited over it is not refused for its quotes)."""
    typed = isinstance(text, str) and text != saved
    if typed and (refusal := typed_refusal(text)) is not None:
        raise refusal
    return parse_topic(text, resolve, slug)


def parse_topic(text: str, resolve: Resolver | None, slug: str | None) -> Query:
    """:func:`parse_query` for a named topic, so a reference back to ``slug`` is a cycle."""
    if not isinstance(text, str):
        raise QueryError("not text", code="not_text")
    parser = _Parser(text, resolve, (slug,) if slug else (), False, None)
    root = parser.parse()
    if parser.total_terms > MAX_EXPANDED_TERMS:
        raise QueryError(
            f"more than {MAX_EXPANDED_TERMS} terms after expanding @references",
            None,
            "split the topic",
            code="too_many_expanded",
            params={"limit": MAX_EXPANDED_TERMS},
        )
    if evaluate(root, lambda _term: False):
        raise QueryError(
            "no positive term: it would match articles containing none of its words",
            None,
            'add a term that must occur, e.g. "an ninh" -"quảng cáo"',
            code="no_positive_term",
        )
    return Query(text, root)
