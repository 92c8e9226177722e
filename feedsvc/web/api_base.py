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
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from feedsvc import metrics
from feedsvc.db.outage import RETRY_AFTER, is_outage
from feedsvc.digits import MAX_ID, ascii_int
from feedsvc.operations import OperationError
from feedsvc.web import admin_auth
from feedsvc.web.api_errors import ApiError
from feedsvc.web.api_input import MAX_BODY, check_path, read_body, read_params
from feedsvc.web.api_models import Body, ErrorOut, NoBody, Out, Params
from feedsvc.web.clients import request_client
from feedsvc.web.preconditions import Takes, gate, none_match
from feedsvc.web.words import api_words

if TYPE_CHECKING:
    from feedsvc.app import Service
    from feedsvc.catalogue import Translator

__all__ = ["MAX_BODY", "ApiError", "Call", "Endpoint", "check_token", "to_route"]

M = TypeVar("M", bound=BaseModel)

OPERATION_STATUS = {"invalid": 422, "not_found": 404, "conflict": 409, "unavailable": 503,
                    "precondition": 412}  # fmt: skip
PATH_PARAM = re.compile(r"{(\w+)}")
#: The methods that write: every one reads its body (:attr:`Endpoint.reads`).
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Call:
    """One validated request, as a handler sees it; ``words``: the caller's language
    (``Accept-Language``, :func:`feedsvc.web.words.api_words`) for what a handler words itself
    (a chat's ``disabled_reason_message``), as errors are worded."""

    path: dict[str, str]
    body: BaseModel | None = None
    params: BaseModel | None = None
    words: Translator | None = None
    #: the request's headers (``If-Match`` on a topic's ``PUT``)
    headers: Headers = field(default_factory=Headers)

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
    #: the answer is one resource with a ``version`` its writes take as ``If-Match``: sent as
    #: its strong ``ETag`` too (:func:`etag_of`)
    etag: bool = False
    #: what its resource can be conditioned on (``If-Match``, a body's ``version``,
    #: ``If-None-Match: *``, ``If-Unmodified-Since``: :class:`feedsvc.web.preconditions.Takes`);
    #: None on a write: it has no version and refuses every condition, 400
    #: ``condition_unsupported`` (:func:`feedsvc.web.preconditions.gate`: it ignored them) but
    #: the two RFC 9110 says to ignore (``If-Modified-Since``, an undated ``If-Unmodified-Since``)
    conditions: Takes | None = None

    @property
    def route_path(self) -> str:
        """:attr:`path` as Starlette routes it (``{name:path}`` for :attr:`slashes`)."""
        path = self.path
        for name in self.slashes:
            path = path.replace("{" + name + "}", "{" + name + ":path}")
        return path

    @property
    def reads(self) -> type[Body] | None:
        """The model a request's body is read with (:func:`feedsvc.web.api_input.read_body`):
        :attr:`body`, else :class:`NoBody` for a write (:data:`WRITES`). **Every write reads
        its body**, so its ``Content-Type``, ``Content-Encoding`` and JSON are judged as on
        every other: a route declared without a body ignored what it was sent (a ``text/plain``
        body, a stale ``version``) and answered 200. None: a read, whose body is not looked at."""
        if self.body is not None:
            return self.body
        return NoBody if self.method in WRITES else None

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


def to_route(endpoint: Endpoint, service: Service) -> Route:
    """The Starlette route: auth, then validation, then the handler in the thread pool."""

    async def view(request: Request) -> Response:
        status = 500
        try:
            check_token(service, request)
            words = api_words(service, request)
            call = Call(dict(request.path_params), words=words, headers=request.headers)
            check_path(endpoint, call.path)
            if endpoint.params is not None:
                call.params = read_params(request, endpoint)
            if endpoint.method in WRITES:  # the headers' 400s before the body's
                gate(call.headers, endpoint.conditions)
            if (model := endpoint.reads) is not None:
                call.body = await read_body(request, model)
            status, payload = await run_in_threadpool(endpoint.handler, service, call)
            if endpoint.wakes_dispatcher:
                service.wake_dispatchers()  # here, on the event loop: Event is not threadsafe
            headers = etag_of(payload) if endpoint.etag else None
            if headers and endpoint.method == "GET" and none_match(call.headers, headers["ETag"]):
                return Response(status_code=304, headers=headers)  # what the client holds
            return JSONResponse(payload.model_dump(mode="json"), status, headers)
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
                source_keys=_listed(exc.params.get("source_keys")),
                near_keys=_listed(exc.params.get("near_keys")) or None,
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


def etag_of(payload: BaseModel) -> dict[str, str] | None:
    """``ETag: "<version>"`` for an answer that is one topic or one chat's options: the
    ``version`` its body holds and its writes take as ``If-Match``
    (:mod:`feedsvc.web.preconditions`), so a client (or an HTTP library) that keeps an
    entity's tag needs no knowledge of the body. Strong: a version changes with every field
    it covers. No ETag for a resource whose body has no version. A ``GET`` whose
    ``If-None-Match`` lists it is answered 304 (:func:`feedsvc.web.preconditions.none_match`)."""
    version = getattr(payload, "version", None)
    return {"ETag": f'"{version}"'} if isinstance(version, str) and version else None


def _listed(keys: object) -> list[str] | None:
    """An operation error's ``source_keys`` (an ambiguous article key's candidates) or
    ``near_keys`` (an unknown one's, ``lifecycle.typed_keys.not_found``) as the answer lists
    them; None for any other error."""
    return [str(k) for k in keys] if isinstance(keys, tuple) else None
