"""The message catalogue: both languages for every key, the same placeholders, and every key the
code and the templates use present — including the ones built from codes (query errors,
operation errors, delivery states, status facts)."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsvc.catalogue import CATALOGUE, LANGUAGES, MODULES, Translator
from feedsvc.delivery_states import STATES
from feedsvc.matching import FIELDS, QueryError, parse_query
from feedsvc.operations import CHAT_TYPES
from feedsvc.store.delivery_log import DEAD
from feedsvc.store.followups import KINDS as FOLLOWUP_KINDS
from feedsvc.store.followups import OUTCOMES as FOLLOWUP_OUTCOMES
from feedsvc.store.topics import TopicSpec

PACKAGE = Path(__file__).parent.parent / "feedsvc"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def sources(pattern: str) -> str:
    """The package's source and template text matching ``pattern`` (compiled files skipped:
    an in-tree run leaves ``__pycache__/*.pyc`` beside the modules)."""
    files = [
        p for p in sorted(PACKAGE.glob(pattern)) if p.is_file() and p.suffix in (".py", ".html")
    ]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def test_every_key_has_both_languages_with_the_same_placeholders() -> None:
    seen: dict[str, str] = {}
    for module in MODULES:
        for key, entry in module.MESSAGES.items():
            assert key not in seen, f"{key} is in {module.__name__} and {seen[key]}"
            seen[key] = module.__name__
            assert len(entry) == len(LANGUAGES), key
            vi, en = entry
            assert vi.strip() and en.strip(), f"{key}: empty in one language"
            assert placeholders(vi) == placeholders(en), f"{key}: placeholders differ"


def used_keys() -> set[str]:
    """Literal keys in ``t("…")`` calls: templates, the admin, the bot's texts (``bot.`` added)."""
    keys = set()
    call = re.compile(r"""\bt\(\s*["']([a-z_.]+)["']""")
    for text in (sources("web/templates/*.html"), sources("web/*.py"), sources("pages/**/*")):
        keys |= set(call.findall(text))
    keys |= {f"bot.{k}" for k in call.findall(sources("bot/*.py"))}
    return {k for k in keys if not k.endswith((".", "_"))}  # a prefix of coded keys


def test_every_literal_key_in_code_and_templates_exists() -> None:
    keys = used_keys()
    assert len(keys) > 50  # the scan itself works
    assert sorted(keys - set(CATALOGUE)) == []


def test_every_coded_message_exists() -> None:
    """Keys built from codes: a new error code, state or fact without words fails here."""
    query_codes = set(re.findall(r'code="(\w+)"', sources("matching/*.py")))
    op_codes = set(re.findall(r'code="(\w+)"', sources("operations/*.py")))
    op_codes |= {"topic_unknown", "topic_disabled", "slug_format", "slug_reserved"}
    facts = set(re.findall(r'Fact\(\s*"(\w+)"', sources("status.py")))
    ingest = {"never", "ok", "lagging", "failing"}
    setting_codes = set(re.findall(r'SettingError\(\s*[\w"]+,\s*"(\w+)"', sources("digest/*.py")))
    expected = (
        {f"query.{c}" for c in query_codes}
        | {f"op.{c}" for c in op_codes}
        | {f"state.{s}" for s in (*STATES, DEAD)}
        | {f"chat_type.{c}" for c in CHAT_TYPES}
        | {f"fact.{f}" for f in facts}
        | {f"digest.error.{c}" for c in setting_codes}
        | {f"ingest.{i}" for i in ingest}
        | {f"quarantine.stage_{s}" for s in ("read", "parse", "store")}
        | {f"field.{f}" for f in FIELDS}
        | {f"saved_{o}" for o in ("created", "updated", "unchanged")}
        | {f"bot.cmd.{c}" for c in ("start", "help", "topics", "sub", "unsub", "list")}
        | {f"followup.{o}" for o in (*FOLLOWUP_OUTCOMES, "pending", "working", *FOLLOWUP_KINDS)}
    )
    assert len(query_codes) >= 20 and len(facts) >= 8 and len(setting_codes) >= 5
    assert len(op_codes) >= 20  # the scan itself works (it globbed "operations.py": nothing)
    assert sorted(expected - set(CATALOGUE)) == []


