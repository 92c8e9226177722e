"""The secrets of the configuration (bot tokens, the admin token, Zalo's webhook secret):
how they are read, what no secret can be, where they must not be, and the warnings about a
weak one. Every refusal names the key and never any of the secret (``config check``, every
command), split from :mod:`feedsvc.config.checks`, which asks here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from feedsvc.config.models import Settings
from feedsvc.config.problems import Problem
from feedsvc.config.secret_file import read_secret_file
from feedsvc.config.sources import read_toml
from feedsvc.config.urls import bot_api_base_problem

SECRET_KEYS = (
    ("telegram", "token"), ("admin", "token"), ("zalo", "token"), ("zalo", "webhook_secret"),
)  # fmt: skip
#: The secrets that are bot tokens: they go into the Bot API's URL path (``/bot<TOKEN>/``) and
#: are issued without any whitespace, so a space inside is a paste gone wrong.
BOT_TOKENS = frozenset({("telegram", "token"), ("zalo", "token")})


def _secret_file_problem(path: Path) -> str | None:
    """Why the secret in ``path`` cannot be read as the service reads it (UTF-8 text), or None;
    never its content. A file in another encoding passed the check and ``run`` then stopped on
    a ``UnicodeDecodeError`` traceback."""
    if path.is_dir():
        return f"{path} is a directory, not a file"
    if not path.is_file():
        return f"file not found: {path}" if not path.exists() else f"{path} is not a regular file"
    try:
        read_secret_file(path)  # as the service reads it: a size past any secret's is refused
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    except UnicodeDecodeError:
        return f"{path} is not UTF-8 text (a secret file holds the secret as plain text)"
    return None


def _given_twice(settings: Settings) -> list[Problem]:
    """A secret given both itself and in its ``*_file``: the value won without a word, so a
    token rotated by rewriting the file kept the old one a stale ``FEEDSVC_ADMIN__TOKEN`` in
    an ``.env`` still gave (a tester's). One of them must go; neither is shown."""
    problems: list[Problem] = []
    for section, key in SECRET_KEYS:
        part = getattr(settings, section)
        value, path = getattr(part, key), getattr(part, f"{key}_file")
        if value is not None and value.get_secret_value() and path is not None:
            env = f"FEEDSVC_{section.upper()}__{key.upper()}"
            problems.append(Problem(
                f"{section}.{key}",
                f"is given twice, as {section}.{key} (or {env}) and as {section}.{key}_file"
                f" ({path}): remove one, so the secret in use is the one you see",
            ))  # fmt: skip
    return problems


def _secret_text_problems(settings: Settings) -> list[Problem]:
    """Each secret (:data:`SECRET_KEYS`, given itself or in its ``*_file``) that cannot be what
    was meant, named by the key it came from, never shown: a file of two lines (``abc\\ndef``:
    the service used both lines as one token, and `config check` said OK), a line break or
    another control character in it, a space inside a bot token. A file's ends are stripped,
    as the service reads it."""
    problems: list[Problem] = []
    for section, key in SECRET_KEYS:
        part = getattr(settings, section)
        value, path = getattr(part, key), getattr(part, f"{key}_file")
        if value is not None and not value.get_secret_value() and path is None:
            problems.append(Problem(f"{section}.{key}", _empty_value(section, key)))
            continue
        if value is not None and value.get_secret_value():
            name, text = f"{section}.{key}", value.get_secret_value()
        elif path is not None and path.is_file():  # else said by _secret_file_problem (a FIFO
            # would block the read)
            try:
                name, text = f"{section}.{key}_file", read_secret_file(path)
            except (OSError, UnicodeDecodeError):
                continue  # said by _secret_file_problem
        else:
            continue
        problem = secret_text_problem(text, bot=(section, key) in BOT_TOKENS)
        if text and not text.strip():  # an admin token of one space let anyone log in
            problem = "is only whitespace: put the secret itself, or unset the key"
        elif not text:  # an empty file switched its feature off without a word (the admin, the
            # Zalo webhook: long polling instead) or was "no Telegram bot token"
            problem = f"is empty: put the {key.replace('_', ' ')} in it, or unset the key"
        elif problem is None and (section, key) == ("telegram", "token"):
            problem = telegram_token_problem(text)
        elif problem is None and (section, key) == ("zalo", "token"):
            problem = zalo_token_problem(text)
        if problem is not None:
            what = f"the secret in {path}" if name.endswith("_file") else "the value"
            problems.append(Problem(name, f"{what} {problem}"))
    return problems


def _empty_value(section: str, key: str) -> str:
    """An empty secret value (``FEEDSVC_TELEGRAM__TOKEN=`` from a template whose variable was
    unset, ``token = ""``) read as "not set": without a Telegram token the console stood in,
    and real chats' alerts were logged and counted as sent, never to be delivered once the
    token came back (a tester's); without the admin token the admin was off. An empty file
    was already refused; a value is now too, naming where it can come from."""
    return f"is set but empty: give the {key.replace('_', ' ')}, or unset it to run without it"


def secret_text_problem(text: str, *, bot: bool) -> str | None:
    """Why ``text`` cannot be a secret as typed (``bot``: a bot token), or None; in words that
    never repeat any of it."""
    lines = len(text.splitlines())
    if lines > 1:
        return f"has {lines} lines: it must be one line holding the secret alone"
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text):
        return "contains a line break or another control character"
    if invisible := next((c for c in text if unicodedata.category(c) == "Cf"), None):
        # a zero-width space pasted with it, a byte-order mark inside: no secret holds one
        return f"contains an invisible character (U+{ord(invisible):04X}): type it again"
    if bot and any(c.isspace() for c in text):
        return "contains whitespace, which no bot token has: copy the token again"
    return None


