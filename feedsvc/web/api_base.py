"""The JSON API's plumbing: endpoint declarations, Bearer auth, body validation, error mapping.

Every endpoint is declared once as an :class:`Endpoint` (method, path, models, handler); the
Starlette route and its OpenAPI description are both derived from that declaration, so the
document always lists every route with the schemas the code really validates against.

Handlers are plain synchronous functions (the DB layer is sync SQLAlchemy) run in the thread
pool, and report failures by raising :class:`feedsvc.operations.OperationError` (the same
errors the CLI and the web admin get) or :class:`ApiError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from feedsvc import metrics
from feedsvc.bidi import BIDI_CONTROLS
from feedsvc.db.outage import RETRY_AFTER, is_outage
from feedsvc.digits import MAX_ID, ascii_int
from feedsvc.jsonkeys import DuplicateKey
from feedsvc.operations import OperationError, refused_character
from feedsvc.web import admin_auth, api_invalid
from feedsvc.web.api_models import Body, ErrorOut, Out, Params
from feedsvc.web.api_text import (
    first_refused,
    first_refused_key,
    key_in_json,
    position,
    read_json,
    surrogate_in_json,
)
from feedsvc.web.clients import request_client
from feedsvc.web.paths import refused_param
from feedsvc.web.queries import refused_query
from feedsvc.web.words import api_words

if TYPE_CHECKING:
    from feedsvc.app import Service
    from feedsvc.catalogue import Translator

M = TypeVar("M", bound=BaseModel)

OPERATION_STATUS = {"invalid": 422, "not_found": 404, "conflict": 409, "unavailable": 503}
PATH_PARAM = re.compile(r"{(\w+)}")
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
MAX_BODY = 256 * 1024  # admin bodies are small; refuse to buffer anything larger


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


@dataclass
class Call:
    """One validated request, as a handler sees it; ``words``: the caller's language
    (``Accept-Language``, :func:`feedsvc.web.words.api_words`) for what a handler words itself
    (a chat's ``disabled_reason_message``), as errors are worded."""

    path: dict[str, str]
    body: BaseModel | None = None
    params: BaseModel | None = None
    words: Translator | None = None

    def body_as(self, model: type[M]) -> M:
        assert isinstance(self.body, model)
        return self.body

    def params_as(self, model: type[M]) -> M:
        assert isinstance(self.params, model)
        return self.params

    def int_param(self, name: str) -> int:
        """An integer path parameter: not a number (ASCII digits, optional ``-``:
        :func:`feedsvc.digits.ascii_int`; ``int()`` would take ``"１２"``) is a 400, out of range
        cannot exist (404)."""
        value = ascii_int(self.path[name])
        if value is None:
            raise ApiError(
                400,
                f"{name} must be an integer",
                code="not_integer",
                params={"name": name},
                field=name,
            )
        if abs(value) > MAX_ID:
            raise ApiError(
                404,
                f"unknown {name} {value}",
                code="unknown_id",
                params={"name": name, "value": value},
            )
        return value


Handler = Callable[["Service", Call], tuple[int, Out]]


@dataclass(frozen=True)
class Endpoint:
    """One API operation; ``responses`` maps success statuses to their body model."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    responses: Mapping[int, type[Out]]
    body: type[Body] | None = None
    params: type[Params] | None = None
    errors: tuple[int, ...] = ()
    description: str = ""
    path_types: Mapping[str, str] = field(default_factory=dict)  # name → "integer" | "string"
    wakes_dispatcher: bool = False  # it queued work: tell this replica's dispatcher at once
    #: path parameters that may hold ``/`` (a CMS's ``2026/11/0042`` source key), sent as is or
    #: as ``%2F``: routed with Starlette's ``path`` convertor; the documented path is unchanged
    slashes: tuple[str, ...] = ()
    #: path and query parameters naming a stored article's key (``?q=`` searches one): a bidi
    #: control in one is left to the use case (``lifecycle.editors``), which still finds a key
    #: stored before keys refused them
    stored_keys: tuple[str, ...] = ()

    @property
    def route_path(self) -> str:
        """:attr:`path` as Starlette routes it (``{name:path}`` for :attr:`slashes`)."""
        path = self.path
        for name in self.slashes:
            path = path.replace("{" + name + "}", "{" + name + ":path}")
        return path

    @property
    def path_params(self) -> list[str]:
        return PATH_PARAM.findall(self.path)

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


def check_token(service: Service, request: Request) -> None:
    """503 when no admin token is configured (the API is then off), 401 unless the request
    carries it as a Bearer token (compared in constant time), 429 with ``Retry-After`` while
    the client's address is locked out after failed tries, the login form's limit and budget
    (:func:`feedsvc.web.admin_auth.check_bearer`; tester F8: guessing here was unlimited)."""
    expected = admin_auth.configured_token(service.settings)
    if not expected:
        raise ApiError(
            503, "admin.token not configured: the admin API is disabled", code="admin_disabled"
        )
    checked = admin_auth.check_bearer(
        service.token_failures,
        request_client(request),
        request.headers.get("authorization"),
        expected,
    )
    if checked.wait is not None:
        seconds = max(1, round(checked.wait))
        raise ApiError(
            429,
            f"too many failed admin token attempts from this address; try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
            code="token_limited",
            params={"seconds": seconds},
        )
    if not checked.ok:
        raise ApiError(
            401,
            "missing or wrong Bearer token",
            headers={"WWW-Authenticate": "Bearer"},
            code="unauthorized",
        )


async def _read_body(request: Request, model: type[Body]) -> Body:
    """The body, validated: over :data:`MAX_BODY` is 413 (before it is read whole), a key given
    twice in one object 422 ``duplicate_key`` (:func:`_duplicate`), then Pydantic's validation
    (a body that is not JSON keeps its 400 ``invalid_body``), then the text check. An empty body
    means "all defaults" (a backfill of the default period)."""
    declared = ascii_int(request.headers.get("content-length", ""), signed=False)
    if declared is not None and declared > MAX_BODY:  # "²".isdigit() is true; int() refuses it
        raise _too_large()
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise _too_large()
    raw = raw if raw.strip() else b"{}"
    try:
        reading = read_json(raw)
    except DuplicateKey as exc:
        raise _duplicate(exc) from None
    try:
        body = model.model_validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            found = surrogate_in_json(raw, reading)
        else:  # an object key is an unknown field to the model: named as refused text
            found = key_in_json(reading)
        if found is not None:
            raise refused_character(*found) from None
        raise InvalidInput(exc, model) from None
    _refuse_text(body)
    return body


def _duplicate(exc: DuplicateKey) -> ApiError:
    """422 ``duplicate_key``: an object of the body gives a key twice (at any depth; the first
    repeated one in document order, :mod:`feedsvc.jsonkeys`, the rule ``feedsvc import``
    applies too), named by its position (:func:`feedsvc.web.api_text.position`: ``items.0.title``,
    ``""`` for the empty key). Pydantic would keep the last value silently.

    It is checked on the body as JSON, before the model sees it, so it is the one answer even
    when the body is wrong otherwise too (a missing field, an unknown key, a value of the wrong
    type: which value of the key would be judged?) and when the repeated key holds a control
    character (422 ``control_character`` once the key is given once)."""
    where = position(exc.loc)
    return ApiError(
        422,
        f"{where}: key given more than once in one object",
        code="duplicate_key",
        params={"field": where},
        field=where,
    )


def _path_text(endpoint: Endpoint, path: Mapping[str, str]) -> dict[str, str]:
    """The path parameters :func:`_refuse_text` checks: not an integer one (ASCII digits or a
    400, ``Call.int_param``), and a stored key's without its bidi controls
    (:attr:`Endpoint.stored_keys`)."""
    return {
        name: _BIDI.sub("", value) if name in endpoint.stored_keys else value
        for name, value in path.items()
        if endpoint.path_types.get(name) != "integer"
    }


def _stored_keys_checked(endpoint: Endpoint, params: Params) -> dict[str, object]:
    """The query parameters :func:`_refuse_text` checks, in declaration order: a stored
    key's (:attr:`Endpoint.stored_keys`: ``GET /api/articles?q=``) without its bidi
    controls, as :func:`_path_text` checks a path's."""
    return {
        name: _BIDI.sub("", value) if name in endpoint.stored_keys and isinstance(value, str)
        else value
        for name in type(params).model_fields
        for value in (getattr(params, name),)
    }  # fmt: skip


def _refuse_text(value: object) -> None:
    """422 ``control_character``/``not_text`` naming the first text of a request that holds a
    refused character (:mod:`feedsvc.web.api_text`), before any handler sees it."""
    if (found := first_refused(value)) is not None:
        raise refused_character(*found)


def _not_utf8(name: str, shown: str) -> ApiError:
    """422 ``not_text`` naming a path or query parameter whose percent-encoded bytes are not
    UTF-8 (``%C3``: :mod:`feedsvc.web.paths`), in the shape of every refused text."""
    return ApiError(
        422,
        f"{name} is not UTF-8 text ({shown})",
        code="not_text",
        params={"field": name, "bytes": shown},
        field=name,
    )


def _too_large() -> ApiError:
    return ApiError(
        413,
        f"request body larger than {MAX_BODY} bytes",
        code="body_too_large",
        params={"limit": MAX_BODY},
    )


class InvalidInput(ApiError):
    """400 ``invalid_body``: a body or query string that fails validation. ``error`` keeps
    Pydantic's English (:func:`_describe`); ``message`` and ``field`` come from
    :mod:`feedsvc.web.api_invalid` (Pydantic's error types worded from the catalogue), so a
    Vietnamese answer holds no English sentence."""

    def __init__(self, exc: ValidationError, model: type[BaseModel]) -> None:
        self.problems = api_invalid.problems(exc, model)
        where = self.problems[0].where if self.problems else None
        super().__init__(400, _describe(exc), code="invalid_body", field=where)

    def json(self, words: Translator) -> dict[str, Any]:
        details = api_invalid.worded(self.problems, words)
        return {**self.body, "message": words("api.invalid_body", details=details)}


def _describe(exc: ValidationError) -> str:
    """Pydantic's errors without the input values (they could be long, or secret), each
    ``where: what`` once: a validator's own ``ValueError`` text without Pydantic's
    ``Value error, `` prefix."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        where = position(err["loc"])
        what = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {what}")
    return "; ".join(parts[:5])


def _read_params(request: Request, endpoint: Endpoint) -> Params:
    if (bad := refused_query(request.scope.get("query_string") or b"")) is not None:
        raise _not_utf8(*bad)
    raw: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key in raw:  # named as every other refusal names its field (``a\u0001`` visible)
            where = position((key,))
            raise ApiError(400, f"{where}: given more than once", code="repeated_param",
                           params={"name": where}, field=where)  # fmt: skip
        raw[key] = value
    if (found := first_refused_key(raw)) is not None:  # a key holding one: an unknown field
        raise refused_character(*found)
    model = endpoint.params
    assert model is not None
    try:
        params = model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(exc, model) from None
    _refuse_text(_stored_keys_checked(endpoint, params))
    return params


def to_route(endpoint: Endpoint, service: Service) -> Route:
    """The Starlette route: auth, then validation, then the handler in the thread pool."""

    async def view(request: Request) -> Response:
        status = 500
        try:
            check_token(service, request)
            call = Call(dict(request.path_params), words=api_words(service, request))
            if (bad := refused_param(call.path)) is not None:  # bytes that are not UTF-8
                raise _not_utf8(*bad)
            _refuse_text(_path_text(endpoint, call.path))
            if endpoint.params is not None:
                call.params = _read_params(request, endpoint)
            if endpoint.body is not None:
                call.body = await _read_body(request, endpoint.body)
            status, payload = await run_in_threadpool(endpoint.handler, service, call)
            if endpoint.wakes_dispatcher:
                service.wake_dispatchers()  # here, on the event loop: Event is not threadsafe
            return JSONResponse(payload.model_dump(mode="json"), status_code=status)
        except ApiError as exc:
            status = exc.status
            words = api_words(service, request)
            return JSONResponse(exc.json(words), status_code=status, headers=exc.headers)
        except OperationError as exc:
            status = OPERATION_STATUS.get(exc.kind, 400)
            code = exc.cause.code if exc.cause is not None else exc.code
            words = api_words(service, request)
            message = words.operation_error(exc)
            if exc.column is not None:  # where, as the search feed's 400 says it
                message = f"{words('at_position', position=exc.column)}: {message}"
            out = ErrorOut(
                error=exc.message,
                code=code,
                message=message,
                field=exc.field,
                position=exc.position,
                column=exc.column,
            )
            # the service is stopping: when to come back, as every other 503 says it
            retry = {"Retry-After": str(RETRY_AFTER)} if status == 503 else None
            return JSONResponse(out.model_dump(mode="json", exclude_none=True), status, retry)
        except SQLAlchemyError as exc:  # answered by the app's handler (feedsvc.web.outage)
            status = 503 if is_outage(exc) else 500
            raise
        finally:
            metrics.HTTP_REQUESTS.labels(f"{endpoint.method} {endpoint.path}", str(status)).inc()

    view.__name__ = endpoint.operation_id
    return Route(endpoint.route_path, view, methods=[endpoint.method])
