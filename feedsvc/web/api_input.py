"""Reading a JSON API request's input before any handler sees it: the query string
(:func:`read_params`), the path's text (:func:`check_path`) and the body (:func:`read_body`),
each refused in the shape of every API error (:mod:`feedsvc.web.api_errors`): bytes that are
not UTF-8, a repeated parameter or key, a refused character, a body over :data:`MAX_BODY`,
what the endpoint's model does not take."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request

from feedsvc.bidi import BIDI_CONTROLS
from feedsvc.digits import ascii_int
from feedsvc.echoes import echoed
from feedsvc.jsonkeys import DuplicateKey
from feedsvc.operations import refused_character
from feedsvc.web.api_errors import ApiError, InvalidInput
from feedsvc.web.api_models import Body, Params
from feedsvc.web.api_text import (
    Reading,
    first_refused,
    first_refused_key,
    key_in_json,
    position,
    read_json,
    surrogate_in_json,
)
from feedsvc.web.paths import refused_param
from feedsvc.web.queries import refused_query

if TYPE_CHECKING:
    from feedsvc.web.api_base import Endpoint

_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
MAX_BODY = 256 * 1024  # admin bodies are small; refuse to buffer anything larger
_BOM = "\ufeff".encode()  # UTF-8 byte order mark: EF BB BF


def check_path(endpoint: Endpoint, path: Mapping[str, str]) -> None:
    """The path parameters' text: bytes that are not UTF-8 (``%C3``) and refused characters
    are 422s naming the parameter (an integer one is ``Call.int_param``'s to judge)."""
    if (bad := refused_param(path)) is not None:
        raise _not_utf8(*bad)
    _refuse_text(_path_text(endpoint, path))


async def read_body(request: Request, model: type[Body]) -> Body:
    """The body, validated: over :data:`MAX_BODY` is 413 (before it is read whole), a key given
    twice in one object 422 ``duplicate_key`` (:func:`_duplicate`), then Pydantic's validation
    (a body that is not JSON keeps its 400 ``invalid_body``), then the text check. An empty body
    means "all defaults" (a backfill of the default period). A leading UTF-8 byte order mark
    (Windows tools write one: PowerShell's ``Out-File``, Notepad) is read past, as RFC 8259
    §8.1 allows and as ``feedsvc import`` reads a line (:mod:`feedsvc.jsonlines`): it was a 400
    "not valid JSON" for a body that is."""
    declared = ascii_int(request.headers.get("content-length", ""), signed=False)
    if declared is not None and declared > MAX_BODY:  # "²".isdigit() is true; int() refuses it
        raise _too_large()
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise _too_large()
    if raw:  # an empty body is nothing to read, whatever its headers say
        check_media(request.headers)
    # no characters at all is "all defaults": nothing, or a BOM alone (an encoding mark a
    # reader skips, RFC 8259 §8.1: Windows tools write one into an empty file); whitespace
    # alone is no JSON text (RFC 8259 §2), a 400 as any malformed JSON (it was read as {})
    raw = raw.removeprefix(_BOM) or b"{}"
    try:
        reading = read_json(raw)
    except DuplicateKey as exc:
        raise _duplicate(exc) from None
    if (constant := json_constant(raw, reading)) is not None:
        raise constant
    try:
        body = model.model_validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            found = surrogate_in_json(raw, reading)
        else:  # an object key is an unknown field to the model: named as refused text
            found = key_in_json(reading)
        if found is not None:  # placed in a query as _refuse_text places it
            raise refused_character(*found, _text_of(reading.value, found[0])) from None
        raise InvalidInput(exc, model) from None
    _refuse_text(body)
    return body


def check_media(headers: Headers) -> None:
    """415 for a body that is not JSON text as sent: a ``Content-Encoding`` (gzip: it was "not
    valid JSON", as if the client's JSON were wrong), a ``Content-Type`` other than
    ``application/json``, whose only parameter may be ``charset=utf-8`` (RFC 8259 §8.1: JSON
    is UTF-8; a ``text/plain``, form or ``charset=latin-1`` body created topics, read as
    UTF-8 JSON whatever it said it was). No ``Content-Type`` is read as JSON, as before: a
    script that never set one keeps working (``curl -d`` does set one, form-urlencoded, and
    is refused with what to send). ``Content-Type`` given twice is refused alike, whatever
    the two say: which one the sender meant cannot be told."""
    encodings = [e for e in _members(headers.getlist("content-encoding")) if e != "identity"]
    if encodings:
        shown = _shown(", ".join(encodings))
        raise ApiError(
            415, f"Content-Encoding {shown} is not accepted: send the JSON body as it is",
            code="unsupported_content_encoding", params={"encoding": shown},
            field="Content-Encoding",
        )  # fmt: skip
    # field lines joined as RFC 9110 §5.3 joins them: two (application/json and text/plain)
    # are no one media type (the first was read, the second ignored)
    lines = headers.getlist("content-type")
    given = ", ".join(lines) if lines else None
    if given is not None and not _json_media(given):
        shown = _shown(given)
        raise ApiError(
            415, f"Content-Type {shown} is not accepted: send application/json "
            "(or application/json; charset=utf-8)",
            code="unsupported_media_type", params={"given": shown}, field="Content-Type",
        )  # fmt: skip


def _members(lines: list[str]) -> list[str]:
    return [m.strip().lower() for line in lines for m in line.split(",") if m.strip()]


def _shown(value: str) -> str:
    """A header's value as an answer quotes it: escaped (:func:`feedsvc.echoes.echoed`), at
    most 100 characters."""
    return echoed(value.strip())[:100]


def _json_media(value: str) -> bool:
    """``application/json`` (any case), with at most a ``charset`` parameter of ``utf-8``
    (quoted or not, any case)."""
    kind, *params = (part.strip() for part in value.split(";"))
    if kind.lower() != "application/json":
        return False
    for param in params:
        name, _, setting = param.partition("=")
        if name.strip().lower() != "charset" or setting.strip().strip('"').lower() != "utf-8":
            return False
    return True


#: ``NaN``, ``Infinity``, ``-Infinity`` outside a JSON string (strings skipped whole).
_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?(?:NaN|Infinity))')