@pytest.mark.parametrize(
    "query",
    ['"an ninh', "a AND (", "a OR b c", "()", "-x", "title:", "nguon:x", "a*", "@nope",
     "(((((((((((((((((((((((a)))))))))))))))))))))))", "..."],
)  # fmt: skip
def test_query_errors_are_worded_in_both_languages(query: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query, {"self": "@self"}.get)
    for lang in LANGUAGES:
        text = Translator(lang).query_error(caught.value)
        assert "⟦" not in text and text.strip(), (lang, caught.value.code)
    assert Translator("vi").query_error(caught.value) != Translator("en").query_error(caught.value)


#: A query over the term limits: its own terms (101 words), and after expanding its @reference.
OVER_LIMITS = {
    "too_many_terms": (" ".join(f"từ{n}" for n in range(101)), {}),
    "too_long": ("a" * 2001, {}),
    "too_many_expanded": (
        "@big OR @big2",
        {"big": " OR ".join(f"a{n}" for n in range(100)),
         "big2": " OR ".join(f"@p{k}" for k in range(10)),
         **{f"p{k}": " OR ".join(f"b{k}x{n}" for n in range(100)) for k in range(10)}},
    ),
}  # fmt: skip


@pytest.mark.parametrize("code", sorted(OVER_LIMITS))
def test_a_query_errors_hint_is_one_its_writer_can_follow(code: str) -> None:
    """ "Split it into several topics" was the hint on a reader's search page and in a chat's
    /sub answer: neither has a topic to split. The search's and the chat's hints name what
    they can do; an admin's topic keeps its own."""
    query, refs = OVER_LIMITS[code]
    with pytest.raises(QueryError) as caught:
        parse_query(query, refs.get)
    assert caught.value.code == code
    for lang in LANGUAGES:
        words = Translator(lang)
        topic = words.query_error(caught.value)
        search = words.query_error(caught.value, "search")
        chat = words.query_error(caught.value, "chat")
        assert len({topic, search, chat}) == 3, (lang, topic, search, chat)
        assert ("chủ đề" if lang == "vi" else "topic") in topic
        for text in (search, chat):
            assert "chủ đề" not in text and "topic" not in text, text
        assert search.split(" — ")[0] == topic.split(" — ")[0]  # the same fault, worded once


#: Query errors only an admin's topic can meet, whose hint may name topics: a reader's search
#: and a chat's query are checked against the saved topics, which never hold a cycle, and a
#: chat's expansion has its own code; "check the slug" fits anyone who typed one.
TOPIC_ONLY_HINTS = {"circular_ref", "chat_query_too_big", "unknown_ref"}


def test_no_hint_sends_a_reader_or_a_chat_to_make_topics() -> None:
    """Every hint that names topics (but :data:`TOPIC_ONLY_HINTS`) has a search's and a
    chat's own: a new one that does not fails here (the too-long hint was missed once)."""
    topical = {
        key.split(".")[1]
        for key, texts in CATALOGUE.items()
        if re.fullmatch(r"query\.\w+\.hint", key)
        and any(w in " ".join(texts).lower() for w in ("chủ đề", "topic", "@mã", "@slug"))
    }
    assert "too_long" in topical  # the scan itself works
    for code in sorted(topical - TOPIC_ONLY_HINTS):
        for who in ("search", "chat"):
            assert f"query.{code}.hint.{who}" in CATALOGUE, (code, who)


def test_every_writers_hint_has_a_general_one() -> None:
    """A hint for one writer (``query.<code>.hint.<who>``) stands beside the topic's, for a
    writer it is not meant for."""
    own = [k for k in CATALOGUE if re.fullmatch(r"query\.\w+\.hint\.\w+", k)]
    assert own, "the scan itself works"
    for key in own:
        assert key.rsplit(".", 1)[1] in ("search", "chat"), key
        assert key.rsplit(".", 1)[0] in CATALOGUE, key


def test_an_error_inside_a_reference_names_the_topic() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("@a", {"a": '"unclosed'}.get)
    assert Translator("vi").query_error(caught.value).startswith("trong @a: cụm từ chưa đóng")


def test_operation_errors_are_worded_from_their_code(tmp_path: Path) -> None:
    from feedsvc import operations as ops
    from feedsvc.db import Database, upgrade

    db = Database(f"sqlite:///{tmp_path / 's.db'}")
    upgrade(db)
    t = Translator("vi")
    with pytest.raises(ops.OperationError) as caught:
        ops.save_topic(db, TopicSpec("Bad Slug", "T", "x"), "test")
    assert t.operation_error(caught.value).startswith("Mã chỉ gồm chữ thường")
    with pytest.raises(ops.OperationError) as caught:
        ops.save_topic(db, TopicSpec("ok", "T", "a AND ("), "test")
    assert caught.value.field == "query" and caught.value.position is not None
    assert t.operation_error(caught.value) == "kết thúc khi còn thiếu một từ"
    with pytest.raises(ops.OperationError) as caught:
        ops.resend_delivery(db, 42)
    assert Translator("en").operation_error(caught.value) == "There is no delivery #42."
    db.dispose()


