"""What :mod:`trace_tui.core.text.redact` looks for: secret shapes, sensitive names, trigger words.

Kept apart from the redaction logic so the list of shapes reads as one table. Three kinds of
rule live here:

* **Shapes**: a secret recognisable on its own (``sk-…``, ``AKIA…``, a JWT, a PEM private key
  block). The whole match is masked.
* **Contexts**: a secret recognisable by what stands before it (``Authorization: Bearer …``,
  ``?api_key=…``, ``password: …``, ``https://user:pass@host``). Only the ``v_…`` group is
  masked; the name stays visible so the reader still knows what was there.
* **Sensitive names** of JSON fields, headers and query parameters, matched on a normalised
  name (lower case, ``-``/``.``/camelCase turned into ``_``), so ``X-Api-Key``, ``x_api_key``
  and ``xApiKey`` are one name.

Every rule starts at a *trigger* substring (``sk-``, ``eyj``, ``password``, ``key``…).
:func:`scan` finds the triggers in the lower-cased string with ``str.find`` (a string without
any returns at once: the fast path; a short one is checked with one regex search instead) and
tries a small compiled alternation with ``.match`` at each: all the shapes at a shape trigger,
the ``name = value`` rules at ``password``, the bearer rule at ``bearer``… No regex ever walks a
string position by position, which in Python's ``re`` costs ~30 µs per rule per KB. The
outermost named group (``match.lastgroup``) says which rule matched; names and values are then
checked in Python (is ``DB_PASSWORD`` sensitive? is ``12`` a count?).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from functools import lru_cache

# ---------------------------------------------------------------------------------------------
# Shapes: self-describing secrets. Group name -> (kind shown in the placeholder, regex source).
# Order matters only between rules that can start at the same position (Anthropic before the
# generic ``sk-`` rule).

_KEY_CHARS = r"[A-Za-z0-9_-]"


def _starts_word(chars: str) -> str:
    """Not preceded by one of ``chars``, or preceded by a JSON escape (``\\n``, ``\\t``…)."""
    return rf"(?:(?<!{chars})|(?<=\\[nrtbf]))"


SHAPES: dict[str, tuple[str, str]] = {
    "private_key": (
        "private-key",
        r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)",
    ),
    "anthropic_key": ("anthropic-key", rf"{_starts_word(_KEY_CHARS)}sk-ant-{_KEY_CHARS}{{20,}}"),
    "openai_key": (
        "openai-key",
        rf"{_starts_word(_KEY_CHARS)}sk-(?={_KEY_CHARS}*[0-9]){_KEY_CHARS}{{20,}}",
    ),
    "aws_access_key_id": (
        "aws-access-key-id",
        _starts_word("[A-Za-z0-9]") + r"(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])",
    ),
    "stripe_key": (
        "stripe-key",
        _starts_word("[A-Za-z0-9_]") + r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",
    ),
    "huggingface_token": (
        "huggingface-token",
        _starts_word("[A-Za-z0-9_]") + r"hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9])",
    ),
    "google_api_key": ("google-api-key", rf"{_starts_word(_KEY_CHARS)}AIza{_KEY_CHARS}{{35,}}"),
    "github_token": (
        "github-token",
        _starts_word("[A-Za-z0-9_]")
        + r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
    ),
    "slack_token": (
        "slack-token",
        _starts_word("[A-Za-z0-9]")
        + r"(?:xox[abprs]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,})",
    ),
    "jwt": (
        "jwt",
        rf"{_starts_word(_KEY_CHARS)}eyJ{_KEY_CHARS}{{8,}}\.{_KEY_CHARS}{{8,}}\."
        rf"(?:{_KEY_CHARS}+(?:\.{_KEY_CHARS}+){{0,2}})?",
    ),
}

# ---------------------------------------------------------------------------------------------
# Contexts: a name or scheme, then the secret in a ``v_…`` group. Every rule starts at its
# trigger word (see TRIGGERS); the whole name around the word (``DB_PASSWORD`` around
# ``PASSWORD``) is read in Python and checked against the sensitive names below, so
# ``monkey=`` and ``max_token:`` are not taken for ``key=`` and ``token:``.

_SEPARATOR = r"\\?[\"']?[ \t]*(?::=|=>|[:=])[ \t]*"
AUTH_SCHEMES = r"bearer|basic|token|digest|bot|apikey|sso-key"
_WORDS = r"password|passwd|passphrase|pwd|secret|token|key|credentials?|auth|jwt|signature|sig"

#: After a name: the separator and the value, double-quoted (also JSON-escaped ``\\"``),
#: single-quoted or bare.
_ASSIGNED = (
    rf"{_SEPARATOR}(?:\\?\"(?P<v_assign_dq>[^\"\\\r\n«]+)|'(?P<v_assign_sq>[^'\\\r\n«]+)"
    r"|(?P<v_assign>[^\s\"'\\,;&<>«(){}\[\]]+))"
)

CONTEXTS: dict[str, tuple[str, str]] = {
    "url_password": (
        "url-password",
        r"(?<=://)[^/\s:@«\"'<>]*:(?P<v_url_password>[^/\s@«\"'<>]+)@",
    ),
    "header": (
        "header",
        _starts_word("[A-Za-z0-9]") + r"(?P<n_header>(?i:authorization|cookie))"
        rf"{_SEPARATOR}\\?[\"']?(?:(?i:{AUTH_SCHEMES})[ \t]+)?"
        # the credential only: one token (a cookie list: name=value pairs joined by "; "),
        # never the ordinary text after it on the line
        r"(?P<v_header>[^\s\"'\\«;,]+(?:;[ \t]*[^\s\"'\\«;,=]+=[^\s\"'\\«;,]*)*)",
    ),
    "bearer": (
        "bearer-token",
        _starts_word("[A-Za-z0-9]") + r"(?i:bearer)[ \t]+(?P<v_bearer>[A-Za-z0-9._~+/-]{8,}=*)",
    ),
    "basic": (
        "basic-auth",
        _starts_word("[A-Za-z0-9]") + r"(?i:basic)[ \t]+"
        r"(?P<v_basic>[A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])",
    ),
    "url_param": (
        "url-param",
        rf"(?P<n_url_param>(?i:{_WORDS}))=(?P<v_url_param>[^&#\s\"'<>\\«]+)",
    ),
    "assign": ("secret", rf"(?P<n_assign>(?i:{_WORDS})){_ASSIGNED}"),
}

#: Value groups of each context rule, in the order they are tried.
VALUE_GROUPS: dict[str, tuple[str, ...]] = {
    "url_password": ("v_url_password",),
    "url_param": ("v_url_param",),
    "header": ("v_header",),
    "bearer": ("v_bearer",),
    "basic": ("v_basic",),
    "assign": ("v_assign_dq", "v_assign_sq", "v_assign"),
}
#: Group holding the name, for rules that have one.
NAME_GROUPS: dict[str, str] = {
    "url_param": "n_url_param",
    "header": "n_header",
    "assign": "n_assign",
}

#: Group name -> kind, for every rule.
KINDS: dict[str, str] = {group: kind for group, (kind, _) in {**SHAPES, **CONTEXTS}.items()}


def _alternation(table: dict[str, tuple[str, str]]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<{group}>{src})" for group, (_, src) in table.items()))


#: The shapes alone: tried at shape triggers, and "is this whole value a known key?".
SHAPE_SCANNER = _alternation(SHAPES)
#: ``user:password@`` after ``://``.
URL_PASSWORD_SCANNER = _alternation({"url_password": CONTEXTS["url_password"]})
#: ``name = value`` alone, tried when ``name=value`` turned out not to be a URL parameter.
ASSIGN = _alternation({"assign": CONTEXTS["assign"]})


def _contexts(*groups: str) -> re.Pattern[str]:
    return _alternation({group: CONTEXTS[group] for group in groups})


#: The scanners tried at triggers; a trigger names one by its index (small alternations are
#: cheaper: ``password`` in prose only needs the ``name = value`` rules tried and rejected).
SCANNERS: tuple[re.Pattern[str], ...] = (
    SHAPE_SCANNER,
    URL_PASSWORD_SCANNER,
    _contexts("header", "url_param", "assign"),
    _contexts("header"),
    _contexts("bearer"),
    _contexts("basic"),
    _contexts("url_param", "assign"),
)
_SHAPE, _URL_PASSWORD, _AUTH, _COOKIE, _BEARER, _BASIC, _PARAM = range(len(SCANNERS))
SCANNER_BITS = 3

# ---------------------------------------------------------------------------------------------
# Triggers: every rule starts at (trigger position + offset), with the trigger found in the
# lower-cased string; the scanner named next to it is tried there. A string holding none of
# them is returned at once: the fast path. Each group is searched only when its gate (a
# character every rule of the group needs, found with one fast ``in``) is present.

Trigger = tuple[str, int, int]  # (substring, offset of the rule's start, index in SCANNERS)
TRIGGER_GROUPS: tuple[tuple[tuple[str, ...], tuple[Trigger, ...]], ...] = (
    ((), (("akia", 0, _SHAPE), ("asia", 0, _SHAPE), ("aiza", 0, _SHAPE), ("eyj", 0, _SHAPE))),
    ((), (("bearer", 0, _BEARER), ("basic", 0, _BASIC))),
    (
        ("-",),
        (("-----begin", 0, _SHAPE), ("sk-", 0, _SHAPE), ("xox", 0, _SHAPE), ("xapp-", 0, _SHAPE)),
    ),
    (
        ("_",),
        (
            ("ghp_", 0, _SHAPE),
            ("gho_", 0, _SHAPE),
            ("ghu_", 0, _SHAPE),
            ("ghs_", 0, _SHAPE),
            ("ghr_", 0, _SHAPE),
            ("github_pat_", 0, _SHAPE),
            ("sk_live_", 0, _SHAPE),
            ("sk_test_", 0, _SHAPE),
            ("rk_live_", 0, _SHAPE),
            ("hf_", 0, _SHAPE),
        ),
    ),
    ((":",), (("://", 3, _URL_PASSWORD),)),
    (
        (":", "="),
        (
            ("auth", 0, _AUTH),
            ("cookie", 0, _COOKIE),
            ("pass", 0, _PARAM),
            ("pwd", 0, _PARAM),
            ("secret", 0, _PARAM),
            ("token", 0, _PARAM),
            ("key", 0, _PARAM),
            ("credential", 0, _PARAM),
            ("jwt", 0, _PARAM),
            ("sig", 0, _PARAM),
        ),
    ),
)

#: Any trigger at all: the fast path for short strings, where one regex search is cheaper than
#: a ``find`` per trigger (for long strings the gated ``find`` calls are cheaper).
ANY_TRIGGER = re.compile(
    "|".join(re.escape(trigger) for _, group in TRIGGER_GROUPS for trigger, _, _ in group)
)
SHORT_STRING = 128

# ---------------------------------------------------------------------------------------------
# Sensitive names (fields, headers, query parameters), on the normalised name.

_SENSITIVE_NAME = re.compile(
    r"(?:^|_)(?:authorization|auth|cookies?|set_cookie|passwords?|passwd|passphrase|secrets?"
    r"|token|api_?keys?|access_key|secret_key|private_key|signing_key|encryption_key"
    r"|master_key|account_key|subscription_key|auth_key|credentials?|jwt)$"
)
#: Names that end like a secret but hold none: pagination cursors, tokenizer special tokens,
#: latency measurements.
_NOT_SENSITIVE = re.compile(
    r"(?:^|_)(?:next_page|page|next|continuation|pagination|sync|bos|eos|pad|unk|sep|cls|mask"
    r"|stop|special|first|per|last|start|end|max|min|num|total|count)_token$"
)
#: Names under which a number is masked too (a numeric password is still a password).
_PASSWORD_NAME = re.compile(r"(?:^|_)(?:passwords?|passwd|passphrase)$")
#: Extra query-parameter names that are secrets in a URL but not as JSON fields.
_URL_ONLY_NAME = re.compile(r"(?:^|_)(?:key|sig|signature|pwd)$")

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=8192)
def normalize_name(name: str) -> str:
    """``X-Api-Key``, ``x.api_key`` and ``xApiKey`` all become ``x_api_key``."""
    return _SEPARATORS.sub("_", _CAMEL.sub("_", name).lower()).strip("_")


def is_sensitive_name(normalized: str) -> bool:
    """True when a field of this (normalised) name holds a secret by the built-in rules."""
    return bool(_SENSITIVE_NAME.search(normalized)) and not _NOT_SENSITIVE.search(normalized)


def is_password_name(normalized: str) -> bool:
    """True for password-like names, under which numbers are masked as well as strings."""
    return bool(_PASSWORD_NAME.search(normalized))


def is_sensitive_url_param(normalized: str) -> bool:
    """True when a URL query parameter of this (normalised) name carries a secret."""
    return is_sensitive_name(normalized) or bool(_URL_ONLY_NAME.search(normalized))


def kind_for_name(normalized: str) -> str:
    """A placeholder kind made from a field name: ``x_api_key`` -> ``x-api-key``."""
    return normalized.replace("_", "-")[:40].strip("-") or "secret"


# ---------------------------------------------------------------------------------------------
# The scanner.

Span = tuple[int, int, str]
_SCHEME_WORDS = frozenset(AUTH_SCHEMES.split("|"))
_ALNUM = re.compile(r"[A-Za-z0-9]")
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
#: Unquoted words after ``password:`` that are code or placeholders, not a secret.
_NOT_A_VALUE = frozenset(
    "none null nil true false undefined str string bytes int optional any secretstr required"
    " env unset empty".split()
)
_QUERY_STARTS = ("?", "&", "#", ";")
#: How much of the string a rule glued to a masked secret may see (see :func:`scan`).
_GLUED_VIEW = 1 << 16
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def _anchors(s: str) -> list[int]:
    """Sorted ``position << SCANNER_BITS | scanner index`` of every place a rule may start.

    Empty for most strings. Packing both in one int keeps the sort cheap.
    """
    low = s.lower()
    if len(low) != len(s):  # a rare character lower-cases to two: keep positions aligned
        low = s.translate(_ASCII_LOWER)
    if len(s) < SHORT_STRING and ANY_TRIGGER.search(low) is None:
        return []
    found: list[int] = []
    for gates, triggers in TRIGGER_GROUPS:
        if gates and not _any_in(gates, s):
            continue
        for trigger, offset, scanner in triggers:
            at = low.find(trigger)
            while at >= 0:
                found.append((at + offset) << SCANNER_BITS | scanner)
                at = low.find(trigger, at + 1)
    found.sort()
    return found


def _any_in(chars: tuple[str, ...], s: str) -> bool:
    for char in chars:
        if char in s:
            return True
    return False


def scan(s: str, fields: frozenset[str] = frozenset()) -> list[Span]:
    """``(start, end, kind)`` of every built-in secret in ``s``, sorted by start.

    ``fields`` are extra (normalised) sensitive names from the user. A context span may
    overlap a shape found inside its value; the caller merges them.
    """
    spans: list[Span] = []
    floor = last_end = 0
    mask = (1 << SCANNER_BITS) - 1
    for packed in _anchors(s):
        anchor = packed >> SCANNER_BITS
        if anchor < floor:
            continue
        scanner = SCANNERS[packed & mask]
        glued = anchor == last_end > 0
        if not glued and scanner.match(s, anchor) is None:
            continue  # the common case: a trigger word in ordinary text
        found = _rule_at(s, anchor, scanner, fields, last_end)
        if found is None and glued:
            # Glued to the secret just masked: judge it as a second pass will, with the
            # placeholder (not the secret's last character) in front, so that redacting
            # twice changes nothing.
            found = _rule_at(s[anchor : anchor + _GLUED_VIEW], 0, scanner, fields, 0, anchor)
        if found is None:
            floor = anchor + 1
            continue
        span, is_shape = found
        spans.append(span)
        # After a context, keep scanning inside its value: a PEM block whose escaped newlines
        # cut a quoted value short is still found whole by its shape, and the spans merge.
        floor = span[1] if is_shape else span[0]
        last_end = max(last_end, span[1])
    if spans:
        spans = [_with_continuation(s, span) for span in spans]
    if len(s) >= AWS_SECRET_LENGTH and _has_key_run(s):
        spans.extend(_aws_secret_keys(s))
        spans.sort()
    return spans


#: Kinds whose value is a random token: if the line breaks right after one and the next line
#: goes on with token characters, that is the rest of the key (a key wrapped or split in two).
_SPLITTABLE = frozenset(
    "openai-key anthropic-key github-token slack-token google-api-key stripe-key "
    "huggingface-token jwt bearer-token header url-param secret".split()
)
_CONTINUATION = re.compile(
    r"(?:\r?\n|(?:\\r)?\\n)[ \t]*([A-Za-z0-9_.+/=-]{6,})(?=[\s\"'\\,;)}\]]|$)"
)


def _with_continuation(s: str, span: Span) -> Span:
    """``span`` extended over the second half of a key split by a newline."""
    if span[2] not in _SPLITTABLE:
        return span
    match = _CONTINUATION.match(s, span[1])
    if match is None or not _looks_random(match.group(1)):
        return span
    return (span[0], match.end(), span[2])


def _looks_random(text: str) -> bool:
    """A digit, or capitals inside the word: a key's fragment, not the next line's word."""
    if any(c.isdigit() for c in text):
        return True
    return len(text) >= 12 and sum(c.isupper() for c in text[1:]) >= 2


#: An AWS secret access key: 40 characters of ``[A-Za-z0-9/+]`` standing alone.
AWS_SECRET_LENGTH = 40
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_KEY_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+")
_RUN_TABLE = bytes(0x61 if code in _KEY_BYTES else 0x20 for code in range(256))
_RUN = b"a" * AWS_SECRET_LENGTH


def _has_key_run(s: str) -> bool:
    """Is there a run of 40 key characters at all? (a C-speed byte table, no regex walk)"""
    return _RUN in s.encode("utf-8", "surrogatepass").translate(_RUN_TABLE)
_HEX = frozenset("0123456789abcdefABCDEF")


def _aws_secret_keys(s: str) -> list[Span]:
    """Standalone AWS secret access keys: mixed case and digits (never a hex digest or a
    git SHA, never a piece of a longer base64 run)."""
    out = []
    for match in _AWS_SECRET.finditer(s):
        key = match.group(0)
        if (
            any(c.isupper() for c in key)
            and any(c.islower() for c in key)
            and any(c.isdigit() for c in key)
            and not set(key) <= _HEX
        ):
            out.append((match.start(), match.end(), "aws-secret-access-key"))
    return out


def _rule_at(
    s: str, at: int, scanner: re.Pattern[str], fields: frozenset[str], floor: int, shift: int = 0
) -> tuple[Span, bool] | None:
    """The span of the rule matching at ``at`` and whether it is a shape; None if none does.

    Names are never read back past ``floor`` (the end of the last masked span). Positions
    are moved by ``shift`` (when ``s`` is a slice).
    """
    m = scanner.match(s, at)
    if m is None:
        return None
    group = m.lastgroup or ""
    if group in SHAPES:
        return (m.start() + shift, m.end() + shift, KINDS[group]), True
    span = _context_span(s, m, group, fields, floor)
    if span is None:
        return None
    return (span[0] + shift, span[1] + shift, span[2]), False


def _context_span(
    s: str, m: re.Match[str], group: str, fields: frozenset[str], floor: int = 0
) -> Span | None:
    """The span to mask for a context match, or None when it is a lookalike."""
    start, end = _value_span(m, group)
    kind = _accept_context(s, m, group, s[start:end], fields, floor)
    if kind is None and group == "url_param":  # not in a URL: maybe ``api_key=…`` in text
        retry = ASSIGN.match(s, m.start())
        if retry is not None:
            m, group = retry, "assign"
            start, end = _value_span(m, group)
            kind = _accept_context(s, m, group, s[start:end], fields, floor)
    return None if kind is None else (start, end, kind)


def _value_span(m: re.Match[str], group: str) -> tuple[int, int]:
    for name in VALUE_GROUPS[group]:
        if m.start(name) >= 0:
            return m.start(name), m.end(name)
    return m.start(), m.end()  # pragma: no cover - every context rule has a value group


def _accept_context(
    s: str, m: re.Match[str], group: str, value: str, fields: frozenset[str], floor: int
) -> str | None:
    """The kind to mask a context match with, or None when it is a lookalike."""
    if not _ALNUM.search(value):
        return None
    if group == "bearer":
        plausible = len(value) >= 20 or _has_digit(value)
        return (shape_kind(value) or "bearer-token") if plausible else None
    if group == "basic":
        return "basic-auth" if _is_basic_credential(value) else None
    if group == "url_password":
        return "url-password"
    name_group = NAME_GROUPS[group]
    name_start, name = _name_before(s, m.start(name_group), m.end(name_group), floor)
    norm = normalize_name(name)
    if group == "header":
        if value.lower() in _SCHEME_WORDS:
            return None
    elif group == "url_param":
        if name_start <= floor or s[name_start - 1] not in _QUERY_STARTS:
            return None
        if norm not in fields and not is_sensitive_url_param(norm):
            return None
    else:
        if norm not in fields and not is_sensitive_name(norm):
            return None
        if not _plausible_assigned_value(s, m, value, norm):
            return None
    return shape_kind(value) or kind_for_name(norm)


def _name_before(s: str, start: int, end: int, floor: int) -> tuple[int, str]:
    """Where the whole name ending with a trigger word starts, and the name itself.

    ``DB_PASSWORD`` for ``PASSWORD``; ``apiKey`` for ``Key``; ``X-Amz-Signature``.
    """
    floor = max(floor, start - 64)
    while start > floor and s[start - 1] in _NAME_CHARS:
        if s[start - 2 : start - 1] == "\\" and s[start - 1] in "nrtbf":
            break  # ``\nDB_PASSWORD``: the name starts after the escape
        start -= 1
    return start, s[start:end]


def _plausible_assigned_value(s: str, m: re.Match[str], value: str, norm: str) -> bool:
    """Reject ``token: 12``, ``password: str``, ``token = get_token()`` and the like."""
    if _NUMBER.fullmatch(value) and not is_password_name(norm):
        return False
    if m.start("v_assign") < 0 or _holds_shape(value):
        return True  # quoted, or holding a key: taken as written
    if value.lower() in _NOT_A_VALUE or value.lower() in _SCHEME_WORDS:
        return False
    if s[m.end() : m.end() + 1] in ("(", "["):
        return False
    return not (_IDENTIFIER.fullmatch(value) and is_sensitive_name(normalize_name(value)))


def _holds_shape(value: str) -> bool:
    """True when a known key shape starts somewhere in ``value``."""
    return any(
        packed & ((1 << SCANNER_BITS) - 1) == _SHAPE
        and SHAPE_SCANNER.match(value, packed >> SCANNER_BITS) is not None
        for packed in _anchors(value)
    )


def _has_digit(value: str) -> bool:
    return any(ch.isdigit() for ch in value)


def _is_basic_credential(value: str) -> bool:
    """``Basic dXNlcjpwYXNz`` is base64 of ``user:pass``; ``Basic authentication`` is not."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded


