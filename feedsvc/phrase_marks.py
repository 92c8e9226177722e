"""The topic language's phrase marks (SPEC §4) — **the one list** — pure, no imports.

A phrase is typed between whatever double quotes a keyboard or an autocorrect puts there:
``"…"``, English ``“…”``, Swedish and Finnish ``”…”``, German and Czech ``„…“``, Polish,
Hungarian and Romanian ``„…”``. The closing mark of one style is an opening mark of another
(``“`` closes German, opens English), so every mark of the class is the language's: with
``"“”`` only, ``„an ninh“`` was the words ``„an`` and ``ninh`` and then a phrase opened by its
closing ``“`` — "unterminated phrase (hint: close it with a second ")", everywhere a topic's
query is read, while the README promised separate words and a warning (a tester's).

Read by the lexer (:mod:`feedsvc.matching.lexer`: where a phrase opens and closes, the
unterminated phrase's hint), by what a reader's query does with them
(:func:`feedsvc.bot.typed.quote_problem`, :func:`~feedsvc.bot.typed.keyboard_phrases`: the
preview's warning is of the other marks) and :func:`feedsvc.fieldtext.quoted_query`.

Single quotes (``'…'``, ``‘…’``, ``‚…‘``) and guillemets (``«…»``, ``»…«``, ``‹…›``) are no
phrase marks in a topic's query: a single quote is also an apostrophe (``Tom's``, ``'90s``),
and a topic saved with either matches its words as it always did; the preview warns of a
phrase so typed (:class:`feedsvc.preview.KeyboardQuotes`), and a reader's own query reads it
as a phrase (:func:`feedsvc.typed_query.typed_query`).
"""

from __future__ import annotations

#: Every mark that opens a phrase.
PHRASE_MARKS = '"“”„‟'
#: The marks that close one (``„`` and its reversed form ``‟`` only ever open: no style types
#: them at a phrase's end).
CLOSING_MARKS = '"“”'
#: The marks that only open: inside a phrase, one opens a quotation that ``“`` or ``”``
#: closes (``"báo „Tuổi trẻ“ hôm nay"`` is one phrase).
OPENING_ONLY = "„‟"
#: The mark that closes a phrase each mark opens, as a style types it: what the hint of an
#: unterminated phrase tells to write (``„an ninh`` → “), never ``"`` for a typographic quote.
CLOSER = {'"': '"', "“": "”", "”": "”", "„": "“", "‟": "”"}
