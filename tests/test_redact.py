"""Tests of core/text/redact.py: every secret shape is masked wherever it hides, lookalikes are not.

The fake secrets are generated at import from a seeded RNG (never written out in this file),
so no scanner mistakes the test suite for a leak, and every run uses the same values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trace_tui.core.text.redact import (
    CONFIG_FILE,
    Match,
    RedactConfigError,
    Redactor,
    load_redactor,
)
from trace_tui.core.text.redact_key import user_hash_key

_RNG = random.Random(8)
_ALNUM = string.ascii_letters + string.digits
_PLACEHOLDER = re.compile(r"«redacted:([a-z0-9-]+)#([0-9a-f]{6})»")


def _rand(n: int, alphabet: str = _ALNUM) -> str:
    body = "".join(_RNG.choice(alphabet) for _ in range(n - 1))
    return body + _RNG.choice(string.digits)  # keys have digits; keep the shapes honest


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _pem(label: str = "RSA PRIVATE KEY", lines: int = 6) -> str:
    body = "\n".join(_rand(64, _ALNUM + "+/") for _ in range(lines))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


#: kind -> a fake secret of that shape.
SHAPES: dict[str, str] = {
    "openai-key": "sk-proj-" + _rand(48, _ALNUM + "_-"),
    "anthropic-key": "sk-ant-api03-" + _rand(93, _ALNUM + "_-") + "AA",
    "aws-access-key-id": "AKIA" + _rand(16, string.ascii_uppercase + string.digits),
    "google-api-key": "AIza" + _rand(35, _ALNUM + "_-"),
    "github-token": "ghp_" + _rand(36),
    "slack-token": "xoxb-" + _rand(12, string.digits) + "-" + _rand(24),
    "jwt": ".".join(
        [_b64url({"alg": "HS256", "typ": "JWT"}), _b64url({"sub": "u-1001", "n": 7}), _rand(43)]
    ),
    "private-key": _pem(),
}
MORE_SHAPES: dict[str, str] = {
    "legacy-openai": "sk-" + _rand(48),
    "aws-session": "ASIA" + _rand(16, string.ascii_uppercase + string.digits),
    "gho": "gho_" + _rand(36),
    "ghu": "ghu_" + _rand(36),
    "ghs": "ghs_" + _rand(36),
    "ghr": "ghr_" + _rand(36),
    "fine-grained": "github_pat_" + _rand(82, _ALNUM + "_"),
    "xoxp": "xoxp-" + _rand(12, string.digits) + "-" + _rand(30),
    "openssh": _pem("OPENSSH PRIVATE KEY"),
    "ec": _pem("EC PRIVATE KEY", 3),
    "pkcs8": _pem("PRIVATE KEY"),
}
ALL_SHAPES = {**SHAPES, **MORE_SHAPES}
OPAQUE = _rand(32)  # a credential with no recognisable shape
AWS_SECRET = _rand(40, _ALNUM + "/+")
PASSWORD = "hunter2-" + _rand(6)


@pytest.fixture
def r() -> Redactor:
    return Redactor()


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def assert_gone(output: Any, *secrets: str) -> None:
    """None of ``secrets`` (nor a 16-character piece of one) survives in ``output``."""
    text = output if isinstance(output, str) else _dump(output)
    for secret in secrets:
        pieces = {secret} | {secret[i : i + 16] for i in range(0, max(1, len(secret) - 16), 8)}
        for piece in pieces:
            if len(piece) >= 8 and "-----" not in piece:
                assert piece not in text, f"{piece!r} of a secret survived in {text[:300]!r}"


def digest(secret: str) -> str:
    """The mark's hash: HMAC-SHA-256 keyed with the user's redaction key (issue 13, item 10)."""
    return hmac.new(user_hash_key(), secret.encode(), hashlib.sha256).hexdigest()[:6]


# ------------------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_each_shape_is_masked_in_prose_with_its_kind_and_hash(r: Redactor, kind: str) -> None:
    secret = SHAPES[kind]
    out = r.text(f"using {secret} now")
    assert_gone(out, secret)
    assert out.startswith("using «redacted:") and out.endswith("» now")
    (found_kind, found_hash) = _PLACEHOLDER.search(out).groups()  # type: ignore[union-attr]
    assert found_kind == kind
    if kind != "private-key":  # a PEM block is hashed without its line breaks
        assert found_hash == digest(secret)


@pytest.mark.parametrize("name", sorted(MORE_SHAPES))
def test_more_variants_of_the_shapes(r: Redactor, name: str) -> None:
    secret = MORE_SHAPES[name]
    assert_gone(r.text(f"({secret})"), secret)


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_find_gives_spans_that_slice_to_the_secret(r: Redactor, kind: str) -> None:
    secret = SHAPES[kind]
    s = f"first {secret} then {secret}."
    found = r.find(s)
    assert [s[m.start : m.end] for m in found] == [secret, secret]
    assert {m.kind for m in found} == {kind}
    assert found[0].digest == found[1].digest
    assert secret not in repr(found)


def test_hash_is_stable_across_occurrences_instances_and_runs() -> None:
    secret = SHAPES["openai-key"]
    one = Redactor().text(f"a {secret} b {secret}")
    two = Redactor().text(f"{{'api_key': '{secret}'}}")
    expected = f"«redacted:openai-key#{digest(secret)}»"
    assert one == f"a {expected} b {expected}"
    assert expected in two
    other = Redactor().text(SHAPES["openai-key"][:-1] + "Z9")
    assert other != expected


def test_a_keyed_hash_differs_but_is_still_stable() -> None:
    secret = SHAPES["github-token"]
    keyed = Redactor(hash_key=b"team-secret")
    assert keyed.text(secret) == keyed.text(secret) != Redactor().text(secret)


def test_placeholder_cannot_be_taken_for_a_key(r: Redactor) -> None:
    out = r.text(" ".join(ALL_SHAPES.values()))
    assert r.find(out) == []
    assert r.text(out) == out


# ------------------------------------------------------------------------------------ headers

HEADERS = {
    "Authorization": f"Bearer {SHAPES['jwt']}",
    "x-api-key": SHAPES["anthropic-key"],
    "Api-Key": OPAQUE,
    "Cookie": f"session={OPAQUE}; theme=dark",
    "Set-Cookie": [f"sid={PASSWORD}; Path=/; HttpOnly"],
    "Proxy-Authorization": "Basic " + base64.b64encode(f"bob:{PASSWORD}".encode()).decode(),
    "x-goog-api-key": SHAPES["google-api-key"],
    "content-type": "application/json",
    "content-length": "1380",
}
HEADER_SECRETS = (
    SHAPES["jwt"],
    SHAPES["anthropic-key"],
    OPAQUE,
    PASSWORD,
    SHAPES["google-api-key"],
)


def test_header_dict_values_are_masked_whole_and_others_kept(r: Redactor) -> None:
    out = r.value({"request_headers": HEADERS})["request_headers"]
    assert_gone(out, *HEADER_SECRETS)
    assert out["Authorization"].startswith("Bearer «redacted:jwt#")
    assert out["x-api-key"].startswith("«redacted:anthropic-key#")
    assert out["Api-Key"].startswith("«redacted:api-key#")
    assert out["Proxy-Authorization"].startswith("Basic «redacted:")
    assert out["content-type"] == "application/json"
    assert out["content-length"] == "1380"
    assert list(out) == list(HEADERS)


def test_header_list_of_pairs_and_har_objects(r: Redactor) -> None:
    pairs = [[name, value] for name, value in HEADERS.items() if isinstance(value, str)]
    tuples = [tuple(pair) for pair in pairs]
    har = [{"name": name, "value": value} for name, value in pairs]
    otlp = [
        {"key": "http.request.header.authorization", "value": {"stringValue": "Bearer " + OPAQUE}}
    ]
    out = r.value({"pairs": pairs, "tuples": tuples, "har": har, "otlp": otlp})
    assert_gone(out, *HEADER_SECRETS)
    assert out["pairs"][-1] == ["content-length", "1380"]
    assert out["tuples"][-1] == ("content-length", "1380")
    assert out["har"][-1] == {"name": "content-length", "value": "1380"}
    assert out["pairs"][0][1].startswith("Bearer «redacted:jwt#")


def test_raw_header_lines_in_text(r: Redactor) -> None:
    raw = (
        "POST /v1/messages HTTP/1.1\r\n"
        "Host: api.example.com\r\n"
        f"Authorization: Bearer {OPAQUE}\r\n"
        f"x-api-key: {SHAPES['anthropic-key']}\r\n"
        f"X-Api-Key: {OPAQUE}\r\n"
        f"Cookie: a={PASSWORD}; b=2\r\n"
        f"set-cookie: token={OPAQUE}; Secure\r\n"
        "Content-Type: application/json\r\n"
    )
    out = r.text(raw)
    assert_gone(out, OPAQUE, PASSWORD, SHAPES["anthropic-key"])
    assert "Host: api.example.com\r\n" in out
    assert "Content-Type: application/json\r\n" in out
    assert "Authorization: Bearer «redacted:" in out
    assert out.count("\r\n") == raw.count("\r\n")


def test_curl_command_in_tool_arguments(r: Redactor) -> None:
    args = {
        "command": (
            f"curl -H 'Authorization: Bearer {OPAQUE}' -H \"x-api-key: {OPAQUE}\" "
            f"-u bob:{PASSWORD} 'https://api.example.com/v1/items?api_key={OPAQUE}&page=2'"
        )
    }
    out = r.value({"gen_ai.tool.call.arguments": args, "gen_ai.tool.name": "bash"})
    assert_gone(out, OPAQUE)
    assert "page=2" in out["gen_ai.tool.call.arguments"]["command"]
    assert out["gen_ai.tool.name"] == "bash"


def test_bearer_and_basic_in_authorization_text(r: Redactor) -> None:
    basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    out = r.text(f"sent bearer {OPAQUE} and Basic {basic} to the proxy")
    assert_gone(out, OPAQUE, basic)
    assert "sent bearer «redacted:bearer-token#" in out


# --------------------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "template",
    [
        "https://maps.example.com/api?key={s}",
        "https://api.example.com/x?q=1&api_key={s}&page=2",
        "https://api.example.com/x?token={s}",
        "https://auth.example.com/cb#access_token={s}&expires_in=3600",
        "https://bucket.s3.amazonaws.com/o?X-Amz-Signature={s}&X-Amz-Expires=60",
        "https://acct.blob.core.windows.net/c/b?sv=2022&sig={s}",
        "https://h.example.com/?signature={s}",
        "https://h.example.com/?client_secret={s}",
        "https://h.example.com/?apiKey={s}",
        "postgres://app:{s}@db.internal:5432/orders",
    ],
)
def test_secrets_in_urls(r: Redactor, template: str) -> None:
    url = template.format(s=OPAQUE)
    out = r.text(f"GET {url} 200")
    assert_gone(out, OPAQUE)
    assert out.startswith("GET ") and out.endswith(" 200")
    if "page=2" in url:
        assert "page=2" in out
    if "expires_in=3600" in url:
        assert "expires_in=3600" in out


def test_url_params_that_are_not_secrets_stay(r: Redactor) -> None:
    url = "https://example.com/search?q=tokens&monkey=banana&max_tokens=10&page=3#top"
    assert r.text(url) == url


# ----------------------------------------------------------------------- bodies and JSON text

BODY = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "messages": [
        {"role": "user", "content": f"my key is {SHAPES['openai-key']}, please check it"},
        {
            "role": "tool",
            "content": json.dumps(
                {
                    "env": {"OPENAI_API_KEY": SHAPES["openai-key"], "DB_PASSWORD": PASSWORD},
                    "service_account": {"private_key": SHAPES["private-key"], "token": OPAQUE},
                }
            ),
        },
    ],
    "usage": {"input_tokens": 300, "output_tokens": 25, "cache_read_input_tokens": 0},
}


def test_request_body_with_a_nested_json_document_in_a_string(r: Redactor) -> None:
    out = r.value(BODY)
    assert_gone(out, SHAPES["openai-key"], SHAPES["private-key"], PASSWORD, OPAQUE)
    assert out["max_tokens"] == 1024 and out["usage"] == BODY["usage"]
    inner = json.loads(out["messages"][1]["content"])  # still valid JSON after masking
    assert inner["env"]["DB_PASSWORD"].startswith("«redacted:db-password#")
    assert inner["service_account"]["private_key"].startswith("«redacted:private-key#")


def test_json_document_nested_twice(r: Redactor) -> None:
    twice = json.dumps({"wrapped": json.dumps({"password": PASSWORD, "api_key": OPAQUE})})
    out = r.text(twice)
    assert_gone(out, PASSWORD, OPAQUE)
    json.loads(json.loads(out)["wrapped"])


def test_json_escaped_pem_in_text_and_in_a_field(r: Redactor) -> None:
    pem = SHAPES["private-key"]
    line = json.dumps({"note": "rotated", "key_file": pem})  # literal backslash-n inside
    assert "\\n" in line
    out = r.text(line)
    assert_gone(out, pem, *pem.split("\n")[1:-1])
    assert json.loads(out)["note"] == "rotated"
    as_field = r.value({"private_key": pem.replace("\n", "\\n")})
    assert_gone(as_field, *pem.split("\n")[1:-1])


def test_escaped_and_real_newline_pem_hash_alike(r: Redactor) -> None:
    pem = SHAPES["private-key"]
    real = r.find(pem)[0].digest
    escaped = r.find(pem.replace("\n", "\\n"))[0].digest
    assert real == escaped


def test_unterminated_pem_is_masked_to_the_end(r: Redactor) -> None:
    cut = SHAPES["private-key"][:200]
    out = r.text("key follows: " + cut)
    assert_gone(out, *cut.split("\n")[1:])


def test_unterminated_pem_running_into_a_placeholder_is_still_masked(r: Redactor) -> None:
    text = f"-----BEGIN PRIVATE KEY----- {OPAQUE} «redacted:x#abcdef» {PASSWORD}"
    out = r.text(text)
    assert_gone(out, OPAQUE, PASSWORD)
    assert "«redacted:x#abcdef»" in out
    assert r.text(out) == out


def test_key_glued_to_the_end_of_a_pem_block(r: Redactor) -> None:
    key = SHAPES["openai-key"]
    out = r.text(SHAPES["private-key"] + key)
    assert_gone(out, key)
    assert r.text(out) == out


def test_key_after_a_json_escape(r: Redactor) -> None:
    for escape in ("\\n", "\\t", "\\r"):
        text = f"line one{escape}{SHAPES['github-token']}{escape}DB_PASSWORD={PASSWORD}"
        assert_gone(r.text(text), SHAPES["github-token"], PASSWORD)


# ------------------------------------------------------------------------------ field names


@pytest.mark.parametrize(
    "name",
    [
        "authorization", "Authorization", "x-api-key", "X_API_KEY", "api-key", "api_key",
        "apiKey", "apikey", "cookie", "set-cookie", "password", "Passwd", "secret",
        "client_secret", "clientSecret", "token", "access_token", "refresh_token", "id_token",
        "private_key", "aws_secret_access_key", "AWS_SESSION_TOKEN", "GITHUB_TOKEN",
        "x-amz-security-token", "credentials", "db.password", "--password",
    ],
)  # fmt: skip
def test_sensitive_field_names_mask_their_value(r: Redactor, name: str) -> None:
    out = r.value({name: OPAQUE})
    assert_gone(out, OPAQUE)
    assert r.is_sensitive_field(name)
    assert r.value(OPAQUE, key=name) == out[name]


@pytest.mark.parametrize(
    "name",
    [
        "max_tokens", "input_tokens", "gen_ai.usage.input_tokens", "token_count", "tokens",
        "maxTokens", "token_type", "eos_token", "pad_token", "next_page_token",
        "time_to_first_token", "key", "sort_key", "secret_name", "PWD", "session_id",
        "signature", "monkey",
    ],
)  # fmt: skip
def test_names_that_only_look_sensitive(r: Redactor, name: str) -> None:
    assert not r.is_sensitive_field(name)
    assert r.value({name: "plain-value"}) == {name: "plain-value"}


def test_numbers_booleans_and_null_under_sensitive_names(r: Redactor) -> None:
    data = {"token": 12, "api_key": None, "has_password": True, "secret": False, "expires_in": 3600}
    assert r.value(data) == data
    masked = r.value({"password": 123456, "passphrase": 4.5})
    assert masked["password"].startswith("«redacted:password#")
    assert masked["passphrase"].startswith("«redacted:passphrase#")


def test_containers_under_a_sensitive_name_are_masked_throughout(r: Redactor) -> None:
    out = r.value({"credentials": {"user": "bob", "pass": PASSWORD}, "cookies": ["a=1", OPAQUE]})
    assert_gone(out, PASSWORD, OPAQUE)
    assert set(out["credentials"]) == {"user", "pass"}
    assert len(out["cookies"]) == 2


def test_logprob_tokens_are_not_secrets(r: Redactor) -> None:
    logprobs = {"content": [{"token": "Hello", "logprob": -0.31, "bytes": [72, 101]}]}
    stream = {"token": {"id": 9906, "text": " Hello", "logprob": -0.1, "special": False}}
    assert r.value(logprobs) == logprobs
    assert r.value(stream) == stream
    assert r.value({"token": OPAQUE})["token"].startswith("«redacted:token#")


def test_value_is_a_deep_copy(r: Redactor) -> None:
    data = {"a": [{"b": "c"}], "t": ("x", "y")}
    out = r.value(data)
    assert out == data and out is not data and out["a"][0] is not data["a"][0]


def test_keys_are_scanned_too(r: Redactor) -> None:
    out = r.value({SHAPES["github-token"]: "owner"})
    assert_gone(out, SHAPES["github-token"])


# --------------------------------------------------------------------- key = value in text


@pytest.mark.parametrize(
    "line",
    [
        "password: {s}",
        "DB_PASSWORD={s}",
        'export SECRET_KEY="{s}"',
        "api_key = '{s}'",
        "client_secret: {s}",
        '"token": "{s}"',
        '\\"password\\": \\"{s}\\"',
        "aws_secret_access_key = {s}",
        "accessToken: {s}",
        "password => '{s}'",
    ],
)
def test_assignments_in_text(r: Redactor, line: str) -> None:
    out = r.text("config\n" + line.format(s=OPAQUE) + "\nend")
    assert_gone(out, OPAQUE)
    assert out.startswith("config\n") and out.endswith("\nend")


def test_a_quoted_passphrase_is_masked_whole(r: Redactor) -> None:
    out = r.text('{"password": "correct horse battery staple"}')
    assert "horse" not in out and "staple" not in out


# --------------------------------------------------------------------------------- lookalikes

LOOKALIKES = [
    "ask-me anything, it is risk-free; sk-1 is a model name",
    "task-management-system and desk-lamp-with-usb-charger-1234567",
    "token count: 12",
    "tokens: 12, token: 12, max_tokens: 1024, input_tokens=300",
    '"max_tokens": 1024, "input_tokens": 300, "token_count": 3',
    "Enter your password to continue. The password field is required.",
    "Reset the secret santa list; keep the API key safe.",
    "id 123e4567-e89b-12d3-a456-426614174000",
    "commit 9c1e2f4a7b3d5e6f8a9b0c1d2e3f4a5b6c7d8e9f",
    "payload SGVsbG8sIHdvcmxkISBUaGlzIGlzIG9yZGluYXJ5IGJhc2U2NA==",
    "Use Bearer authentication or Basic authentication.",
    "The bearer of bad news. A basic idea.",
    "api_key: str | None = None",
    "password: Optional[str] = None",
    "token = get_token()",
    "self.api_key = settings.API_KEY",
    "password: ***",
    "PWD=/home/dev/shop",
    "eyJ is how base64 JSON starts; eyJhbGciOiJIUzI1NiJ9 alone is not a JWT",
    "AKIA is a prefix; ASIA is a continent",
    "see https://docs.example.com/guide?section=auth&lang=en",
    "gh_pages and github_pat_ are words here",
    "xoxo, gossip girl",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalikes_are_left_alone(r: Redactor, text: str) -> None:
    assert r.find(text) == []
    assert r.text(text) == text


def test_ordinary_step_attributes_come_back_equal(r: Redactor) -> None:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.max_tokens": 1024,
        "gen_ai.usage.input_tokens": 812,
        "gen_ai.input.messages": [{"role": "user", "content": "Where is my order A-17?"}],
        "gen_ai.tool.definitions": [{"name": "lookup_order", "parameters": {"type": "object"}}],
    }
    assert r.value(attrs) == attrs


# ----------------------------------------------------------------------------------- disabled


def test_disabled_redactor_changes_nothing() -> None:
    off = Redactor(enabled=False)
    assert not off.enabled and not off.is_active
    everything = " ".join(ALL_SHAPES.values()) + " password: x"
    assert off.text(everything) is everything
    assert off.find(everything) == []
    data = {"headers": HEADERS, "body": BODY}
    copy = off.value(data)
    assert copy == data and copy is not data
    assert off.value(OPAQUE, key="password") == OPAQUE
    assert load_redactor(enabled=False).text(everything) == everything


def test_export_metadata_says_what_was_done() -> None:
    meta = Redactor(patterns=[("acme-key", "acme_[a-z]{4}")], fields=["X-Acme"]).export_metadata()
    assert meta["redacted"] is True
    assert meta["user_patterns"] == ["acme-key"] and meta["user_fields"] == ["x_acme"]
    assert Redactor(enabled=False).export_metadata()["redacted"] is False


# ------------------------------------------------------------------------------- user config

ACME = "acme_" + _rand(24)


def _write_config(folder: Path, data: Any) -> Path:
    path = folder / CONFIG_FILE
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_user_patterns_and_fields_from_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "trace-tui"
    folder.mkdir()
    config = {
        "patterns": [{"name": "acme-key", "regex": "acme_[A-Za-z0-9]{24}"}],
        "fields": ["x-acme-auth", "X-Acme-Sso"],
    }
    _write_config(folder, config)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    red = load_redactor()
    assert red.text(f"id {ACME}.") == f"id «redacted:acme-key#{digest(ACME)}»."
    out = red.value({"X_ACME_AUTH": "v1", "x.acme.sso": ["a", "b"], "other": "keep"})
    assert out["other"] == "keep"
    assert out["X_ACME_AUTH"].startswith("«redacted:x-acme-auth#")
    assert all(v.startswith("«redacted:x-acme-sso#") for v in out["x.acme.sso"])
    text = red.text(f"X-Acme-Sso: {OPAQUE}\nxAcmeSso={OPAQUE}")
    assert_gone(text, OPAQUE)


def test_no_config_file_means_built_in_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    red = load_redactor()
    assert red.text(ACME) == ACME
    assert_gone(red.text(SHAPES["openai-key"]), SHAPES["openai-key"])


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"patterns": [{"name": "acme-key", "regex": "acme_[A-Za-z0-9{24}"}]},
            "pattern 'acme-key' is not a valid regular expression",
        ),
        ({"patterns": [{"name": "everything", "regex": "x*"}]}, "matches the empty string"),
        ({"patterns": [{"regex": "abc"}]}, 'every pattern needs a "name"'),
        ({"patterns": [{"name": "n"}]}, 'needs a non-empty "regex"'),
        ({"patterns": "acme"}, '"patterns" must be a list'),
        ({"fields": "x-acme"}, '"fields" must be a list'),
        ({"fields": [""]}, "field names must be non-empty strings"),
        ({"feilds": ["x-acme"]}, "unknown key 'feilds'"),
        ("[1, 2]", "expected an object"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_bad_config_gives_one_clear_line(tmp_path: Path, config: Any, expected: str) -> None:
    path = _write_config(tmp_path, config)
    with pytest.raises(RedactConfigError) as info:
        load_redactor(config_path=path)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert expected in message
    assert message.startswith(str(path))
    assert "\n" not in message


def test_a_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RedactConfigError, match="cannot read"):
        load_redactor(config_path=tmp_path / "nope.json")


def test_bad_arguments_to_the_constructor_raise_the_same_error() -> None:
    with pytest.raises(RedactConfigError, match="pattern 'p'"):
        Redactor(patterns={"p": "(unclosed"})


def test_disabled_ignores_a_broken_config(tmp_path: Path) -> None:
    path = _write_config(tmp_path, "{broken")
    assert not load_redactor(enabled=False, config_path=path).enabled


# ---------------------------------------------------------------------- idempotence, property


FIXTURES: list[Any] = [
    HEADERS, BODY, " ".join(ALL_SHAPES.values()), *LOOKALIKES,
    "Authorization: Bearer " + OPAQUE, "https://u:" + PASSWORD + "@h/?token=" + OPAQUE,
]  # fmt: skip


@pytest.mark.parametrize("data", FIXTURES, ids=range(len(FIXTURES)))
def test_redacting_twice_changes_nothing(r: Redactor, data: Any) -> None:
    once = r.value(data)
    assert r.value(once) == once
    if isinstance(data, str):
        assert r.text(r.text(data)) == r.text(data)


@pytest.mark.parametrize("data", FIXTURES, ids=range(len(FIXTURES)))
def test_ascii_escaped_json_of_redacted_data_is_left_alone(r: Redactor, data: Any) -> None:
    line = json.dumps(r.value(data), ensure_ascii=True)  # placeholders become \u00ab…\u00bb
    assert r.text(line) == line


_SEPARATORS = st.sampled_from([" ", "\n", "\t", '"', "'", "(", ")", ",", ";", "=", ": ", "\\n"])
_SAFE_SECRETS = [v for k, v in ALL_SHAPES.items()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.text(max_size=60),
    after=st.text(max_size=60),
    left=_SEPARATORS,
    right=_SEPARATORS,
    secret=st.sampled_from(_SAFE_SECRETS),
)
def test_surrounding_text_never_hides_an_embedded_key(
    before: str, after: str, left: str, right: str, secret: str
) -> None:
    text = before + left + secret + right + after
    start = len(before + left)
    found = Redactor().find(text)
    assert any(m.start <= start and m.end >= start + len(secret) for m in found)


_FRAGMENTS = st.sampled_from(
    [
        *(v[:40] for v in ALL_SHAPES.values() if "\n" not in v), SHAPES["jwt"],
        "password", "token", "api_key", "Authorization", "Cookie", "Bearer", "Basic", "key",
        ": ", "=", '"', "'", "\\\"", " ", "\n", "?", "&", "://", "@", "-----BEGIN PRIVATE KEY-----",
        "-----END PRIVATE KEY-----", "abc123", "hunter2", "«redacted:x#abcdef»", "«", "»", "#",
        "dXNlcjpwYXNz", "12", "eyJ", "sk-", "AKIA", "ZZZZZZZZZZZZZZZZ",
    ]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_FRAGMENTS | st.text(max_size=3), max_size=14).map("".join))
def test_text_redaction_is_idempotent(text: str) -> None:
    red = Redactor()
    once = red.text(text)
    assert red.text(once) == once


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from([*_SAFE_SECRETS, OPAQUE, "x"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["password", "token", "note", "headers", "Cookie", "value", "name", "logprob"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_value_redaction_is_idempotent_and_disabled_is_identity(data: Any) -> None:
    red = Redactor()
    once = red.value(data)
    assert red.value(once) == once
    assert Redactor(enabled=False).value(data) == data
    for secret in _SAFE_SECRETS:
        assert secret not in _dump(once)


def test_match_is_a_plain_record() -> None:
    m = Match(3, 9, "jwt", "abcdef")
    assert m.placeholder == "«redacted:jwt#abcdef»"
