"""Lazy-loaded images in CMS bodies: give each ``<img>`` its real source, or drop it (#13 §4).

News CMSs lazy-load pictures: the body carries
``<img src="data:image/gif;base64,…" data-src="/uploads/…/hien-truong.jpg" alt="…">`` and a
script in the page swaps the real address in.  A feed reader runs no such script, and the
sanitiser rightly refuses ``data:`` URIs, so such an image reached feeds as ``<img alt="…">``
with no source at all.

The sanitiser (:mod:`.sanitize`) keeps the usual lazy-loading attributes on ``<img>``
(:data:`LAZY_ATTRS`), resolving each to one absolute http(s) URL through the same attribute
filter as ``src`` (a ``srcset``-style value by its first candidate, :func:`first_candidate`);
then :func:`settle_images` rewrites its output: each ``<img>`` gets the first usable address in
:data:`SOURCE_ORDER` as its only ``src`` (a lazy attribute beats ``src``, which is usually a
placeholder), and an image left with none is removed.  ``data:`` URIs never pass: the filter
keeps only http(s) addresses.
"""

from __future__ import annotations

import re

#: Attributes that hold a lazily loaded image's address: one URL each.
LAZY_URL_ATTRS = frozenset({"data-src", "data-original", "data-lazy-src", "data-lazy", "data-url"})
#: Attributes holding a ``srcset`` list ("a.jpg 480w, b.jpg 800w"); the first candidate is used.
SRCSET_ATTRS = frozenset({"data-srcset", "data-lazy-srcset", "srcset"})
LAZY_ATTRS = LAZY_URL_ATTRS | SRCSET_ATTRS
#: Which address wins, first usable one: the lazy attributes (src is usually a placeholder),
#: then ``src``, then a plain ``srcset``.
SOURCE_ORDER = (
    "data-src",
    "data-lazy-src",
    "data-original",
    "data-lazy",
    "data-url",
    "data-srcset",
    "data-lazy-srcset",
    "src",
    "srcset",
)

# The sanitiser's output is html5ever's serialisation: every attribute is ``name="value"`` with
# ``"`` escaped, so these patterns need not cope with arbitrary HTML.
_IMG = re.compile(r"<img((?:\s+[^\s=>/]+(?:=\"[^\"]*\")?)*)\s*/?>")
_ATTR = re.compile(r"\s+([^\s=>/]+)(?:=\"([^\"]*)\")?")


def first_candidate(srcset: str) -> str:
    """The URL of the first candidate of a ``srcset`` value ("" when there is none).

    Candidates are "URL [descriptor]" separated by commas (HTML standard, "srcset attribute");
    a URL may itself contain commas, but not whitespace, so the URL is the first
    whitespace-delimited word, minus a trailing comma when it has no descriptor.
    """
    words = srcset.split()
    return words[0].rstrip(",") if words else ""


def settle_images(cleaned: str) -> str:
    """Sanitised HTML with every ``<img>`` given one real ``src``, or removed if it has none.

    ``cleaned`` must be the sanitiser's output (URL attributes already absolute http(s) or
    gone).  Other attributes (``alt``, ``width``…) are kept as they were.
    """
    if "<img" not in cleaned:
        return cleaned
    return _IMG.sub(_settle, cleaned)


def _settle(m: re.Match[str]) -> str:
    attrs = [(name, value or "") for name, value in _ATTR.findall(m.group(1))]
    found = dict(attrs)
    source = next((found[a] for a in SOURCE_ORDER if found.get(a)), "")
    if not source:
        return ""
    rest = "".join(
        f' {name}="{value}"' for name, value in attrs if name != "src" and name not in LAZY_ATTRS
    )
    return f'<img src="{source}"{rest}>'