#: A Telegram bot token as @BotFather gives it: the bot's id, a colon, the secret.
_TELEGRAM_TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")


def telegram_token_problem(text: str) -> str | None:
    """Why ``text`` (one line, no whitespace) is no Telegram bot token, or None; never any of
    it. A token copied from a Bot API URL (``bot123:ABC``), quoted twice, or cut at the colon
    passed `config check`; only Telegram refused it, once the service was running."""
    if _TELEGRAM_TOKEN.fullmatch(text):
        return None
    if _TELEGRAM_TOKEN.fullmatch(text.removeprefix("bot")):
        return "starts with 'bot', which the Bot API's URL adds itself (/bot<TOKEN>/): remove it"
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        return "is quoted twice (the inner quotes are part of it): remove them"
    return (
        "is not a Telegram bot token, which is the bot's id, ':' and letters, digits, '_' or "
        "'-' (e.g. 123456789:AAF…, as @BotFather gives it): copy the token again"
    )


#: The length of the secret after a Telegram bot token's ':' in every token @BotFather has
#: issued (``110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw``). Telegram's Bot API documents the
#: token only by that example, no fixed length (FIELD-NOTES.md): another length is a warning
#: (:func:`telegram_token_warnings`), never a refusal.
TELEGRAM_SECRET_CHARS = 35


def telegram_token_warnings(settings: Settings) -> list[Problem]:
    """A ``telegram.token`` of the right shape whose secret (after ':') is not
    :data:`TELEGRAM_SECRET_CHARS` characters: a token cut short by a bad paste (``123:abc``,
    one missing its last characters) passed ``config check`` and only Telegram refused it, once
    the service ran. Advice, told by the length only (never any of the token); a token that is
    no token at all is :func:`telegram_token_problem`'s refusal, so nothing is said twice."""
    try:
        token = settings.telegram_token()
    except (OSError, UnicodeDecodeError):
        return []  # an unreadable token file is a problem, reported as one
    if token is None or telegram_token_problem(token) is not None:
        return []
    secret = token.split(":", 1)[1]
    if len(secret) == TELEGRAM_SECRET_CHARS:
        return []
    given = settings.telegram.token
    key = "telegram.token" if given and given.get_secret_value() else "telegram.token_file"
    return [
        Problem(
            key,
            f"its part after ':' has {len(secret)} characters; the tokens @BotFather gives "
            f"have {TELEGRAM_SECRET_CHARS}: if it was cut short (or joined to more) when "
            "pasted, copy the whole token from @BotFather again (/mybots, API Token); Telegram "
            "refuses a wrong one only once feedsvc run uses it",
        )
    ]


def zalo_token_problem(text: str) -> str | None:
    """Why ``text`` (one line, no whitespace: :func:`secret_text_problem`) cannot be a Zalo bot
    token, or None; never any of it. Zalo's token format is not documented where feedsvc looked
    (``FIELD-NOTES.md``): only what no token can be is refused — quoted twice (an empty
    ``token_file``, as every secret file, is refused by :func:`_secret_text_problems`); any
    other text is left to Zalo."""
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        return "is quoted twice (the inner quotes are part of it): remove them"
    return None


def secret_value(settings: Settings, section: str, key: str) -> str | None:
    """The secret ``section.key`` as the service reads it (the value, else its ``*_file``'s
    text, stripped), or None — also when that file is not a regular file (a FIFO would block
    the read) or cannot be read: :func:`_secret_file_problem` says so."""
    part = getattr(settings, section)
    value, path = getattr(part, key), getattr(part, f"{key}_file")
    if value is not None and value.get_secret_value():
        return str(value.get_secret_value())
    if path is None or not path.is_file():
        return None
    try:
        return read_secret_file(path) or None
    except (OSError, UnicodeDecodeError):
        return None


def _base_url_problems(settings: Settings) -> list[Problem]:
    """A bot token pasted into its ``base_url`` (the Bot API URL copied whole): the token went
    into the request path twice, every call failed, and ``config show`` printed it. Else a
    ``telegram.base_url`` the token cannot be appended to (:func:`bot_api_base_problem`); said
    here, after the token's own problem, which is the one to fix first."""
    problems = []
    for section in ("telegram", "zalo"):
        token = secret_value(settings, section, "token")
        base = unquote(getattr(settings, section).base_url)  # %31%32…: the token all the same
        segments = [s.lower() for s in urlsplit(base).path.split("/")]
        long_enough = token is not None and len(token) >= 8  # a short one is found anywhere
        if token and (
            token.lower() in segments
            or f"bot{token}".lower() in segments
            or (long_enough and token in base)
        ):
            default = type(getattr(settings, section))().base_url
            problems.append(Problem(
                f"{section}.base_url",
                f"holds the bot token, which feedsvc adds itself: set it to the Bot API's "
                f"address only (the default is {default})",
            ))  # fmt: skip
        elif section == "telegram" and (problem := bot_api_base_problem(base)) is not None:
            problems.append(Problem("telegram.base_url", problem))
    return problems


