"""The one error every admin use case raises (:class:`OperationError`), and its kinds: what the
CLI turns into exit codes, the API into HTTP statuses and the admin into catalogue wordings."""

from __future__ import annotations

from feedsvc.matching import QueryError


class OperationError(Exception):
    """A request that cannot be done; ``kind`` maps to an HTTP status / CLI exit code.

    kinds: ``invalid`` (422 / exit 2), ``not_found`` (404 / exit 1), ``conflict`` (409 / exit 1).
    ``position`` is the character offset of a query error, when there is one. ``message`` is
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


def query_invalid(exc: QueryError) -> OperationError:
    return OperationError(
        "invalid", str(exc), code="query_invalid", field="query", position=exc.position, cause=exc
    )