def test_times_are_local_with_their_offset_and_durations_in_words() -> None:
    when = datetime(2026, 11, 30, 1, 1, 30, tzinfo=UTC)
    vi, en = Translator("vi"), Translator("en")
    assert vi.time(when) == "30/11/2026 08:01 +07:00"
    assert en.time(when) == "2026-11-30 08:01 +07:00"
    assert Translator("en", "Europe/Paris").time(when) == "2026-11-30 02:01 +01:00"
    assert vi.ago(when, when + timedelta(minutes=3)) == "3 phút trước"
    assert en.ago(when, when + timedelta(hours=2, minutes=5)) == "2 hours ago"
    assert vi.ago(when, when + timedelta(seconds=10)) == "vừa xong"
    assert vi.duration(125) == "2 phút" and en.duration(3 * 86400) == "3 days"
    assert vi.number(12345) == "12.345" and en.number(12345) == "12,345"


def test_an_unknown_key_is_visible_not_fatal() -> None:
    assert Translator("vi")("no.such.key") == "⟦no.such.key⟧"


def test_chat_switch_off_reasons_are_codes_worded_in_each_language() -> None:
    from feedsvc.catalogue.reasons import CODES, split_reason, stored_reason

    assert stored_reason("blocked", "Forbidden:  bot\nwas blocked") == (
        "blocked|Forbidden: bot was blocked"
    )
    assert stored_reason("user_blocked") == "user_blocked"
    assert len(stored_reason("chat_not_found", "x" * 900)) == 500
    with pytest.raises(ValueError):
        stored_reason("bot bị chặn")
    assert split_reason("removed|kicked") == ("removed", "kicked")
    assert split_reason("Forbidden: bot was blocked") == (None, "Forbidden: bot was blocked")
    assert split_reason("blocked-ish|x") == (None, "blocked-ish|x")
    for code in CODES:
        vi, en = Translator("vi").reason(code), Translator("en").reason(code)
        assert vi and en and vi != en and "⟦" not in vi + en
    assert Translator("en").reason("removed|left") == "the bot was removed from the group (left)"
    assert Translator("vi").reason("bot bị chặn") == "bot bị chặn"  # stored before codes
    assert Translator("vi").reason(None) == ""


def _refused_fields() -> set[str]:
    """Every field name the code passes to ``refuse_control``/``refused_character`` literally,
    and a topic's fields (``fieldtext.TOPIC_FIELDS``) and the chats' own (recipients)."""
    from feedsvc.fieldtext import TOPIC_FIELDS

    names = set(TOPIC_FIELDS) | {"topic", "address", "query"}
    for path in Path("feedsvc").rglob("*.py"):
        found = re.findall(r"refuse(?:_control|d_character)\(\"(\w+)\"", path.read_text("utf-8"))
        names.update(found)
    return names


def test_a_refused_characters_field_is_named_in_the_messages_language() -> None:
    """A tester's: "Trường title có ký tự điều khiển", "Trường q …", "Trường source_key …" in
    the admin: the field by its code inside a Vietnamese sentence."""
    from feedsvc.operations import refused_character

    fields = _refused_fields()
    assert {"title", "description", "query", "slug", "q", "source_key", "reason"} <= fields
    vi, en = Translator("vi"), Translator("en")
    for field in sorted(fields):
        for char in ("U+0007", "U+D800"):
            said = vi.operation_error(refused_character(field, char))
            assert field not in re.findall(r"[\w.]+", said), said
            assert said.startswith(f"Trường {CATALOGUE[f'input.{field}'][0]} có "), said
            english = en.operation_error(refused_character(field, char))
            assert english.startswith(f"The {CATALOGUE[f'input.{field}'][1]} contains "), english


def test_an_api_path_without_a_label_is_named_as_sent() -> None:
    from feedsvc.operations import refused_character

    said = Translator("vi").operation_error(refused_character("items.0.name", "U+0007"))
    assert said == "Trường items.0.name có ký tự điều khiển (U+0007); hãy xoá nó."
