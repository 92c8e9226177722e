"""Where the configuration's values come from: the TOML file (``--config``, ``FEEDSVC_CONFIG`` or
``config/feedsvc.toml``) and ``FEEDSVC_<SECTION>__<KEY>`` env overrides laid on top of it.

The env overrides are read here by :func:`env_values`, not by pydantic-settings (which brought
asyncio and ssl into every CLI command's start-up, ~4x the cost of importing Click; issue #17
§1). Nothing here validates: the data goes to the models (``feedsvc.config.models``) as read.
"""

from __future__ import annotations

import json
import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from feedsvc.config.models import Settings
from feedsvc.config.problems import ConfigError, Problem
from feedsvc.tomlfile import TomlFileError, read_toml_file

DEFAULT_CONFIG = Path("config/feedsvc.toml")
ENV_PREFIX = "FEEDSVC_"
ENV_NESTING = "__"


def config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    """``--config`` wins, then ``FEEDSVC_CONFIG``, then ``config/feedsvc.toml`` if present.

    Raises :class:`ConfigError` when ``FEEDSVC_CONFIG`` is set but empty (or blank): an unset
    variable in a deployment's template, which read the working directory's file or the
    defaults in silence, so the service ran without the configuration meant for it.

    Present is anything at that path, a dangling link or a directory too (then a problem when it
    is read): a directory there (Docker makes one for a bind mount of a host file that does not
    exist) was passed over in silence, and the service ran on the built-in defaults."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("FEEDSVC_CONFIG")
    if env is not None and not env.strip():  # `FEEDSVC_CONFIG=$CONF` with CONF unset
        said = (
            "is empty, which names no file: name the configuration file, or unset the variable "
            f"to read {DEFAULT_CONFIG} when it is there, else the built-in defaults"
        )
        raise ConfigError("FEEDSVC_CONFIG", [Problem("FEEDSVC_CONFIG", said)])
    if env:
        return Path(env)
    return DEFAULT_CONFIG if os.path.lexists(DEFAULT_CONFIG) else None


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML file at ``path`` as data; raises :class:`ConfigError` (one problem naming the
    file) when it cannot be read or is not valid TOML."""
    try:
        return read_toml_file(path)
    except TomlFileError as exc:
        raise ConfigError(str(path), [Problem(str(path), str(exc))]) from None
    except IsADirectoryError:
        said = (
            "is a directory, not a file (a bind mount of a host file that does not exist makes one)"
        )
        raise ConfigError(str(path), [Problem(str(path), said)]) from None
    except OSError as exc:
        raise ConfigError(str(path), [Problem(str(path), f"cannot read: {exc.strerror}")]) from None


def env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    """``FEEDSVC_<SECTION>__<KEY>[__<KEY>]`` variables as nested config data (names compared
    case-insensitively). A value for a list or a section (``FEEDSVC_TELEGRAM__ADMINS='[5, 6]'``,
    ``FEEDSVC_SOURCE__COLUMNS='{"id": "nid"}'``) is JSON; when it is not valid JSON it is passed
    on as text, so validation names the key. Variables whose first part is not a section
    (``FEEDSVC_CONFIG``) are not settings and are skipped; an unknown key inside a section is
    kept, so validation reports it like a misspelt key in the file."""
    out: dict[str, Any] = {}
    prefix = ENV_PREFIX.lower()
    for name, value in environ.items():
        lowered = name.lower()
        if not lowered.startswith(prefix):
            continue
        path = lowered[len(prefix) :].split(ENV_NESTING)
        if path[0] not in Settings.model_fields or not all(path):
            continue
        target = out
        for key in path[:-1]:
            child = target.setdefault(key, {})
            if not isinstance(child, dict):
                break  # a whole section given as JSON and one of its keys: the JSON stays
            target = child
        else:
            target[path[-1]] = _json_if_complex(value, _annotation(path))
    return out


