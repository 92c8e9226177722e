"""A JSON API request that fails validation (body or query string), worded from the catalogue.

Pydantic describes each failure in English (``Input should be a valid integer``); put inside
the Vietnamese ``message`` that read as half a sentence in another language. Its error *types*
are stable data, so this module maps each type (``missing``, ``string_too_long``,
``literal_error``…) and its context (``max_length``, ``ge``…) to a catalogue entry
``api.invalid.<kind>`` in the caller's language; a type not mapped here is worded by the
generic entry, which names the field and says its value is not valid, never Pydantic's text.
The one place that owns this mapping; the English ``error`` of the answer keeps Pydantic's
text (stable for logs and programs), the ``message`` is this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import UnionType
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from feedsvc.web.api_text import position

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from feedsvc.catalogue import Translator

#: Pydantic error type → catalogue kind (``api.invalid.<kind>``). Types of the same meaning
#: share a kind (a number sent as a string and a string that is not a number both "must be an
#: integer"). Our own validators raise coded errors (``int_parsing``), never bare ValueErrors.
KINDS: dict[str, str] = {
    "missing": "missing",
    "extra_forbidden": "extra",
    "string_type": "string",
    "string_too_short": "too_short",
    "string_too_long": "too_long",
    "int_type": "integer",
    "int_parsing": "integer",
    "int_from_float": "integer",
    "int_parsing_size": "integer",
    "float_type": "number",
    "float_parsing": "number",
    "finite_number": "number",
    "bool_type": "boolean",
    "bool_parsing": "boolean",
    "literal_error": "choice",
    "greater_than_equal": "min",
    "greater_than": "above",
    "less_than_equal": "max",
    "less_than": "below",
    "too_long": "too_many",
    "too_short": "too_few",
    "list_type": "list",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
    "json_invalid": "json",
    "json_type": "json",
}
#: The context each kind's words need (Pydantic's ``ctx`` names).
NEEDS: dict[str, tuple[str, ...]] = {
    "too_short": ("min_length",),
    "too_long": ("max_length",),
    "too_few": ("min_length",),
    "too_many": ("max_length",),
    "min": ("ge",),
    "above": ("gt",),
    "max": ("le",),
    "below": ("lt",),
    "choice": ("expected",),
}
GENERIC = "invalid"
#: How many problems one answer lists (a body with fifty wrong fields is not fifty lines).
MAX_SHOWN = 5


@dataclass(frozen=True)
class Problem:
    """One failure: where (``chat_id``, ``items.0.x``; ``body`` for the body as a whole), the
    catalogue kind, and the values its words take."""

    where: str
    kind: str
    params: dict[str, object] = field(default_factory=dict)

    def words(self, t: Translator) -> str:
        return t(f"api.invalid.{self.kind}", where=self.where, **self.params)


def problems(exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Each of ``exc``'s errors as a :class:`Problem` (input values left out: they could be
    long, or secret)."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = tuple(err["loc"])
        where = position(loc)
        kind = KINDS.get(err["type"], GENERIC)
        ctx = dict(err.get("ctx") or {})
        if kind == "choice":  # Pydantic's "'a', 'b' or 'c'" is English: list the values
            choices = _choices(model, loc)
            ctx["expected"] = ", ".join(choices) if choices else None
        params = {name: _bound(ctx.get(name)) for name in NEEDS.get(kind, ())}
        if any(value is None for value in params.values()):
            kind, params = GENERIC, {}
        out.append(Problem(where, kind, params))
    return out


def _bound(value: object) -> object:
    """A limit as people write it: a float field's ``le=36_500`` is 36500.0 in Pydantic's
    context, shown as 36500."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def worded(found: list[Problem], t: Translator) -> str:
    """The problems in ``t``'s language, ``; ``-separated, at most :data:`MAX_SHOWN`."""
    return "; ".join(p.words(t) for p in found[:MAX_SHOWN])


def _choices(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The allowed values of the ``Literal`` field at ``loc`` (a top-level field of ``model``;
    our bodies and parameters are flat), or None."""
    if len(loc) != 1 or not isinstance(loc[0], str) or loc[0] not in model.model_fields:
        return None
    values = _literal_values(model.model_fields[loc[0]].annotation)
    return [str(v) for v in values] or None


def _literal_values(annotation: Any) -> list[object]:
    origin = get_origin(annotation)
    if origin is Literal:
        return list(get_args(annotation))
    if origin in (Union, UnionType):
        return [v for arg in get_args(annotation) for v in _literal_values(arg)]
    return []
