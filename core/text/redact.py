"""Mask secrets in trace content: the one redaction module the screen and every export call.

Agent traces carry API keys, bearer tokens, cookies and private keys (request headers of wire
captures, tool arguments, environment dumps, URLs). Everything shown on screen, copied,
exported or saved as a branch goes through a :class:`Redactor` first:

* :meth:`Redactor.text` masks secrets inside free text, found by shape (``sk-…``, ``AKIA…``,
  JWTs, PEM blocks…) or by context (``Authorization: Bearer …``, ``?api_key=…``,
  ``password: …``). The rules are listed in :mod:`trace_tui.core.text.redact_patterns`.
* :meth:`Redactor.value` returns a deep copy of JSON-like data in which the values of sensitive
  field names (``authorization``, ``x-api-key``, ``password``, ``client_secret`` …) are masked
  whole and every other string goes through :meth:`Redactor.text`. Header lists given as
  ``[name, value]`` pairs or ``{"name": …, "value": …}`` objects are handled like dicts.
* :meth:`Redactor.find` returns where the secrets in a string are, so the UI can show what was
  masked and reveal one value when the user asks for it.

A masked secret reads ``«redacted:KIND#HASH»``: KIND says what it was (``openai-key``,
``jwt``, ``x-api-key`` …), HASH is the first 6 hex digits of an HMAC-SHA-256 of the secret
keyed with the user's own random key (:mod:`trace_tui.core.text.redact_key`, kept in the config
folder), so two occurrences of one secret are recognisably equal in everything one user writes,
while someone holding the file cannot test guesses against the mark (a bare digest let a 6-digit
password be recovered in a second). ``hash_key`` sets another key (a team may share one so
marks match between people). The guillemets and the ``redacted:`` word make the placeholder
impossible to mistake for a key, and redacting redacted text changes nothing.

Numbers, ``true``/``false`` and ``null`` under a sensitive name are kept (``"token": 12`` is a
count or an id far more often than a credential, ``"expires_in"`` and ``"has_password"`` say
nothing secret), except under password-like names (``password``, ``passwd``, ``passphrase``),
where a numeric password is still a password. A bare ``token`` field is left alone inside
log-probability objects (``{"token": "Hello", "logprob": -0.1}``) and when it holds an object.

Left alone on purpose: ``sk-`` in prose shorter than a key (``ask-me``, ``sk-1``), counts
(``max_tokens``, ``input_tokens``, ``token count: 12``), the word ``password`` without a value,
code (``api_key: str = None``, ``token = get_token()``), UUIDs, git SHAs, plain base64,
pagination cursors and tokenizer special tokens (``page_token``, ``eos_token``).

Users add their own patterns and field names in ``<config dir>/redact.json``; see
:func:`load_redactor`. ``Redactor(enabled=False)`` is the ``--no-redact`` path.

Speed: most strings hold none of the trigger substrings and return after a few ``str.find``
calls (about 10 µs per KB); strings up to 64 characters and dict keys are cached, since roles,
model names and attribute names repeat all through a trace. ``bench/bench_redact.py`` measures.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

from trace_tui.core.errors import BadValue
from trace_tui.core.model.context_windows import config_dir
from trace_tui.core.text import redact_patterns as rules
from trace_tui.core.text.redact_key import user_hash_key

__all__ = [
    "CONFIG_FILE",
    "PLACEHOLDER_FORMAT",
    "Match",
    "RedactConfigError",
    "Redactor",
    "load_redactor",
    "read_config",
]

#: The user's configuration file, in :func:`~trace_tui.core.model.context_windows.config_dir`.
CONFIG_FILE = "redact.json"

PLACEHOLDER_FORMAT = "«redacted:<kind>#<first 6 hex digits of HMAC-SHA-256, the user's key>»"
#: A placeholder, also as ``json.dumps(..., ensure_ascii=True)`` writes it (``\u00ab…``).
_PLACEHOLDER = re.compile(r"(?:«|\\u00ab)redacted:[a-z0-9][a-z0-9-]{0,39}#[0-9a-f]{6}(?:»|\\u00bb)")
_PLACEHOLDER_MARK = "redacted:"
_SCHEME = re.compile(rf"\s*(?i:{rules.AUTH_SCHEMES})[ \t]+(?=\S)")
_PEM_NOISE = re.compile(r"(?:\\+[nr])+|\s+")
_CACHE_LIMIT = 20_000
#: Strings up to this length go through a cache (a dict lookup instead of a scan).
_SHORT_TEXT = 64
_T = TypeVar("_T")

_Span: TypeAlias = rules.Span


class RedactConfigError(BadValue):
    """The redaction config (file or arguments) is wrong; the message is one line to show."""


@dataclass(frozen=True, slots=True)
class Match:
    """Where one secret is in a string (``s[start:end]``), what it is, and its short hash.

    It never holds the secret itself, so logging a ``Match`` leaks nothing.
    """

    start: int
    end: int
    kind: str
    digest: str

    @property
    def placeholder(self) -> str:
        """The text shown instead of the secret: ``«redacted:KIND#HASH»``."""
        return f"«redacted:{self.kind}#{self.digest}»"