def shape_kind(value: str) -> str | None:
    """The shape kind when ``value`` is exactly one known key shape (``openai-key``…)."""
    m = SHAPE_SCANNER.fullmatch(value.strip())
    return KINDS[m.lastgroup] if m is not None and m.lastgroup else None


def field_scanner(names: Iterable[str]) -> re.Pattern[str] | None:
    """``name: value`` / ``name=value`` in free text for the user's extra (normalised) names.

    ``x_acme_auth`` also finds ``X-Acme-Auth:``, ``x.acme.auth=`` and ``xAcmeAuth:``.
    """
    parts = sorted({name for name in names if name}, key=len, reverse=True)
    if not parts:
        return None
    alternatives = "|".join(r"[-_.]?".join(map(re.escape, name.split("_"))) for name in parts)
    return re.compile(
        rf"{_starts_word('[A-Za-z0-9_.-]')}(?P<n_assign>(?i:{alternatives})){_ASSIGNED}"
    )


def scan_fields(s: str, scanner: re.Pattern[str], fields: frozenset[str]) -> list[Span]:
    """Spans of the values of the user's field names in ``s`` (see :func:`field_scanner`)."""
    if ":" not in s and "=" not in s:
        return []
    spans: list[Span] = []
    for m in scanner.finditer(s):
        span = _context_span(s, m, "assign", fields)
        if span is not None:
            spans.append(span)
    return spans
