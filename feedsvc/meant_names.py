"""``meant``: **the one guess of the name a misspelt key stood for** (``tokn`` → ``token``,
``titel`` → ``title``), for the config file's unknown keys (``config.problems``) and the topics
file's (``topics_file``): the topics file said only "unknown key 'titel' (allowed: …)" where
the config file said "did you mean …?". Only names are compared and shown, never a value.
Pure; ``difflib`` imported only when a key is unknown (every command loads its callers)."""

from __future__ import annotations

from collections.abc import Iterable


def meant(name: str, known: Iterable[str]) -> str | None:
    """The name of ``known`` closest to ``name`` (``difflib``'s ratio, its default cutoff), or
    None when none is close."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return close[0] if close else None