def misnamed_env(environ: Mapping[str, str]) -> list[Problem]:
    """``FEEDSVC_`` variables that look meant as settings but are none, each as a problem
    naming the variable (never its value): a section name followed by a single ``_``
    (``FEEDSVC_TELEGRAM_TOKEN``), or an unknown section before ``__``
    (``FEEDSVC_TELEGRAMM__TOKEN``). :func:`env_values` skips both, so without this the bot
    would silently run without its token. Other names (``FEEDSVC_CONFIG``, a deployment's own
    ``FEEDSVC_SOMETHING``) are not settings and stay allowed. A section's variable with an
    empty part (``FEEDSVC_TELEGRAM____TOKEN``, a trailing ``__``) is a problem too: it was
    skipped as no setting, and the bot ran without its token."""
    sections = sorted(Settings.model_fields)
    problems = []
    for name in sorted(environ):
        lowered = name.lower()
        if not lowered.startswith(ENV_PREFIX.lower()):
            continue
        rest = lowered[len(ENV_PREFIX) :]
        head, nested, _tail = rest.partition(ENV_NESTING)
        if nested and head and head not in Settings.model_fields:
            import difflib  # only for a misnamed variable: every command loads this module

            hint = difflib.get_close_matches(head, sections, n=1)
            also = f" (did you mean {hint[0]}?)" if hint else ""
            problems.append(Problem(name, f"no section {head!r}{also}: this is not a setting"))
            continue
        if nested:
            parts = rest.split(ENV_NESTING)
            if not all(parts):  # FEEDSVC_TELEGRAM____TOKEN, FEEDSVC_TELEGRAM__TOKEN__
                meant = env_name(".".join(part for part in parts if part))
                problems.append(
                    Problem(name, f"not a setting: an empty part between '__'; meant {meant}?")
                )
            continue
        for section in sections:
            if rest.startswith(section + "_") and len(rest) > len(section) + 1:
                meant = env_name(f"{section}.{rest[len(section) + 1 :]}")
                problems.append(
                    Problem(name, f"not a setting: two underscores after the section, {meant}")
                )
                break
    return problems


def given_by(key: str, config: Path | None, environ: Mapping[str, str] | None = None) -> str | None:
    """Where the dotted ``key``'s value came from, for a message that tells the operator what
    to change: the ``FEEDSVC_`` variable that set it (it wins over the file), else the config
    file ``config`` when it holds the key, else None: nobody set it, the built-in default is
    in force (``topics.file``'s ``config/topics.toml``, found in the working directory). "Leave
    topics.file unset" was the demo's advice for a file nobody had set. ``environ``: the
    variables (``os.environ``; ``{}``: where it comes from once the variable is unset)."""
    environ = os.environ if environ is None else environ
    parts = key.split(".")
    names = {name.upper() for name in environ}
    if _holds(env_values(environ), parts):
        # the longest variable holding it: FEEDSVC_TOPICS__FILE, or FEEDSVC_TOPICS='{"file": …}'
        given = (env_name(".".join(parts[:n])) for n in range(len(parts), 0, -1))
        name = next((n for n in given if n in names), None)
        if name is not None:
            return name
    if config is not None and _holds(read_toml(config), parts):
        return str(config)
    return None


def _holds(data: Any, parts: list[str]) -> bool:
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def env_name(key: str) -> str:
    """The variable that sets the dotted config ``key`` (``http.port`` → ``FEEDSVC_HTTP__PORT``)."""
    return ENV_PREFIX + ENV_NESTING.join(part.upper() for part in key.split("."))


def _annotation(path: list[str]) -> Any:
    """The declared type at ``path`` (None when the path names no field)."""
    model: Any = Settings
    annotation: Any = None
    for key in path:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(key)
        if field is None:
            return None
        annotation = model = field.annotation
    return annotation


def json_shape(path: list[str]) -> tuple[str, str] | None:
    """How the key at ``path`` is written in an env variable when it is a list or a table
    (JSON, :func:`env_values`): its kind and an example; None for a plain value. A list's
    example is the field's own (``examples`` in :mod:`feedsvc.config.models`), else one of its
    items' type: ``[5, 6]`` was the example for every list, ``http.trusted_proxies`` (addresses,
    text) included, which it would refuse."""
    annotation = _annotation(path)
    kinds = typing.get_args(annotation) if typing.get_origin(annotation) is not None else ()
    for kind in (annotation, *kinds):
        if typing.get_origin(kind) is list:
            return "a list", _list_example(path, kind)
        if typing.get_origin(kind) is dict or (
            isinstance(kind, type) and issubclass(kind, BaseModel)
        ):
            return "a table", '{"key": "value"}'
    return None


def _list_example(path: list[str], kind: Any) -> str:
    """The JSON example of the list key at ``path`` (of type ``kind``), for :func:`json_shape`."""
    parent = _annotation(path[:-1]) if len(path) > 1 else Settings
    is_model = isinstance(parent, type) and issubclass(parent, BaseModel)
    field = parent.model_fields.get(path[-1]) if is_model else None
    if field is not None and field.examples:
        return json.dumps(field.examples[0], ensure_ascii=False)
    return '["a", "b"]' if typing.get_args(kind) == (str,) else "[5, 6]"


def _json_if_complex(value: str, annotation: Any) -> Any:
    kinds = typing.get_args(annotation) if typing.get_origin(annotation) is not None else ()
    candidates = [a for a in (annotation, *kinds) if a is not type(None)]
    complex_ = any(
        typing.get_origin(a) in (list, dict) or (isinstance(a, type) and issubclass(a, BaseModel))
        for a in candidates
    )
    if not complex_:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def merged(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top, section by section (env wins over the file)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(dict(out[key]), value)
        else:
            out[key] = value
    return out
