"""The OpenAPI 3.1 document of ``/api/``, generated from the endpoint declarations.

Schemas come from the same pydantic models that validate requests and build responses
(:mod:`feedsvc.web.api_models`), so the description cannot drift from the behaviour; a test
checks that every ``/api/`` route appears here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from feedsvc import __version__, limits
from feedsvc.digits import MAX_ID
from feedsvc.keys import MAX_TYPED_KEY
from feedsvc.web.api_base import WRITES, Endpoint
from feedsvc.web.api_models import ErrorOut
from feedsvc.web.preconditions import CODE_TEXT, codes, headers_of, unsupported

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "Malformed JSON (`NaN`, `Infinity` and `-Infinity` too: no JSON numbers, RFC 8259; "
    "`json_not_a_number` with its line and column; a body of whitespace only), wrong types "
    "or unknown fields",
    401: "Missing or wrong Bearer token",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    415: "A body that is not JSON text as sent: `Content-Type` other than `application/json` "
    "(optionally `; charset=utf-8`; none at all is read as JSON), `unsupported_media_type`; "
    "a `Content-Encoding` (gzip…), `unsupported_content_encoding`",
    429: "Too many wrong admin tokens from this client address (the admin login form's limit, "
    "one budget with it: 5 failures a minute); `token_limited`, even with the right token, "
    "until `Retry-After` seconds have passed",
    422: "Rejected by the rules (e.g. an invalid query: `field` and `position` say where). "
    "Text holding a control character (U+0000–U+001F other than tab and line breaks, "
    "U+007F–U+009F, bidirectional controls) is `control_character`, a lone surrogate "
    "(`\\ud800` in JSON) `not_text`, on every operation that takes text: `field` names it "
    "(an object key by its position, the key in JSON escapes); a path or query parameter "
    "whose percent-encoded bytes are not UTF-8 is `not_text` too. A body whose JSON object "
    "gives a key more than once (at any depth; `\\u0061` is the key `a`) is "
    "`duplicate_key`, `field` naming the first repeated one (`items.0.title`)",
    503: "The API is disabled: admin.token is not configured (`admin_disabled`), or the "
    "state database is unavailable (`state_db_unavailable`, with `Retry-After`), or its "
    "disk is full so a write cannot be saved (`state_db_disk_full`, with `Retry-After`)",
}
PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "integer": {"type": "integer", "minimum": -MAX_ID, "maximum": MAX_ID},
}
#: The longest value each string path parameter takes, as the code applies it: a topic's slug
#: (:data:`feedsvc.limits.SLUG`), an article's key as typed (:data:`feedsvc.keys.MAX_TYPED_KEY`,
#: a stored key's NFC: up to 3 × its 255; the hide/unhide routes' ``source_key_invalid``). One
#: ``maxLength`` of 100 for every one told a client built from this document that a key of
#: 101–255 characters could not be sent, while the routes take it; a new string parameter must
#: be named here (:func:`path_schema`).
PATH_TEXT_LIMITS: dict[str, int] = {"slug": limits.SLUG, "source_key": MAX_TYPED_KEY}


def path_schema(endpoint: Endpoint, name: str) -> dict[str, Any]:
    """The schema of path parameter ``name`` of ``endpoint``: its declared type and, for text,
    its own limit (:data:`PATH_TEXT_LIMITS`; a name missing there is a KeyError, which the
    document's tests catch, rather than a guessed figure)."""
    kind = endpoint.path_types.get(name, "string")
    if kind != "string":
        return PATH_SCHEMAS[kind]
    return {"type": "string", "minLength": 1, "maxLength": PATH_TEXT_LIMITS[name]}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``X | None = None`` query parameters: absent means None; "null" is not a value to send."""
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if len(options) == 1:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        return {**options[0], **rest}
    return schema


def condition_text(endpoint: Endpoint, status: int) -> str:
    """What a write's 400 or 412 says of its conditions: only the codes this route can give,
    in the order they are judged, derived from what its resource takes
    (:func:`feedsvc.web.preconditions.codes`; one text shared by every route promised codes a
    route never gives). "" for a read."""
    if endpoint.method not in WRITES:
        return ""
    syntax, unmet = codes(endpoint.conditions)
    headers = ", ".join(f"`{h}`" for h in unsupported(endpoint.conditions))
    chosen = syntax if status == 400 else unmet
    listed = "; ".join(f"`{c}`: {CODE_TEXT[c].format(headers=headers)}" for c in chosen)
    if status == 400:
        return f". Conditions, judged before the body: {listed}"
    return f"A condition not met, nothing was saved: {listed}"


def _parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    out = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": path_schema(endpoint, name),
        }
        for name in endpoint.path_params
    ]
    if endpoint.params is not None:
        schema = endpoint.params.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            prop = _without_null(prop)
            if prop.get("default", 0) is None:
                del prop["default"]
            prop.pop("title", None)
            out.append({"name": name, "in": "query", "required": name in required,
                        "schema": prop})  # fmt: skip
    if endpoint.conditions is not None:
        out.extend(headers_of(endpoint.conditions))
    return out


def takes_text(endpoint: Endpoint) -> bool:
    """Whether a request to ``endpoint`` carries text: a string path parameter, or a string
    field in its query parameters or body (where :mod:`feedsvc.web.api_text` may refuse a
    control character with 422)."""
    if any(endpoint.path_types.get(name, "string") == "string" for name in endpoint.path_params):
        return True
    models = [m for m in (endpoint.params, endpoint.body) if m is not None]
    return any(_has_str(f.annotation) for m in models for f in m.model_fields.values())


def _has_str(annotation: Any) -> bool:
    """``str`` anywhere in ``annotation`` (``str | None``, ``Annotated[str, …]``,
    ``list[str]``, a nested model's fields); a ``Literal`` of strings is a choice, not text."""
    if annotation is str:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return any(_has_str(f.annotation) for f in annotation.model_fields.values())
    if get_origin(annotation) is Literal:
        return False
    return any(_has_str(arg) for arg in get_args(annotation))


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(status): {"description": model.__doc__ or "OK", "content": _json(_ref(model))}
        for status, model in sorted(endpoint.responses.items())
    }
    if endpoint.etag:  # web.api_base.etag_of
        if endpoint.method == "GET":
            responses["304"] = {"description": "`If-None-Match` lists the current `ETag` (weak "
                                "comparison) or is `*`: no body"}  # fmt: skip
        for answer in responses.values():
            answer["headers"] = {"ETag": {"schema": {"type": "string"},
                                          "description": '`"<version>"`, strong: the body\'s '
                                          "`version`, which `If-Match` takes"}}  # fmt: skip
    errors = {400, 401, 429, 503, *endpoint.errors}
    if endpoint.conditions is not None:
        errors.add(412)
    if takes_text(endpoint):
        errors.add(422)  # a control character in it (feedsvc.web.api_text)
    if endpoint.path_params or endpoint.params is not None or endpoint.reads is not None:
        errors.add(422)  # bytes not UTF-8 (web.paths), a key holding a control char or repeated
    if endpoint.reads is not None:
        errors.update((413, 415))  # web.api_input.read_body: every write's body
    for status in sorted(errors):
        text = condition_text(endpoint, status) if status == 412 else ERROR_TEXT[status]
        if status == 400:
            text += condition_text(endpoint, status)
        responses[str(status)] = {"description": text, "content": _json(_ref(ErrorOut))}
    responses["401"]["headers"] = {
        "WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}
    }
    responses["429"]["headers"] = {
        "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}
    }
    op: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "parameters": _parameters(endpoint),
        "responses": responses,
    }
    if endpoint.description:
        op["description"] = endpoint.description
    if endpoint.body is not None:  # none documented for a write that takes no field (NoBody)
        # an empty body is read as {}: required only where a field is (a backfill's is not)
        required = any(f.is_required() for f in endpoint.body.model_fields.values())
        op["requestBody"] = {"required": required, "content": _json(_ref(endpoint.body))}
    return op