def json_constant(raw: bytes, reading: Reading) -> ApiError | None:
    """400 ``json_not_a_number`` naming the line and column of the first ``NaN``,
    ``Infinity`` or ``-Infinity`` of a body Python's reader took (``reading``): no JSON
    number (RFC 8259 §6), which Python's and Pydantic's readers accept, so a read-only field
    holding one (a ``PUT``'s ``stats``) was a 200. None when there is none."""
    if not reading.ok or not (b"NaN" in raw or b"Infinity" in raw):
        return None
    text = raw.decode("utf-8", "replace")
    for found in _CONSTANT.finditer(text):
        if found.group(1) is None:
            continue
        at = found.start(1)
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        token = found.group(1)
        return ApiError(
            400, f"body: not valid JSON: {token} at line {line} column {column} is no JSON "
            "number (RFC 8259)",
            code="json_not_a_number", params={"token": token, "line": line, "column": column},
            field="body",
        )  # fmt: skip
    return None


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
    refused character (:mod:`feedsvc.web.api_text`), before any handler sees it; in a query
    (a preview's, a topic's, a chat's own) placed on it, as ``topics add`` and the admin place
    it (:func:`feedsvc.operations.refused_character`: ``position``, ``column``)."""
    if (found := first_refused(value)) is not None:
        field, char = found
        raise refused_character(field, char, _text_of(value, field))


def _text_of(value: object, field: str) -> str | None:
    """The text of the top-level ``field`` of a body or a query string's values, else None."""
    text = value.get(field) if isinstance(value, Mapping) else getattr(value, field, None)
    return text if isinstance(text, str) else None


def _not_utf8(name: str, shown: str) -> ApiError:
    """422 ``not_text`` naming a path or query parameter whose percent-encoded bytes are not
    UTF-8 (``%C3``: :mod:`feedsvc.web.paths`), in the shape of every refused text; a long
    name by its start (:func:`feedsvc.echoes.echoed`)."""
    name = echoed(name)
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


def read_params(request: Request, endpoint: Endpoint) -> Params:
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
