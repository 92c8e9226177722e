"""The one error every admin use case raises (:class:`OperationError`), and its kinds: what the
CLI turns into exit codes, the API into HTTP statuses and the admin into catalogue wordings."""

from __future__ import annotations

from feedsvc.echoes import echoed
from feedsvc.fieldtext import control_char, placed_refusal, refusal_code, refusal_message
from feedsvc.limits import TooLong
from feedsvc.logs import quoted
from feedsvc.matching import QueryError


class OperationError(Exception):
    """A request that cannot be done; ``kind`` maps to an HTTP status / CLI exit code.

    kinds: ``invalid`` (422 / exit 2), ``not_found`` (404 / exit 1), ``conflict`` (409 / exit 1),
    ``unavailable`` (503 / exit 1: the service is stopping), ``precondition`` (412: the API
    gives a refusal this kind when it is its ``If-Match`` or ``If-None-Match`` not met, worded
    ``op.<code>.precondition``).
    ``position`` is the 0-based character offset of a query error, when there is one, and
    :attr:`column` the same place counted from 1, as people are shown it. ``message`` is
    English (CLI, API); ``code`` + ``params`` (+ the query error as ``cause``) are what the admin
    words from the message catalogue (key ``op.<code>``).
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        code: str,
        params: dict[str, object] | None = None,
        field: str | None = None,
        position: int | None = None,
        cause: QueryError | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.params = params or {}
        self.field = field
        self.position = position
        self.cause = cause

    @property
    def column(self) -> int | None:
        """``position`` counted from 1 (:attr:`feedsvc.matching.QueryError.column`)."""
        return None if self.position is None else self.position + 1


def query_invalid(exc: QueryError, text: str | None = None) -> OperationError:
    """``invalid`` for a query the parser refused (``query_invalid`` with it as ``cause``), or
    for one over its length limit the one ``too_long`` error (:func:`too_long_error`): the
    API's preview answers a long query as a topic's save does. ``text``: the query as sent,
    which ``exc.position`` counts in (a reader's: :func:`feedsvc.typed_query.typed_error`)
    (``params["query"]``), so that the CLI shows it with a caret under ``exc.position`` as
    ``match`` and ``topics preview`` do (``cli.query_caret.query_failed``)."""
    if exc.code == "too_long" and exc.cause is None:
        p = exc.params
        return too_long_error(TooLong(str(p["field"]), int(str(p["length"])), int(str(p["limit"]))))
    return OperationError(
        "invalid", str(exc), code="query_invalid", field="query", position=exc.position,
        cause=exc, params={} if text is None else {"query": text},
    )  # fmt: skip


def refuse_control(field: str, text: str) -> None:
    """Raise ``invalid`` (``control_character`` or ``not_text``, naming ``field`` and the
    character as ``U+0000``, placed on it in a query: :func:`refused_character`) when ``text``
    holds a character :func:`feedsvc.fieldtext.control_char` refuses. Every use case checks
    what it is given here before any SQL: a NUL made PostgreSQL fail (500 in the admin, a
    traceback in the CLI) and a lone surrogate every backend."""
    if (char := control_char(text)) is not None:
        raise refused_character(field, char, text)


def refused_character(field: str, char: str, text: str | None = None) -> OperationError:
    """The one error for a refused character ``char`` (``U+0007``, as
    :func:`feedsvc.fieldtext.control_char` names it) in ``field``: ``control_character``, or
    ``not_text`` for a lone surrogate (:func:`feedsvc.fieldtext.refusal_code`); worded by the
    catalogue's ``op.<code>``. ``text``: the field's text as sent; a query's refusal is placed
    on the character there (:func:`feedsvc.fieldtext.placed_refusal`: ``position``, ``column``,
    "at character 6: …", the CLI's caret, :func:`query_error_of`), as its parse errors are.
    Raised by :func:`refuse_control`, a topic's fields and the JSON API's check of everything
    it is sent (:mod:`feedsvc.web.api_text`)."""
    placed = placed_refusal(field, char, text)
    params: dict[str, object] = {"field": field, "char": char}
    if placed is not None:
        params["query"] = text  # the CLI's caret line shows it
    return OperationError(
        "invalid", refusal_message(field, char, text), code=refusal_code(char), params=params,
        field=field, position=None if placed is None else placed.position,
    )  # fmt: skip


def query_error_of(exc: OperationError) -> QueryError | None:
    """The query error ``exc`` is about, placed in the query as sent (``params["query"]``), for
    the CLI's caret (``cli.query_caret.query_failed``): a parse error (``cause``), or a
    refused character of a query (:func:`refused_character`); None for any other error."""
    text = exc.params.get("query")
    if not isinstance(text, str):
        return None
    if exc.cause is not None:
        return exc.cause
    char = exc.params.get("char")
    if exc.field is None or not isinstance(char, str):
        return None
    return placed_refusal(exc.field, char, text)


def too_long_error(over: TooLong) -> OperationError:
    """The one error for a text over its limit (:mod:`feedsvc.limits`): ``invalid``, code
    ``too_long``, naming the field, its length and the limit; worded by the catalogue's
    ``op.too_long`` (:meth:`feedsvc.catalogue.Translator.too_long`)."""
    return OperationError(
        "invalid", over.message, code="too_long", params=over.params, field=over.field
    )


def unknown_topic(slug: str) -> OperationError:
    """``not_found`` ``topic_not_found``: ``slug`` (as typed) names no topic; named by its start
    when long (:func:`feedsvc.echoes.echoed`: a 30 KB path was answered whole)."""
    return OperationError(
        "not_found", f"unknown topic {quoted(echoed(slug))}", code="topic_not_found",
        params={"slug": slug},
    )  # fmt: skip


def topic_exists(slug: str) -> OperationError:
    """``conflict`` ``topic_exists``: a save that only creates (``topics add`` of a new topic,
    ``POST /api/topics``, the admin's new-topic form, a ``PUT`` with ``If-None-Match: *``)."""
    return OperationError(
        "conflict", f"topic {slug} already exists", code="topic_exists", params={"slug": slug},
        field="slug",
    )  # fmt: skip


def deleted_meanwhile(slug: str) -> OperationError:
    """``conflict`` ``topic_deleted_meanwhile``: a save that only updates (the admin's edit
    form, a ``PUT`` with ``If-Match``) of a topic deleted since it was read; never created
    again."""
    return OperationError(
        "conflict",
        f"topic {slug} was deleted meanwhile; nothing was saved",
        code="topic_deleted_meanwhile",
        params={"slug": slug},
    )


def deleted_since_opened(slug: str) -> OperationError:
    """``conflict`` ``topic_deleted_since_opened``: a new-topic form opened before ``slug``'s
    topic was last deleted (:func:`feedsvc.operations.topic_checks.deleted_since`), most likely
    the form that had created it sent again (the browser's Back, then Save): nothing created;
    the admin's editor keeps what was typed in a fresh form, whose Save creates it
    deliberately."""
    return OperationError(
        "conflict",
        f"topic {slug} was deleted after this form was opened; nothing was saved",
        code="topic_deleted_since_opened",
        params={"slug": slug},
    )
