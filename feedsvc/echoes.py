"""How much of a value a request sent an answer names back: **the one bound** — pure.

Why: an error answer that names what was asked for ("Không có chủ đề <slug>") copied the
whole value back. A 30,000-character path was answered with 30 KB of text, or a 65 KB page
for a browser, on public error paths no cache holds (a request that costs little makes an
answer that costs much); the admin's one-shot message holding it outgrew its cookie, so the
browser kept it no longer, or sent it with every request until the server refused them (431).
Nothing an answer names needs more than a slug's length (:data:`feedsvc.limits.SLUG`, 100)
to be recognised, and no longer value can name a topic.
"""

from __future__ import annotations

from feedsvc.graphemes import shortened

#: Code points of a request's value an answer shows, the "…" included: a whole slug
#: (:data:`feedsvc.limits.SLUG`) with the stray spaces and invisible characters a paste brings
#: (:func:`feedsvc.slugs.slug_forms` reads past them), and the start of anything longer.
ECHOED = 120


def echoed(value: str) -> str:
    """``value`` as an answer names it: whole up to :data:`ECHOED` code points, else its
    start in whole grapheme clusters and "…", :data:`ECHOED` code points in all
    (:func:`feedsvc.graphemes.shortened`: a tone mark typed as a combining character stays on
    its letter). Cut on the text as sent, before each answer's own escaping
    (:func:`feedsvc.logs.escape_controls`, :func:`feedsvc.logs.quoted`,
    :func:`feedsvc.fieldtext.shown_key`, HTML), so no escape is cut in two; every error answer
    that names a value a request sent — a path's slug, a parameter, a form field's or a JSON
    key's name — takes it through here."""
    return shortened(value, ECHOED)
