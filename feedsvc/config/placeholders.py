"""``[site]`` left at the built-in placeholders: a warning, never a refusal.

Why: a fresh install (an empty directory, no config file) passed ``config check`` as
"built-in defaults: OK", and ``feedsvc run`` published feeds and pages linking
``https://example.vn/``, the site titled "Tin tức" (a newcomer's walk-through). The defaults
are kept (the demo runs on them, and a configuration that works is not refused: SPEC's exit
codes of ``config check`` stay); :func:`placeholder_warnings` names each key still at its
placeholder and what to set, for ``config check`` (printed, exit unchanged) and ``run``
(logged once at start; not the demo's: ``Service.warn_placeholders``). Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedsvc.config.problems import Problem
from feedsvc.config.sources import env_name

if TYPE_CHECKING:
    from feedsvc.config.models import Settings

#: What each placeholder key stands for, in the warning's "set it to …".
_MEANT = {
    "url": ("the address of the newsroom's own site", "every feed, page and alert links to it"),
    "title": ("the newsroom's name", "it names the site in every feed, page and alert"),
}


def placeholder_warnings(settings: Settings) -> list[Problem]:
    """One warning per ``site.url``/``site.title`` whose value is still the built-in
    placeholder (by value: one written out again in the file is still the placeholder),
    naming the key, the file's key and the variable that set it."""
    site = settings.site
    found = []
    for name, (meant, why) in _MEANT.items():
        value = getattr(site, name)
        if value != type(site).model_fields[name].default:
            continue
        key = f"site.{name}"
        found.append(
            Problem(
                key,
                f"is still the built-in placeholder {value!r} ({why}): set {key} in the config "
                f"file, or {env_name(key)}, to {meant}",
            )
        )
    return found
