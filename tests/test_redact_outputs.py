"""Secrets never leave the program unmasked: ``show``, ``show --json``, ``convert``, saved
fork/replay branches, ``diff --plain/--json`` and ``tail --plain/--json`` (issue 8).

One native trace holds every secret shape where real traces hide them: request headers of a
wire capture (Authorization, x-api-key, cookie, set-cookie), tool arguments (``password``),
a URL query (``?api_key=…&token=…``), prose, a JSON document encoded inside a string, a PEM
private key with real newlines and one JSON-escaped (``\\n``) inside such a document, the run
record's environment and a step name. Each output is checked for any 12-character piece of
any secret; the same commands with ``--no-redact`` must show them (so the checks can fail).

The fake secrets come from a seeded RNG at import (never written out in this file).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import random
import re
import string
import threading
from pathlib import Path
from typing import Any

import pytest

from trace_tui.cli.commands import main
from trace_tui.cli.plain_tail import tail_plain
from trace_tui.core.export.validate import validate_file
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.branches import load_branch, read_branch_head
from trace_tui.core.replay.engine import COMPLETE, Replay, Sources
from trace_tui.core.replay.fork import plan_fork
from trace_tui.core.text.redact import Redactor

_ALNUM = string.ascii_letters + string.digits
_PLACEHOLDER = re.compile(r"«redacted:[a-z0-9-]+#[0-9a-f]{6}»")


def _secrets(seed: int) -> dict[str, str]:
    rng = random.Random(seed)

    def rand(n: int, alphabet: str = _ALNUM) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n - 1)) + rng.choice(string.digits)

    def b64url(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return {
        "openai": "sk-proj-" + rand(48, _ALNUM + "_-"),
        "anthropic": "sk-ant-api03-" + rand(93, _ALNUM + "_-") + "AA",
        "aws": "AKIA" + rand(16, string.ascii_uppercase + string.digits),
        "google": "AIza" + rand(35, _ALNUM + "_-"),
        "github": "ghp_" + rand(36),
        "github_pat": "github_pat_" + rand(82, _ALNUM + "_"),
        "slack": "xoxb-" + rand(12, string.digits) + "-" + rand(24),
        "jwt": ".".join([b64url({"alg": "HS256", "typ": "JWT"}), b64url({"sub": "u1"}), rand(43)]),
        "pem_body": "\n".join(rand(64, _ALNUM + "+/") for _ in range(5)),
        "escaped_pem_body": "\n".join(rand(64, _ALNUM + "+/") for _ in range(5)),
        "password": "hunter2-" + rand(10),
        "bearer": rand(40),
        "x_api_key": rand(36),
        "cookie": rand(32),
        "set_cookie": rand(32),
        "url_api_key": rand(32),
        "url_token": rand(32),
        "doc_api_key": rand(30),
        "env_token": rand(30),
        "name_token": rand(30),
    }


A = _secrets(81)
B = _secrets(82)  # the same trace with other secrets, for diff


def _pem(body: str) -> str:
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"


def _pieces(secrets: dict[str, str]) -> set[str]:
    """Every 12-character piece (at steps of 6) of every secret, PEM lines one by one."""
    out: set[str] = set()
    for value in secrets.values():
        for part in value.split("\n"):
            out |= {part[i : i + 12] for i in range(0, max(1, len(part) - 11), 6)}
    return out


def assert_no_secret(text: str, secrets: dict[str, str] = A) -> None:
    leaked = sorted(p for p in _pieces(secrets) if p in text)
    assert not leaked, f"{len(leaked)} secret piece(s) leaked, e.g. {leaked[:3]}"


def assert_all_secrets(text: str, secrets: dict[str, str], names: list[str]) -> None:
    """Raw output: the named secrets appear whole (PEM: each line whole)."""
    for name in names:
        for part in secrets[name].split("\n"):
            assert part in text, f"{name} is missing from the raw output"


#: Secrets that every full (untruncated) output holds whole when not redacted.
FULL = list(A)
LOOKALIKE = "Done. Please ask-me about sk-1 later; token count: 12."


def trace_records(s: dict[str, str]) -> list[dict[str, Any]]:
    """A small agent run carrying the secrets of ``s`` everywhere a real trace does."""
    service_account = {
        "type": "service_account",
        "private_key": _pem(s["escaped_pem_body"]),  # json.dumps writes its newlines as \\n
        "api_key": s["doc_api_key"],
        "fallback": s["anthropic"],
    }
    login_args = {"password": s["password"], "user": "ops"}
    url = f"https://api.example.com/v1/items?api_key={s['url_api_key']}&token={s['url_token']}"
    system = f"You are the ops bot. Call the API with {s['openai']} when asked."
    user = {"role": "user", "content": f"Config: {json.dumps(service_account)}"}
    call_login = {"id": "call_1", "name": "login", "arguments": json.dumps(login_args)}
    call_get = {"id": "call_2", "name": "http_get", "arguments": json.dumps({"url": url})}
    login_result = {"token": s["jwt"], "expires_in": 3600}
    get_result = (
        f"200 OK: deploy with {s['github']} or {s['github_pat']}, notify {s['slack']}, "
        f"aws {s['aws']}, maps {s['google']}"
    )
    messages_1 = [user]
    messages_2 = [
        *messages_1,
        {"role": "assistant", "content": None, "tool_calls": [call_login]},
        {"role": "tool", "tool_call_id": "call_1", "content": json.dumps(login_result)},
    ]
    messages_3 = [
        *messages_2,
        {"role": "assistant", "content": None, "tool_calls": [call_get]},
        {"role": "tool", "tool_call_id": "call_2", "content": get_result},
    ]

    def llm(n: int, messages: list[dict[str, Any]], output: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "span",
            "span_id": f"llm-{n}",
            "parent_id": "agent",
            "kind": "llm",
            "name": "chat gpt-4o",
            "start_time": f"2026-01-01T00:00:0{n}Z",
            "end_time": f"2026-01-01T00:00:0{n}.500000Z",
            "status": "ok",
            "attributes": {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.request.max_tokens": 256,
                "gen_ai.system_instructions": system,
                "gen_ai.input.messages": messages,
                "gen_ai.output.messages": [output],
                "gen_ai.usage.input_tokens": 100 * n,
                "gen_ai.usage.output_tokens": 12,
            },
        }

    def tool(n: int, call: dict[str, Any], args: Any, result: Any) -> dict[str, Any]:
        return {
            "type": "span",
            "span_id": f"tool-{n}",
            "parent_id": "agent",
            "kind": "tool",
            "name": call["name"],
            "start_time": f"2026-01-01T00:00:0{n}Z",
            "end_time": f"2026-01-01T00:00:0{n}.200000Z",
            "status": "ok",
            "attributes": {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": call["name"],
                "gen_ai.tool.call.id": call["id"],
                "gen_ai.tool.call.arguments": args,
                "gen_ai.tool.call.result": result,
            },
        }

    wire = {
        "type": "span",
        "span_id": "wire-1",
        "parent_id": "agent",
        "kind": "other",
        "name": f"GET /v1/items?token={s['name_token']}",
        "start_time": "2026-01-01T00:00:06Z",
        "end_time": "2026-01-01T00:00:06.100000Z",
        "status": "ok",
        "attributes": {
            "http.request.method": "POST",
            "http.url": url,
            "http.request.headers": {
                "Authorization": f"Bearer {s['bearer']}",
                "x-api-key": s["x_api_key"],
                "Cookie": f"session={s['cookie']}; theme=dark",
                "Content-Type": "application/json",
            },
            "http.request.body": json.dumps(
                {"model": "gpt-4o", "messages": [{"role": "user", "content": f"aws {s['aws']}"}]}
            ),
            "http.response.headers": [["set-cookie", f"sid={s['set_cookie']}; HttpOnly"]],
            "http.response.body": _pem(s["pem_body"]),
        },
        "source": {"request": {"headers": {"authorization": f"Bearer {s['bearer']}"}}},
    }
    return [
        {
            "type": "run",
            "schema_version": 1,
            "run_id": "run-secrets",
            "name": "secrets everywhere",
            "environment": {"OPENAI_API_KEY": s["openai"], "DEPLOY_TOKEN": s["env_token"]},
        },
        {
            "type": "span",
            "span_id": "agent",
            "kind": "agent",
            "name": "ops agent",
            "start_time": "2026-01-01T00:00:00Z",
            "end_time": "2026-01-01T00:00:09Z",
            "status": "ok",
        },
        llm(1, messages_1, {"role": "assistant", "content": None, "tool_calls": [call_login]}),
        tool(2, call_login, login_args, login_result),
        llm(3, messages_2, {"role": "assistant", "content": None, "tool_calls": [call_get]}),
        tool(4, call_get, {"url": url}, get_result),
        wire,
        llm(7, messages_3, {"role": "assistant", "content": LOOKALIKE}),
    ]


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own redact.json must not change what these tests see."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    path = _write(tmp_path / "secrets.jsonl", trace_records(A))
    assert validate_file(path) == []
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_trace_really_holds_every_secret(trace: Path) -> None:
    raw = trace.read_text(encoding="utf-8")
    assert_all_secrets(raw, A, FULL)
    # the nested document holds the PEM JSON-escaped twice over: \\n between its lines
    assert "\\\\n" in raw and A["escaped_pem_body"].split("\n")[0] in raw


# --------------------------------------------------------------------------- show
def test_show_table(trace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "show", str(trace))
    assert code == 0, err
    assert_no_secret(out + err)
    assert "«redacted:password#" in out  # the login row's arguments
    code, raw, _ = _run(capsys, "show", "--no-redact", str(trace))
    assert code == 0
    assert A["password"] in raw and "«redacted:" not in raw


def test_show_json(trace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "show", "--json", str(trace))
    assert code == 0, err
    assert_no_secret(out)
    data = json.loads(out)
    assert data["redaction"]["redacted"] is True
    assert data["redaction"]["placeholder"].startswith("«redacted:")
    wire = next(s for s in data["steps"] if s["span_id"] == "wire-1")
    headers = wire["attributes"]["http.request.headers"]
    assert headers["Authorization"].startswith("Bearer «redacted:")
    assert headers["Content-Type"] == "application/json"
    assert data["run"]["environment"]["OPENAI_API_KEY"].startswith("«redacted:")

    code, raw, _ = _run(capsys, "show", "--json", "--no-redact", str(trace))
    assert code == 0
    assert json.loads(raw)["redaction"]["redacted"] is False
    assert_all_secrets(raw, A, FULL)


def test_lookalikes_are_left_alone_in_show_json(
    trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _run(capsys, "show", "--json", str(trace))
    data = json.loads(out)
    last = data["steps"][-1]["attributes"]
    assert last["gen_ai.output.messages"][0]["content"] == LOOKALIKE
    assert last["gen_ai.request.max_tokens"] == 256
    assert last["gen_ai.usage.input_tokens"] == 700
    login = next(s for s in data["steps"] if s["name"] == "login")["attributes"]
    assert login["gen_ai.tool.call.result"]["expires_in"] == 3600
    assert login["gen_ai.tool.call.arguments"]["user"] == "ops"


# --------------------------------------------------------------------------- convert
def test_convert_output(trace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "converted.jsonl"
    code, _, err = _run(capsys, "convert", str(trace), "-o", str(out))
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    assert_no_secret(text)
    assert validate_file(out) == []
    env = open_run(out).info.environment
    assert env["trace_tui.redaction"]["redacted"] is True
    assert env["DEPLOY_TOKEN"].startswith("«redacted:")

    raw_out = tmp_path / "raw.jsonl"
    assert main(["convert", "--no-redact", str(trace), "-o", str(raw_out)]) == 0
    raw = raw_out.read_text(encoding="utf-8")
    assert_all_secrets(json.dumps([json.loads(x) for x in raw.splitlines()]), A, FULL)
    assert open_run(raw_out).info.environment["trace_tui.redaction"]["redacted"] is False


def test_converting_a_redacted_file_raw_still_says_it_is_redacted(
    trace: Path, tmp_path: Path
) -> None:
    once, twice = tmp_path / "once.jsonl", tmp_path / "twice.jsonl"
    assert main(["convert", str(trace), "-o", str(once)]) == 0
    assert main(["convert", "--no-redact", str(once), "-o", str(twice)]) == 0
    assert open_run(twice).info.environment["trace_tui.redaction"]["redacted"] is True
    again = tmp_path / "again.jsonl"
    assert main(["convert", str(once), "-o", str(again)]) == 0
    assert again.read_bytes() == once.read_bytes()  # redacting redacted output changes nothing


# --------------------------------------------------------------------------- fork / replay
def _fork(
    trace: Path, out: Path, *extra: str, at: str = "7", answer: str | None = None
) -> list[str]:
    argv = ["fork", str(trace), "--at", at, "-o", str(out), *extra]
    return argv + (["--answer", answer] if answer is not None else [])


def test_fork_branch_file(trace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    branch = tmp_path / "b.jsonl"
    note = f"/attributes/trace_tui.note=deploy key {A['github']}"
    code, out, err = _run(capsys, *_fork(trace, branch, "--set-string", note, "--json"))
    assert code == 0, err
    assert_no_secret(out + err)
    assert json.loads(out)["redaction"]["redacted"] is True
    text = branch.read_text(encoding="utf-8")
    assert_no_secret(text)
    assert validate_file(branch) == []
    head = read_branch_head(branch)
    assert head is not None and "«redacted:github-token#" in head.edits[0]["value"]
    assert open_run(branch).info.environment["trace_tui.redaction"]["redacted"] is True

    raw_branch = tmp_path / "raw.jsonl"
    assert main(_fork(trace, raw_branch, "--set-string", note, "--no-redact")) == 0
    raw = raw_branch.read_text(encoding="utf-8")
    assert_all_secrets(json.dumps([json.loads(x) for x in raw.splitlines()]), A, FULL)


def test_replay_gets_the_real_values_in_memory_and_never_writes_them(trace: Path) -> None:
    edit = {"op": "add", "path": "/attributes/trace_tui.note", "value": "n"}
    replay = Replay(plan_fork(open_run(trace), 7, [edit]))
    assert replay.run() == COMPLETE
    in_memory = json.dumps(replay.all_records("../secrets.jsonl"), ensure_ascii=False)
    assert_all_secrets(in_memory, A, FULL)  # a live responder would get the real context


def test_replaying_a_redacted_branch_reuses_answers_to_requests_holding_secrets(
    trace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The branch's request holds a key (edited in, and in the parent's system prompt), and its
    answer was typed by hand and holds one too: both are masked in the file, yet ``replay``
    finds the answer again and writes a byte-identical file."""
    branch = tmp_path / "b.jsonl"
    system = f"/attributes/gen_ai.system_instructions=Be brief. Use {A['anthropic']}."
    answer = f"Rotated: new key {A['aws']} is live."
    code, _, err = _run(capsys, *_fork(trace, branch, "--set-string", system, answer=answer))
    assert code == 0, err
    saved = branch.read_bytes()
    assert_no_secret(saved.decode("utf-8"))
    manual = open_run(branch).steps[-1]
    assert manual.attributes["trace_tui.replay.match"] == "manual"

    code, out, err = _run(capsys, "replay", str(branch))
    assert code == 0, out + err  # no new answer needed: the saved one was found
    assert branch.read_bytes() == saved
    assert_no_secret(out + err)

    loaded = load_branch(branch)  # the same through the API
    again = Replay(loaded.plan(), Sources(reuse=loaded.earlier_answers(Redactor())))
    assert again.run() == COMPLETE


