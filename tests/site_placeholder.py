"""``config check``'s output without its warnings of ``[site]`` at the built-in placeholders
(``feedsvc.config.placeholders``): every configuration a test checks that sets no ``[site]``
gets them, and a test of something else reads its own lines."""

from __future__ import annotations

#: the words of each placeholder warning (``placeholders.placeholder_warnings``)
PLACEHOLDER = "is still the built-in placeholder"


def unplaced(text: str) -> str:
    """``text`` without its placeholder warning lines."""
    return "".join(line for line in text.splitlines(keepends=True) if PLACEHOLDER not in line)
