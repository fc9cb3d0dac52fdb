"""Issue 13, item 10: redaction marks cannot be brute-forced, and the text rules mask exactly
the secret: the credential of an ``Authorization``/``Cookie`` line (not the rest of the line),
both halves of a key split by a newline, ``redis://:pw@host``, standalone AWS secret keys,
Stripe ``sk_live_`` keys and Hugging Face ``hf_`` tokens."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from pathlib import Path

from trace_tui.core.text import redact_key
from trace_tui.core.text.redact import Redactor

MARK = re.compile(r"«redacted:([a-z0-9-]+)#([0-9a-f]{6})»")


def test_a_six_digit_password_cannot_be_recovered_from_its_mark() -> None:
    out = Redactor().text("db password: 384951")
    kind, mark = MARK.search(out).groups()  # type: ignore[union-attr]
    unkeyed = {hashlib.sha256(f"{n:06d}".encode()).hexdigest()[:6] for n in range(1_000_000)}
    # an unkeyed digest would give it away; the keyed mark matches only by chance (~6%)
    assert hashlib.sha256(b"384951").hexdigest()[:6] != mark
    key = redact_key.user_hash_key()
    assert hmac.new(key, b"384951", hashlib.sha256).hexdigest()[:6] == mark
    assert len(unkeyed) > 900_000
    assert Redactor().text("db password: 384951") == out  # still: two occurrences alike


def test_the_key_is_random_private_and_made_once(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    first = redact_key._load_or_create(folder / redact_key.KEY_FILE)
    again = redact_key._load_or_create(folder / redact_key.KEY_FILE)
    assert first == again and len(first) == redact_key.KEY_BYTES
    info = (folder / redact_key.KEY_FILE).stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert [p.name for p in folder.iterdir()] == [redact_key.KEY_FILE]  # no temp left
    other = redact_key._load_or_create(tmp_path / "elsewhere" / redact_key.KEY_FILE)
    assert other != first


def test_a_symlinked_key_file_is_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("ab" * 32 + "\n")
    (folder / redact_key.KEY_FILE).symlink_to(victim)
    key = redact_key._load_or_create(folder / redact_key.KEY_FILE)
    assert key != bytes.fromhex("ab" * 32)
    assert victim.read_text() == "ab" * 32 + "\n" and os.path.islink(folder / "redact.key")


def test_authorization_and_cookie_mask_only_the_credential() -> None:
    r = Redactor()
    out = r.text("Authorization: Bearer abcdefgh12345678 and the user said hello")
    assert "abcdefgh12345678" not in out and out.endswith(" and the user said hello")
    out = r.text("Cookie: session=abc123xyz; theme=dark then ordinary words")
    assert "abc123xyz" not in out and out.endswith(" then ordinary words")


def test_a_key_split_by_a_newline_is_masked_whole() -> None:
    key = "sk-proj-abcdefghij1234567890ABCDEFGH5678ijklmnop"
    for text in (f"key {key[:30]}\n{key[30:]} rest", f'"key {key[:30]}\\n{key[30:]}"'):
        out = Redactor().text(text)
        assert key[:30] not in out and key[30:] not in out, out
    assert Redactor().text(f"{key}\nNext line here").endswith("\nNext line here")


def test_more_shapes_are_masked() -> None:
    r = Redactor()
    cases = {
        "redis://:hunter2pw@cache:6379/0": "hunter2pw",
        "aws wJalrXUtnFI/K7MDENG/bPxRfiCYEXAMPLEKEY12 end": (
            "wJalrXUtnFI/K7MDENG/bPxRfiCYEXAMPLEKEY12"
        ),
        "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "hf hf_abcdefghijklmnopqrstuvwxyz0123456789": "hf_abcdefghijklmnopqrstuvwxyz0123456789",
    }
    for text, secret in cases.items():
        out = r.text(text)
        assert secret not in out and "«redacted:" in out, out
    # left alone: a git SHA, a long ordinary identifier
    for text in ("8f14e45fceea167a5a36dedd4bea2543a1b2c3d4", "ThisIsJustAnOrdinaryIdentifierName"):
        assert r.text(text) == text