def _zalo_problems(settings: Settings) -> list[Problem]:
    """Zalo accepts a webhook secret of 8 to 256 characters (Zalo Bot Platform's setWebhook)."""
    try:
        secret = settings.zalo_webhook_secret()
    except (OSError, UnicodeDecodeError):
        return []  # a missing file is reported above
    if secret is not None and not 8 <= len(secret) <= 256:
        return [Problem("zalo.webhook_secret", "must be 8 to 256 characters")]
    return []


#: Shorter admin tokens are accepted with a warning: the login limit is per process and client
#: address, so the token's length is what really stands between the admin and a guesser.
MIN_ADMIN_TOKEN_CHARS = 16


def weak_token_warnings(settings: Settings) -> list[Problem]:
    """An admin token too short to resist guessing (its length is reported, never the token)."""
    try:
        token = settings.admin_token()
    except (OSError, UnicodeDecodeError):
        return []  # an unreadable token file is reported where the token is used
    if token is None or len(token) >= MIN_ADMIN_TOKEN_CHARS:
        return []
    return [
        Problem(
            "admin.token",
            f"only {len(token)} characters; use {MIN_ADMIN_TOKEN_CHARS} or more random ones, "
            "e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    ]


class SecretInFile(Problem):
    """A secret written into the config file itself (:func:`secrets_in_file`): refused by
    every command that uses the secrets, a warning for one that needs none
    (``cli.common.load_settings(secrets=False)``)."""


def secrets_in_file(data: Mapping[str, Any], source: str) -> list[Problem]:
    """Each secret (:data:`SECRET_KEYS`) the config file ``source`` (its parsed ``data``)
    holds, worded with what to do instead, never with any of the secret. SPEC §7: secrets come
    only from the environment or a ``*_file``; a file that holds one is copied, committed and
    shared (a token in a repository is anyone's). It was a warning of `config check` only, and
    `run` started without a word (a tester's)."""
    problems: list[Problem] = []
    for section, key in SECRET_KEYS:
        part = data.get(section)
        value = part.get(key) if isinstance(part, dict) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # an empty or blank value is no secret: its own problem says so
        env = f"FEEDSVC_{section.upper()}__{key.upper()}"
        problems.append(SecretInFile(
            f"{section}.{key}",
            f"a secret may not be written in the config file ({source}): delete this line and "
            f"give the value as the environment variable {env}, or write it alone in a file "
            f"only the service's user can read (chmod 600) and set {section}.{key}_file to "
            "that file's path",
        ))  # fmt: skip
    return problems


def secrets_in_config_file(path: Path | None) -> list[Problem]:
    """:func:`secrets_in_file` of the config file at ``path`` (none: no file, no secret)."""
    if path is None or not path.is_file():
        return []
    return secrets_in_file(read_toml(path), str(path))


def unreadable_secret_files(settings: Settings) -> list[tuple[Problem, Path]]:
    """Each ``*_file`` secret this user may not read (a regular file whose read is refused:
    owned by the service's user, mode 0600), with its problem as :func:`secret_problems` words it. A
    command that needs no secret (``status``) does without them: ``load_config(secrets=
    False)``; a missing file, a directory or a secret that is no secret stay refusals."""
    unread: list[tuple[Problem, Path]] = []
    for section, key in SECRET_KEYS:
        path = getattr(getattr(settings, section), f"{key}_file")
        if path is None or not path.is_file():
            continue
        try:
            read_secret_file(path)
        except PermissionError:  # this user's; a huge file, a device stay refusals
            unread.append(
                (Problem(f"{section}.{key}_file", _secret_file_problem(path) or ""), path)
            )
        except (OSError, UnicodeDecodeError):
            continue
    return unread


def secret_problems(settings: Settings) -> list[Problem]:
    """Every problem of the secrets: a ``*_file`` that cannot be read as the service reads it,
    a secret no secret can be (lines, controls, invisible characters, empty), a bot token's
    shape, a token inside its ``base_url``, Zalo's webhook secret length."""
    problems: list[Problem] = []
    files = (
        ("telegram.token_file", settings.telegram.token_file),
        ("admin.token_file", settings.admin.token_file),
        ("zalo.token_file", settings.zalo.token_file),
        ("zalo.webhook_secret_file", settings.zalo.webhook_secret_file),
    )
    for key, path in files:
        if path is not None:
            problem = _secret_file_problem(path)
            if problem is not None:
                problems.append(Problem(key, problem))
    problems.extend(_given_twice(settings))
    problems.extend(_secret_text_problems(settings))
    problems.extend(_base_url_problems(settings))
    problems.extend(_zalo_problems(settings))
    return problems
