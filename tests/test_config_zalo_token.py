"""``zalo.token`` at ``config check``, as ``telegram.token`` is checked, within what is known:
Zalo's token format is not documented where feedsvc looked (``FIELD-NOTES.md``), so only what
no token can be is refused — empty (a ``token_file`` with nothing in it switched the channel off
without a word), quoted twice, whitespace or a line break inside — and any other text passes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from feedsvc.config import ConfigError, load_config

#: Zalo tokens as pasted wrong, and what the problem says (never the token).
BAD_ZALO_TOKENS = [
    ('"1234567890:FakeZaloToken"', "is quoted twice"),
    ("'FakeZaloToken'", "is quoted twice"),
    ("Fake Zalo Token", "contains whitespace"),
    ("FakeZalo\tToken", "contains"),
    ("FakeZalo\nToken", "has 2 lines"),
]


def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FEEDSVC_"):
            monkeypatch.delenv(name)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feedsvc.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("token", "said"), BAD_ZALO_TOKENS)
@pytest.mark.parametrize("given", ["file", "env", "config"])
def test_a_zalo_token_no_token_can_be_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str, said: str, given: str
) -> None:
    _clean(monkeypatch)
    text, key = "", "zalo.token"
    if given == "file":
        (tmp_path / "token").write_text(token + "\n", encoding="utf-8")
        text, key = f'[zalo]\ntoken_file = "{tmp_path / "token"}"\n', "zalo.token_file"
    elif given == "env":
        monkeypatch.setenv("FEEDSVC_ZALO__TOKEN", token)
    else:
        text = f"[zalo]\ntoken = {json.dumps(token)}\n"
    with pytest.raises(ConfigError) as raised:
        load_config(_write(tmp_path, text))
    [problem] = raised.value.problems
    if given == "config":  # no secret in the file: that is its one line, whatever its shape
        said = "a secret may not be written in the config file"
    assert problem.key == key and said in problem.message, problem
    assert "FakeZalo" not in str(raised.value)


@pytest.mark.parametrize("content", ["", "\n", "  \n\n"])
def test_an_empty_zalo_token_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    _clean(monkeypatch)
    (tmp_path / "token").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(_write(tmp_path, f'[zalo]\ntoken_file = "{tmp_path / "token"}"\n'))
    [problem] = raised.value.problems
    assert problem.key == "zalo.token_file" and "is empty" in problem.message, problem


@pytest.mark.parametrize(
    "token",
    ["1234567890:FakeZaloToken_a-b", "FakeZaloTokenWithoutColon", "bot123:Fake", "a", "x'y\"z",
     "Fake.Zalo/Token+="],
)  # fmt: skip
def test_a_plausible_zalo_token_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    _clean(monkeypatch)
    monkeypatch.setenv("FEEDSVC_ZALO__TOKEN", token)
    assert load_config(_write(tmp_path, "")).zalo_token() == token