@dataclass(frozen=True, slots=True)
class _FieldRule:
    kind: str
    numbers: bool
    ambiguous: bool


class Redactor:
    """Masks secrets in text and JSON-like values. Immutable once built; safe to share.

    ``patterns`` are extra ``(name, regex)`` pairs whose whole match is masked with kind
    ``name``; ``fields`` are extra field names (case-insensitive, ``-``/``_``/``.`` alike)
    whose values are masked whole. ``source`` names where they came from in error messages.
    """

    def __init__(
        self,
        enabled: bool = True,
        *,
        patterns: Iterable[tuple[str, str]] | Mapping[str, str] = (),
        fields: Iterable[str] = (),
        hash_key: bytes | None = None,
        source: str = "",
    ) -> None:
        self._enabled = enabled
        self._hash_key = hash_key
        pairs = patterns.items() if isinstance(patterns, Mapping) else patterns
        self._user = [_compile_user_pattern(name, regex, source) for name, regex in pairs]
        self._fields = frozenset(_user_field(name, source) for name in fields)
        self._field_scanner = rules.field_scanner(self._fields)
        self._rules: dict[str, _FieldRule | None] = {}
        self._keys: dict[str, tuple[_FieldRule | None, str]] = {}
        self._short: dict[str, str] = {}

    @property
    def enabled(self) -> bool:
        """False for ``--no-redact``: everything passes through unchanged."""
        return self._enabled

    @property
    def is_active(self) -> bool:
        """Same as :attr:`enabled`; reads better at call sites (``if redactor.is_active``)."""
        return self._enabled

    def export_metadata(self) -> dict[str, Any]:
        """What an export's header or metadata should record about redaction."""
        return {
            "redacted": self._enabled,
            "placeholder": PLACEHOLDER_FORMAT,
            "user_patterns": [kind for kind, _ in self._user],
            "user_fields": sorted(self._fields),
        }

    # -- text ---------------------------------------------------------------------------------

    def text(self, s: str) -> str:
        """``s`` with every secret in it replaced by its placeholder."""
        if not self._enabled:
            return s
        if len(s) > _SHORT_TEXT:
            return self._replace(s)
        # Roles, model names, ids and enum values repeat all through a trace.
        out = self._short.get(s)
        if out is None:
            out = self._replace(s)
            _remember(self._short, s, out)
        return out

    def _replace(self, s: str) -> str:
        found = self.find(s)
        if not found:
            return s
        parts: list[str] = []
        last = 0
        for match in found:
            parts.append(s[last : match.start])
            parts.append(match.placeholder)
            last = match.end
        parts.append(s[last:])
        return "".join(parts)

    def find(self, s: str) -> list[Match]:
        """The secrets in ``s``, in order, not overlapping. Empty when disabled.

        ``s[m.start:m.end]`` is the raw secret: what a *reveal* shows.
        """
        if not self._enabled:
            return []
        spans = rules.scan(s, self._fields) if len(s) >= 5 else []
        if self._field_scanner is not None:
            spans.extend(rules.scan_fields(s, self._field_scanner, self._fields))
        for kind, pattern in self._user:
            spans.extend(
                (m.start(), m.end(), kind) for m in pattern.finditer(s) if m.end() > m.start()
            )
        if not spans:
            return []
        spans = _merge(spans)
        if _PLACEHOLDER_MARK in s:
            spans = _outside_placeholders(s, spans)
        return [Match(a, b, kind, self._digest(s[a:b], kind)) for a, b, kind in spans]

    def placeholder(self, secret: str, kind: str = "secret") -> str:
        """The placeholder for ``secret`` (for a caller that masks a whole value itself)."""
        return f"«redacted:{kind}#{self._digest(secret, kind)}»"

    def _digest(self, secret: str, kind: str) -> str:
        if kind == "private-key":
            secret = _PEM_NOISE.sub("", secret)
        data = secret.encode("utf-8", "surrogatepass")
        if self._hash_key is None:  # the user's own key, read (or made) on first need
            self._hash_key = user_hash_key()
        return hmac.new(self._hash_key, data, hashlib.sha256).hexdigest()[:6]

    # -- JSON-like values ---------------------------------------------------------------------

    def value(self, obj: Any, key: str | None = None) -> Any:
        """A deep copy of ``obj`` (dicts, lists, tuples, scalars) with secrets masked.

        ``key`` is the field name ``obj`` sits under, when the caller has it: under a sensitive
        name the value is masked whole. Disabled, it returns an equal copy.
        """
        if not self._enabled:
            return _copy(obj)
        if key is not None:
            rule = self._field_rule(key)
            if rule is not None and not (rule.ambiguous and not isinstance(obj, str)):
                return self._mask_field(obj, rule)
        return self._walk(obj)

    def is_sensitive_field(self, name: str) -> bool:
        """True when values under field ``name`` are masked whole."""
        return self._field_rule(name) is not None

    def _walk(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return self._walk_dict(obj)
        if isinstance(obj, list):
            return [self._walk_item(item) for item in obj]
        if isinstance(obj, tuple):
            return tuple(self._walk_item(item) for item in obj)
        return obj

    def _walk_item(self, item: Any) -> Any:
        if isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str):
            rule = self._field_rule(item[0])
            if rule is not None:
                pair = (self.text(item[0]), self._mask_field(item[1], rule))
                return list(pair) if isinstance(item, list) else pair
        return self._walk(item)

    def _walk_dict(self, obj: dict[Any, Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        in_logprobs = "logprob" in obj
        pair_rule = self._pair_rule(obj)
        for key, val in obj.items():
            rule, new_key = self._key(key) if isinstance(key, str) else (None, key)
            if rule is not None and rule.ambiguous and (in_logprobs or not isinstance(val, str)):
                rule = None
            if rule is None and key == "value":
                rule = pair_rule
            out[new_key] = self._walk(val) if rule is None else self._mask_field(val, rule)
        return out

    def _pair_rule(self, obj: dict[Any, Any]) -> _FieldRule | None:
        """For ``{"name": "Authorization", "value": …}`` (HAR, Postman, OTLP) headers."""
        if "value" not in obj:
            return None
        for name_key in ("name", "key", "header"):
            name = obj.get(name_key)
            if isinstance(name, str):
                return self._field_rule(name)
        return None

    def _mask_field(self, val: Any, rule: _FieldRule) -> Any:
        if isinstance(val, str):
            return self._mask_string(val, rule.kind)
        if isinstance(val, bool) or val is None:
            return val
        if isinstance(val, int | float):
            return self.placeholder(str(val), rule.kind) if rule.numbers else val
        if isinstance(val, list):
            return [self._mask_field(item, rule) for item in val]
        if isinstance(val, tuple):
            return tuple(self._mask_field(item, rule) for item in val)
        if isinstance(val, dict):
            return {
                (self.text(k) if isinstance(k, str) else k): self._mask_field(v, rule)
                for k, v in val.items()
            }
        return val

    def _mask_string(self, val: str, kind: str) -> str:
        """Mask a sensitive field's string whole, keeping an auth scheme (``Bearer``) visible."""
        scheme = _SCHEME.match(val)
        prefix, secret = (val[: scheme.end()], val[scheme.end() :]) if scheme else ("", val)
        if not secret.strip() or _PLACEHOLDER.fullmatch(secret.strip()):
            return val
        return prefix + self.placeholder(secret, rules.shape_kind(secret) or kind)

    def _key(self, key: str) -> tuple[_FieldRule | None, str]:
        """The rule for a dict key and the key itself redacted (keys repeat: cached)."""
        known = self._keys.get(key)
        if known is None:
            known = (self._field_rule(key), self.text(key))
            _remember(self._keys, key, known)
        return known

    def _field_rule(self, name: str) -> _FieldRule | None:
        try:
            return self._rules[name]
        except KeyError:
            pass
        norm = rules.normalize_name(name)
        rule = None
        if norm in self._fields or rules.is_sensitive_name(norm):
            rule = _FieldRule(
                rules.kind_for_name(norm), rules.is_password_name(norm), norm == "token"
            )
        _remember(self._rules, name, rule)
        return rule


def _remember(cache: dict[str, _T], key: str, value: _T) -> None:
    """Store in a bounded cache (cleared when full: traces repeat few distinct strings)."""
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def _merge(spans: list[_Span]) -> list[_Span]:
    """Sort and join overlapping spans; the longest part names the kind."""
    spans.sort(key=lambda span: (span[0], -span[1]))
    merged: list[_Span] = []
    longest = 0
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            m_start, m_end, m_kind = merged[-1]
            if end - start > longest:
                m_kind, longest = kind, end - start
            merged[-1] = (m_start, max(m_end, end), m_kind)
        else:
            merged.append((start, end, kind))
            longest = end - start
    return merged


def _outside_placeholders(s: str, spans: list[_Span]) -> list[_Span]:
    """Cut existing placeholders out of the spans, so redacting twice changes nothing.

    A span is never dropped for touching a placeholder: an unterminated PEM block running to
    the end of the string still masks everything up to the placeholder.
    """
    taken = [(m.start(), m.end()) for m in _PLACEHOLDER.finditer(s)]
    if not taken:
        return spans
    pieces: list[_Span] = []
    for start, end, kind in spans:
        for ph_start, ph_end in taken:
            if ph_start < end and start < ph_end:
                if start < ph_start:
                    pieces.append((start, ph_start, kind))
                start = max(start, ph_end)
        if start < end:
            pieces.append((start, end, kind))
    return pieces


def _copy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {key: _copy(val) for key, val in obj.items()}
    if isinstance(obj, list):
        return [_copy(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(_copy(item) for item in obj)
    return obj


# -- configuration ----------------------------------------------------------------------------


def _compile_user_pattern(name: Any, regex: Any, source: str) -> tuple[str, re.Pattern[str]]:
    where = f"{source}: " if source else ""
    norm = rules.normalize_name(name) if isinstance(name, str) else ""
    if not norm:
        raise RedactConfigError(f'{where}every pattern needs a "name" (got {name!r})')
    if not isinstance(regex, str) or not regex:
        raise RedactConfigError(f'{where}pattern {name!r} needs a non-empty "regex" string')
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise RedactConfigError(
            f"{where}pattern {name!r} is not a valid regular expression: {exc.msg}"
            f" at position {exc.pos} in {regex!r}"
        ) from exc
    if compiled.match(""):
        raise RedactConfigError(f"{where}pattern {name!r} matches the empty string: {regex!r}")
    return rules.kind_for_name(norm), compiled


def _user_field(name: Any, source: str) -> str:
    norm = rules.normalize_name(name) if isinstance(name, str) else ""
    if not norm:
        where = f"{source}: " if source else ""
        raise RedactConfigError(f"{where}field names must be non-empty strings (got {name!r})")
    return norm


def read_config(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """The ``(patterns, fields)`` of a ``redact.json`` file; :class:`RedactConfigError` if bad.

    Format: ``{"patterns": [{"name": "acme-key", "regex": "acme_[A-Za-z0-9]{24}"}],
    "fields": ["x-acme-auth"]}``; both keys optional, no others allowed (a misspelt key would
    otherwise silently mask nothing).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RedactConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise RedactConfigError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise RedactConfigError(f'{path}: expected an object with "patterns" and "fields"')
    unknown = sorted(set(data) - {"patterns", "fields"})
    if unknown:
        raise RedactConfigError(
            f'{path}: unknown key {unknown[0]!r} (allowed: "patterns", "fields")'
        )
    patterns, fields = data.get("patterns", []), data.get("fields", [])
    if not isinstance(patterns, list) or not all(isinstance(p, dict) for p in patterns):
        raise RedactConfigError(f'{path}: "patterns" must be a list of {{"name", "regex"}} objects')
    if not isinstance(fields, list):
        raise RedactConfigError(f'{path}: "fields" must be a list of field names')
    return [(p.get("name"), p.get("regex")) for p in patterns], fields


def load_redactor(enabled: bool = True, config_path: str | Path | None = None) -> Redactor:
    """The redactor the app and the CLI use: built-in rules plus the user's ``redact.json``.

    ``enabled=False`` (``--no-redact``) skips the config entirely. Without ``config_path`` the
    file in the config folder is read when it exists; an explicit path must exist. A bad file
    raises :class:`RedactConfigError` with a one-line message naming the file.
    """
    if not enabled:
        return Redactor(enabled=False)
    path = Path(config_path) if config_path is not None else config_dir() / CONFIG_FILE
    if config_path is None and not path.is_file():
        return Redactor()
    patterns, fields = read_config(path)
    return Redactor(patterns=patterns, fields=fields, source=str(path))