_INDEX: dict[str, Any] = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in ("name", "version", "openapi", "auth")},
    "required": ["name", "version", "openapi", "auth"],
}


def openapi_document(
    endpoints: Sequence[Endpoint], openapi_path: str, index_path: str, server: str = "/"
) -> dict[str, Any]:
    """The whole document; ``openapi_path`` and ``index_path`` (served without auth) too.
    ``server``: the path the paths are under as clients see it (``/rss/`` behind a proxy
    serving feedsvc under that path: :func:`feedsvc.web.mount.mount_path`)."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorOut, "serialization")]
    for e in endpoints:
        if e.body is not None:
            models.append((e.body, "validation"))
        models.extend((m, "serialization") for m in e.responses.values())
    _, defs = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        paths.setdefault(e.path, {})[e.method.lower()] = _operation(e)
    paths[openapi_path] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": ["meta"],
            "security": [],
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": _json({"type": "object"})}
            },
        }
    }
    paths[index_path] = {
        "get": {
            "operationId": "index",
            "summary": "Where this document is and how to authenticate",
            "tags": ["meta"],
            "security": [],
            "responses": {
                "200": {"description": "name, version, openapi, auth", "content": _json(_INDEX)}
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "feedsvc admin API",
            "version": __version__,
            "description": "Topics, subscriptions, deliveries and status of feedsvc. Every "
            "operation but this document and `/api/` needs `Authorization: Bearer <admin.token>`.",
        },
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
