"""``config/topics.toml``: topics kept in version control, imported into the state DB.

The file is validated as a whole before anything is written: a typo in one topic must not
half-apply a change (and every problem is reported, with the topic and the key).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedsvc import limits
from feedsvc.fieldtext import clean_topic, control_char, refusal_message
from feedsvc.matching import QueryError, parse_topic
from feedsvc.store.records import TopicSpec
from feedsvc.tomlfile import TomlFileError, read_toml_file

if TYPE_CHECKING:  # reading and checking a file needs no SQLAlchemy (`match --topics`)
    from feedsvc.catalogue import Translator
    from feedsvc.config import TopicsSettings

#: A topic slug, matched whole (``fullmatch``: with ``match`` and ``$``, "abc\n" passed, ``$``
#: matching before a final line break, and became a feed URL no one could type).
#: Also the admin slug field's ``pattern``: ``\-`` escaped, as a browser's ``v`` flag needs
#: (``[a-z0-9-]`` there is a syntax error, and the field checked nothing: a tester's).
SLUG = re.compile(rf"[a-z0-9](?:[a-z0-9\-]{{0,{limits.SLUG - 2}}}[a-z0-9])?")
KEYS = {"slug", "title", "description", "query", "enabled"}


class TopicsFileError(Exception):
    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


#: :data:`SLUG` in words (also the API document's description of ``slug``).
SLUG_RULE = "lowercase letters a-z (no marks), digits and '-', with a letter or digit at each end"
#: What is wrong with a slug, in English (CLI, topics file; the catalogue's ``op.<code>`` alike):
#: all of :data:`SLUG`, never "lowercase letters, digits and '-'" alone, which ``a-`` is.
SLUG_PROBLEMS = {
    "slug_format": f"must be {SLUG_RULE} (e.g. kien-thuy), at most {limits.SLUG} characters",
    "slug_reserved": "'search' is reserved for /feeds/search",
}


def slug_problem(slug: str) -> str | None:
    """The code (a key of :data:`SLUG_PROBLEMS`) of what is wrong with ``slug``, or None."""
    if not SLUG.fullmatch(slug):
        return "slug_format"
    if slug == "search":
        return "slug_reserved"
    return None


def validate_slug(slug: str) -> str | None:
    """What is wrong with ``slug``, in English (the CLI's and the topics file's wording)."""
    code = slug_problem(slug)
    return SLUG_PROBLEMS[code] if code else None


#: The TOML type of a value, worded, for a key given the wrong one (``slug = 5``).
_TOML_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),  # before int: a bool is an int in Python
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
    (datetime, "a date-time"),
    (date, "a date"),  # after datetime, its subclass
    (time, "a time"),
)


def _kind(value: object) -> str:
    """What ``value`` is in TOML's words, with the value itself when it is a short scalar, so
    an operator finds the line (``an integer (5)``); an array or a table is not echoed."""
    kind = next((k for t, k in _TOML_KINDS if isinstance(value, t)), type(value).__name__)
    if isinstance(value, bool):
        return f"{kind} ({str(value).lower()})"
    if isinstance(value, int | float | datetime | date | time):
        shown = value.isoformat() if isinstance(value, datetime | date | time) else repr(value)
        return f"{kind} ({shown[:40]})"
    if isinstance(value, str):
        return f"{kind} ({value[:40]!r})"
    return kind


#: A problem and where the file holds it: (topic's index, its key's place in the topic's
#: table), the top-level keys before the topics at -1, after them past the last one; listed
#: in that order (they were listed unknown keys first, then by a fixed order of the keys).
Placed = tuple[tuple[int, int], str]
#: Says one problem of a topic's key (None: of the topic as a whole, after its keys').
Add = Callable[[str | None, str], None]


def _at(raw: dict[str, Any], key: str | None) -> int:
    """Where ``key`` is among ``raw``'s keys as the file writes them (TOML tables keep their
    order); a key not there (a missing one, the topic as a whole) after them all."""
    return list(raw).index(key) if key in raw else len(raw)


def _text(raw: dict[str, Any], key: str, add: Add, *, required: bool) -> str:
    """``raw[key]`` if it is a string, else "" with its problem worded: missing (a required
    key), empty (a required key), or the wrong TOML type, named, since "is required" for
    ``slug = 5`` sent the operator looking for a missing line."""
    if key not in raw:
        if required:
            add(key, f"{key} is required (a non-empty string)")
        return ""
    value = raw[key]
    if not isinstance(value, str):
        add(key, f"{key} must be a string (in quotes), not {_kind(value)}")
        return ""
    if required and not value.strip():
        add(key, f"{key} is empty (a non-empty string is required)")
    return value


def _unknown(key: str, known: Collection[str]) -> str:
    """`` 'titel': did you mean 'title'?`` when a known name is close
    (:func:`feedsvc.meant_names.meant`, the config file's guess too), else `` 'titel'``."""
    from feedsvc.meant_names import meant

    close = meant(key, known)
    return f"{key!r}: did you mean {close!r}?" if close else repr(key)


def _spec(i: int, raw: Any, problems: list[Placed]) -> TopicSpec | None:
    """One ``[[topic]]`` entry as a spec, every problem of its keys added to ``problems`` at
    its place in the file (:data:`Placed`). A spec comes back whenever slug and query are
    strings, even with other problems (the file is refused then anyway), so that other topics'
    ``@slug`` references to it still resolve and its query is still checked: one wrong title
    must not cause a second, false problem."""
    where = f"topic #{i + 1}"
    if not isinstance(raw, dict):
        problems.append(((i, 0), f"{where}: expected a table [[topic]], not {_kind(raw)}"))
        return None
    slug = raw.get("slug")
    if isinstance(slug, str):  # a line break in it stays on the problem's line
        where = f"topic #{i + 1} ({''.join(c if c.isprintable() else repr(c)[1:-1] for c in slug)})"

    def add(key: str | None, message: str) -> None:
        problems.append(((i, _at(raw, key)), f"{where}: {message}"))

    for key in raw:
        if key not in KEYS:
            add(key, f"unknown key {_unknown(key, KEYS)} (allowed: {', '.join(sorted(KEYS))})")
    texts = {
        key: _text(raw, key, add, required=key != "description")
        for key in ("slug", "title", "query", "description")
    }
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        add("enabled", f"enabled must be true or false (no quotes), not {_kind(enabled)}")
        enabled = True
    if isinstance(slug, str) and slug.strip() and (err := validate_slug(slug)):
        add("slug", f"slug {err}")
    if not isinstance(slug, str) or not isinstance(raw.get("query"), str):
        return None
    spec = TopicSpec(
        slug=slug,
        title=texts["title"],
        query=texts["query"],
        description=texts["description"],
        enabled=enabled,
    )
    # the admin's rule (feedsvc.fieldtext): title on one line, no control characters
    spec, refused = clean_topic(spec)
    for name, char in refused:  # a query's placed on the character, as `topics add` places it
        add(name, refusal_message(name, char, texts[name]))
    # every front end's limits (feedsvc.limits), counted on the text as it would be stored
    if texts["title"].strip() and limits.title_missing(spec.title):  # blank: named above
        add("title", "title shows nothing (only invisible characters such as U+200B or a soft "
                     "hyphen; a non-empty string is required)")  # fmt: skip
    for found in limits.topic_too_long(spec.title, spec.description, spec.query):
        add(found.field, found.message)
    return spec


def check_queries(specs: Sequence[TopicSpec], known: dict[str, str] | None = None) -> list[str]:
    """Parse every query with ``@slug`` resolved among these specs (then ``known``), as the
    matcher parses a topic (:func:`~feedsvc.matching.parse_topic`: the topic itself is the
    first of its nested references; ``parse_query`` allowed one level more, and the matcher
    then skipped the topic)."""
    return [problem for _, problem in _query_problems(specs, known)]


def _query_problems(
    specs: Sequence[TopicSpec], known: dict[str, str] | None
) -> list[tuple[int, str]]:
    """:func:`check_queries`' problems, each with the index in ``specs`` of its topic."""
    queries = dict(known or {}) | {s.slug: s.query for s in specs}
    problems = []
    for n, spec in enumerate(specs):
        try:
            parse_topic(spec.query, queries.get, spec.slug)
        except QueryError as exc:
            problems.append((n, f"topic {spec.slug}: query: {exc}"))
    return problems


def parse_topics(data: dict[str, Any], path: str = "topics") -> list[TopicSpec]:
    raw_topics = data.get("topic", [])
    problems: list[Placed] = []
    if not isinstance(raw_topics, list):
        raise TopicsFileError(
            path, [f"'topic' must be an array of tables ([[topic]]), not {_kind(raw_topics)}"]
        )
    # in the file's order: a key before the first [[topic]] (a bare key) or after the last (a
    # table); TOML keeps the order it read them in
    after = "topic" in data and list(data).index("topic")
    for n, key in enumerate(data):
        if key != "topic":
            at = (len(raw_topics) if after is not False and n > after else -1, n)
            problems.append((at, f"unknown top-level key {_unknown(key, ['topic'])} "
                                 "(expected [[topic]] tables)"))  # fmt: skip
    indexed = [(i, s) for i, raw in enumerate(raw_topics) if (s := _spec(i, raw, problems))]
    specs = [s for _, s in indexed]
    seen: set[str] = set()
    told: set[str] = set()
    for i, raw in enumerate(raw_topics):  # told at its second topic, on its slug's line
        slug = raw.get("slug") if isinstance(raw, dict) else None
        if not isinstance(slug, str):
            continue
        if slug in seen and slug not in told:
            told.add(slug)
            problems.append(((i, _at(raw, "slug")), f"topic {slug}: slug appears more than once"))
        seen.add(slug)
    # a query over its limit or with a refused character was named above already (as every
    # other surface refuses it before parsing: a VT read as punctuation added a false second
    # problem); references to it still resolve
    checked = [
        (i, s) for i, s in indexed
        if s.query.strip() and not limits.too_long("query", s.query) and not control_char(s.query)
    ]  # fmt: skip
    known = {s.slug: s.query for s in specs}
    for n, problem in _query_problems([s for _, s in checked], known):
        i = checked[n][0]
        problems.append(((i, _at(raw_topics[i], "query")), problem))
    if problems:
        problems.sort(key=lambda placed: placed[0])  # stable: a key's problems in their order
        raise TopicsFileError(path, [problem for _, problem in problems])
    return specs


def load_topics_file(path: Path) -> list[TopicSpec]:
    try:
        data = read_toml_file(path)
    except FileNotFoundError:  # the file's own problems name it: `config check` lists a key
        raise TopicsFileError(str(path), [f"file not found: {path}"]) from None
    except OSError as exc:
        raise TopicsFileError(str(path), [f"cannot read {path}: {exc.strerror}"]) from None
    except TomlFileError as exc:
        raise TopicsFileError(str(path), [str(exc)]) from None
    return parse_topics(data, str(path))


def configured_topics(path: Path, *, is_set: bool) -> list[TopicSpec] | None:
    """The topics of ``topics.file`` as ``run`` imports them and ``config check`` checks them:
    None when the file is absent and was not configured (``is_set`` false: the built-in default
    path; the topics are the state DB's, nothing to report as a problem); raises
    :class:`TopicsFileError` for a file that is set but missing, is not a file, or has any
    problem. One rule, so the two commands cannot disagree on the same configuration."""
    if not is_set and not path.exists():
        return None
    return load_topics_file(path)


def is_start_file(path: Path, topics: TopicsSettings) -> bool:
    """Whether ``topics import PATH`` imports the file a start applies (``topics.file``, read
    at start and present), or no file is applied at start at all: then its entries are recorded
    as the ones last applied. Another file's entries are applied as edits made in the state DB
    and recorded nowhere (:func:`feedsvc.topics_sync.sync_topics`, ``configured``): recorded,
    they made ``topics.file``'s unchanged entries look changed, and the next start put them
    back over what the import had set."""
    start_file = topics.file
    if not topics.import_on_start or not start_file.is_file():
        return True
    try:
        return path.samefile(start_file)
    except OSError:  # not readable here: the loader said so already
        return path.absolute() == start_file.absolute()


def stays_deleted(t: Translator, slug: str, path: Path, command: str = "feedsvc") -> str:
    """The one line saying that ``slug``, a topics-file topic just deleted (CLI ``topics
    remove``, the admin; :class:`feedsvc.store.topics.Deleted`), stays deleted at every start
    while its entry in ``path`` (``topics.file``, named by :func:`shown_file`) is unchanged,
    and how to bring it back: the same words as the start's line for it
    (:func:`feedsvc.topics_at_start.log_applied`). ``command``: how feedsvc is typed here.

    The state DB records the entry last applied, not which file it came from; the file named
    is ``topics.file`` as this process reads it. When that file is there and does not list
    ``slug`` (``topics.file`` changed since the topic was imported, or the CLI runs with
    another configuration than the service's), it is not said to list it: a start with this
    configuration does not bring the topic back, and the line says that instead."""
    shown = shown_file(t, path)
    if lists_slug(path, slug) is False:
        return t("topics_file.not_listed", slug=slug, path=shown)
    return t("topics_file.stays_deleted", slug=slug, path=shown,
             bring_back=bring_back(t, command))  # fmt: skip


def lists_slug(path: Path, slug: str) -> bool | None:
    """Whether the topics file at ``path`` has an entry for ``slug``; None when it cannot be
    read as TOML (absent, unreadable, broken: :func:`shown_file` says the first two)."""
    try:
        data = read_toml_file(path)
    except (OSError, TomlFileError):
        return None
    raw = data.get("topic")
    entries = raw if isinstance(raw, list) else []
    slugs = {e.get("slug") for e in entries if isinstance(e, dict)}
    return slug in {s.strip() for s in slugs if isinstance(s, str)}


def shown_file(t: Translator, path: Path) -> str:
    """``topics.file`` named in a message as a start reads it. The one rule
    (:func:`feedsvc.topics_at_start.import_at_start`, :func:`configured_topics`,
    :func:`is_start_file`): the path as set, a relative one from the working directory of the
    process, no other base (not the config file's directory). So it is shown absolute, from
    this process's directory: the service's own for the admin; for the CLI, where its ``topics
    import`` reads. When no file is there, the message says so (``topics_file.not_here`` for a
    relative setting, e.g. the CLI run from another directory than the service's;
    ``topics_file.gone``): the setting as the CLI read it named a file that was not there, and
    the suggested ``topics import`` failed with "file not found"."""
    full = path.absolute()
    if full.is_file():
        return str(full)
    return t("topics_file.gone" if path.is_absolute() else "topics_file.not_here", path=str(full))


def bring_back(t: Translator | None = None, command: str = "feedsvc") -> str:
    """How to bring a topic kept deleted back (without ``t``, the log's words: English)."""
    if t is None:
        from feedsvc.catalogue import ENGLISH  # Babel: not imported by a plain load

        t = ENGLISH
    return t("topics_file.bring_back", command=command)


#: What a TOML basic string must escape: a quote, a backslash and every control character but
#: tab (a topic saved before control characters were refused may still hold one: exported, it
#: must still be TOML, and importing it back names the character).
_TOML_ESCAPED = re.compile('["\\\\\x00-\x08\x0a-\x1f\x7f]')
_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r"}


def _toml_escape(found: re.Match[str]) -> str:
    char = found[0]
    return _TOML_ESCAPES.get(char) or f"\\u{ord(char):04X}"


#: The command an exported topics file's first line names: the plain name, on any machine.
REIMPORT = "feedsvc topics import"


def dump_topics(specs: Sequence[TopicSpec]) -> str:
    """TOML for ``feedsvc topics export`` (round-trips through :func:`parse_topics`). Its
    first line names the plain command ``feedsvc topics import`` (:data:`REIMPORT`): the file
    is meant to be shared, and the exporting CLI's own path (``/srv/app/.venv/bin/feedsvc``,
    ``cli.common.command_name``) and ``--config FILE`` are this machine's (a newcomer's)."""

    def q(value: str) -> str:
        if "'" not in value and not _TOML_ESCAPED.search(value):
            return f"'{value}'"
        return '"' + _TOML_ESCAPED.sub(_toml_escape, value) + '"'

    parts = [f"# feedsvc topics — exported; edit and re-import with `{REIMPORT}`.\n"]
    for s in specs:
        parts.append(
            f"\n[[topic]]\nslug = {q(s.slug)}\ntitle = {q(s.title)}\n"
            f"description = {q(s.description)}\nquery = {q(s.query)}\n"
            + ("" if s.enabled else "enabled = false\n")
        )
    return "".join(parts)