def test_a_raw_branch_replays_with_redaction_on_and_the_other_way(
    trace: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw.jsonl"
    system = f"/attributes/gen_ai.system_instructions=Use {A['openai']}."
    fork = _fork(trace, raw, "--set-string", system, "--no-redact", answer="fine")
    assert main(fork) == 0
    masked = tmp_path / "masked.jsonl"
    assert main(["replay", str(raw), "-o", str(masked)]) == 0
    assert_no_secret(masked.read_text(encoding="utf-8"))
    assert main(["replay", str(masked), "--no-redact", "-o", str(tmp_path / "back.jsonl")]) == 0


def test_forking_the_same_edit_again_overwrites_the_redacted_branch(
    trace: Path, tmp_path: Path
) -> None:
    branch = tmp_path / "b.jsonl"
    note = f"/attributes/trace_tui.note={A['slack']}"
    assert main(_fork(trace, branch, "--set-string", note)) == 0
    first = branch.read_bytes()
    assert main(_fork(trace, branch, "--set-string", note)) == 0  # same fork: not "another"
    assert branch.read_bytes() == first


# --------------------------------------------------------------------------- diff
@pytest.fixture
def other(tmp_path: Path) -> Path:
    return _write(tmp_path / "other.jsonl", trace_records(B))


def test_diff_plain_and_json(trace: Path, other: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "diff", str(trace), str(other), "--plain")
    assert code == 1, err  # the secrets differ, so the runs do
    assert_no_secret(out + err, A)
    assert_no_secret(out + err, B)
    assert "«redacted:" in out
    code, out, _ = _run(capsys, "diff", str(trace), str(other), "--json")
    assert code == 1
    assert_no_secret(out, A)
    assert_no_secret(out, B)
    assert json.loads(out)["redaction"]["redacted"] is True

    code, raw, _ = _run(capsys, "diff", str(trace), str(other), "--json", "--no-redact")
    assert code == 1
    unescaped = json.dumps(json.loads(raw), ensure_ascii=False)
    shown = ["openai", "password", "jwt", "url_api_key", "github"]  # the changed fields
    assert_all_secrets(unescaped, A, shown)
    assert_all_secrets(unescaped, B, shown)


def test_diff_of_a_trace_with_itself_is_equivalent_redacted(
    trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "diff", str(trace), str(trace), "--plain")
    assert code == 0 and "equivalent" in out
    assert_no_secret(out)


def test_a_redacted_branch_diffs_cleanly_against_its_raw_parent(
    trace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    branch = tmp_path / "b.jsonl"
    assert main(_fork(trace, branch, "--set-string", "/attributes/trace_tui.note=n")) == 0
    capsys.readouterr()
    code, out, _ = _run(capsys, "diff", str(branch), "--json")
    assert_no_secret(out)
    report = json.loads(out)
    changed = {c["pointer"] for row in report["rows"] for c in row["changes"]}
    assert changed and all("trace_tui" in p for p in changed), changed


# --------------------------------------------------------------------------- tail
def _tail(path: Path, *, as_json: bool, no_redact: bool = False) -> str:
    args = argparse.Namespace(
        file=str(path),
        format=None,
        json=as_json,
        plain=not as_json,
        from_start=True,
        no_redact=no_redact,
    )
    out, err, stop = io.StringIO(), io.StringIO(), threading.Event()
    stop.set()  # print what the file holds, then return
    assert tail_plain(args, out=out, err=err, stop=stop) == 0
    return out.getvalue() + err.getvalue()


def test_tail_plain_and_json(trace: Path) -> None:
    plain = _tail(trace, as_json=False)
    assert "GET /v1/items?token=«redacted:" in plain
    assert_no_secret(plain)
    lines = _tail(trace, as_json=True)
    assert_no_secret(lines)
    assert len(lines.splitlines()) == 7
    raw = _tail(trace, as_json=True, no_redact=True)
    assert_all_secrets(raw, A, [n for n in FULL if n != "env_token"])  # env: the run record


@pytest.mark.parametrize("words", [6, 7, 8, 9])
def test_a_key_in_a_long_step_name_is_masked_before_the_name_is_cut(
    tmp_path: Path, words: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """``tail --plain`` and ``show`` cut names to a column; half a key is not recognisable as a
    key any more, so names are masked first."""
    name = "word " * words + A["openai"]
    step = {"type": "span", "span_id": "s1", "kind": "tool", "name": name, "status": "ok"}
    path = _write(tmp_path / "long.jsonl", [step])
    assert_no_secret(_tail(path, as_json=False), {"openai": A["openai"]})
    _, out, err = _run(capsys, "show", str(path))
    assert_no_secret(out + err, {"openai": A["openai"]})


# --------------------------------------------------------------------------- config
def test_a_broken_redact_config_is_one_line_and_exit_2(
    trace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "config" / "trace-tui"
    folder.mkdir(parents=True)
    (folder / "redact.json").write_text('{"patterns": [{"name": "x", "regex": "("}]}')
    for argv in (
        ["show", str(trace)],
        ["convert", str(trace), "-o", str(tmp_path / "o.jsonl")],
        ["diff", str(trace), str(trace), "--plain"],
        ["fork", str(trace), "--at", "7"],
    ):
        code, out, err = _run(capsys, *argv)
        assert code == 2, argv
        assert out == "" and len(err.strip().splitlines()) == 1, (argv, err)
        assert "redact.json" in err and "not a valid regular expression" in err
    assert not (tmp_path / "o.jsonl").exists()
    # --no-redact ignores the config entirely
    code, _, _ = _run(capsys, "show", "--no-redact", str(trace))
    assert code == 0


def test_user_patterns_reach_every_output(
    trace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "config" / "trace-tui"
    folder.mkdir(parents=True)
    (folder / "redact.json").write_text(
        json.dumps({"patterns": [{"name": "ops-user", "regex": r"\bops bot\b"}]})
    )
    _, out, _ = _run(capsys, "show", "--json", str(trace))
    text = json.dumps(json.loads(out), ensure_ascii=False)
    assert "ops bot" not in text
    assert "«redacted:ops-user#" in text
    assert json.loads(out)["redaction"]["user_patterns"] == ["ops-user"]
    converted = tmp_path / "c.jsonl"
    assert main(["convert", str(trace), "-o", str(converted)]) == 0
    assert "ops bot" not in converted.read_text(encoding="utf-8")


def test_placeholders_look_the_same_everywhere(
    trace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One secret gets one placeholder in show --json, convert and tail --json."""
    _, shown, _ = _run(capsys, "show", "--json", str(trace))
    converted = tmp_path / "c.jsonl"
    assert main(["convert", str(trace), "-o", str(converted)]) == 0
    placeholder = Redactor().text(A["github"])
    assert _PLACEHOLDER.fullmatch(placeholder)
    for text in (
        json.dumps(json.loads(shown), ensure_ascii=False),
        converted.read_text(encoding="utf-8"),
    ):
        assert placeholder in text
