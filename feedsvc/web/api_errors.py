"""The JSON API's errors: :class:`ApiError` (a status, a stable ``code``, English for
programs and the catalogue's words for people) and :class:`InvalidInput` (a body or query
string Pydantic refuses, worded per problem by :mod:`feedsvc.web.api_invalid`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from feedsvc.web import api_invalid
from feedsvc.web.api_text import position

if TYPE_CHECKING:
    from feedsvc.catalogue import Translator


class ApiError(Exception):
    """An HTTP error with a JSON body ``{"error": message, "code": code, "message": words,
    **extra}``: ``error`` is English and ``code`` stable (for programs), ``message`` is worded
    from the catalogue entry ``api.<code>`` with ``params`` in the caller's language
    (:func:`feedsvc.web.words.api_words`)."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        *,
        code: str = "error",
        params: Mapping[str, object] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.params = dict(params or {})
        self.body = {"error": message, "code": code, **extra}
        self.headers = dict(headers or {})

    def json(self, words: Translator) -> dict[str, Any]:
        key = f"api.{self.code}"
        text = words(key, **self.params) if words.has(key) else str(self)
        return {**self.body, "message": text}


class InvalidInput(ApiError):
    """400 ``invalid_body``: a body or query string that fails validation. ``error`` keeps
    Pydantic's English (:func:`describe`); ``message`` and ``field`` come from
    :mod:`feedsvc.web.api_invalid` (Pydantic's error types worded from the catalogue), so a
    Vietnamese answer holds no English sentence."""

    def __init__(self, exc: ValidationError, model: type[BaseModel]) -> None:
        self.problems = api_invalid.problems(exc, model)
        where = self.problems[0].where if self.problems else None
        super().__init__(400, describe(exc), code="invalid_body", field=where)

    def json(self, words: Translator) -> dict[str, Any]:
        details = api_invalid.worded(self.problems, words)
        return {**self.body, "message": words("api.invalid_body", details=details)}


def describe(exc: ValidationError) -> str:
    """Pydantic's errors without the input values (they could be long, or secret), each
    ``where: what`` once: a validator's own ``ValueError`` text without Pydantic's
    ``Value error, `` prefix."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        where = position(err["loc"])
        what = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {what}")
    return "; ".join(parts[:5])
