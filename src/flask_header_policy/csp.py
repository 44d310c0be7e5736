"""Content-Security-Policy: a typed, validated value object (W3C CSP3).

Sans-IO: nothing here imports Flask. :func:`parse_policy_list` is the one
lenient grammar (it never raises, the audit uses it);
:meth:`ContentSecurityPolicy.from_header` is the strict reader built on it.
"""

from __future__ import annotations

import base64
import binascii
import collections.abc as cabc
import dataclasses
import difflib
import hashlib
import re
import types
import typing as t

from ._validate import check_value
from ._validate import describe_char
from ._validate import is_token
from ._validate import shown
from .errors import InvalidHeaderError

SELF: t.Final = "'self'"
NONE: t.Final = "'none'"
UNSAFE_INLINE: t.Final = "'unsafe-inline'"
UNSAFE_EVAL: t.Final = "'unsafe-eval'"
STRICT_DYNAMIC: t.Final = "'strict-dynamic'"
UNSAFE_HASHES: t.Final = "'unsafe-hashes'"
REPORT_SAMPLE: t.Final = "'report-sample'"
WASM_UNSAFE_EVAL: t.Final = "'wasm-unsafe-eval'"
UNSAFE_ALLOW_REDIRECTS: t.Final = "'unsafe-allow-redirects'"
TRUSTED_TYPES_EVAL: t.Final = "'trusted-types-eval'"
#: Placeholder for the per-request nonce; ``to_header(nonce=...)`` fills it in.
NONCE: t.Final = "'nonce-{nonce}'"

_HEADER = "Content-Security-Policy"
_KEYWORDS = (
    SELF, NONE, UNSAFE_INLINE, UNSAFE_EVAL, STRICT_DYNAMIC, UNSAFE_HASHES,
    REPORT_SAMPLE, WASM_UNSAFE_EVAL, UNSAFE_ALLOW_REDIRECTS, TRUSTED_TYPES_EVAL,
)  # fmt: skip
_BARE_KEYWORDS = {k.strip("'"): k for k in _KEYWORDS}
# directive name -> kind of value it takes
_KINDS = dict.fromkeys(
    "child-src connect-src default-src font-src frame-src img-src manifest-src"
    " media-src object-src script-src script-src-elem script-src-attr style-src"
    " style-src-elem style-src-attr worker-src base-uri form-action".split(),
    "sources",
) | {
    "frame-ancestors": "ancestors",
    "sandbox": "sandbox",
    "report-uri": "uris",
    "report-to": "endpoint",
    "webrtc": "webrtc",
    "upgrade-insecure-requests": "flag",
    "block-all-mixed-content": "flag",
    "require-trusted-types-for": "sinks",
    "trusted-types": "trusted-types",
}
_DEPRECATED = {
    "plugin-types": "plugins are gone; write object-src 'none'",
    "prefetch-src": "it was removed from CSP3; prefetches follow default-src",
    "navigate-to": "it was removed from CSP3; use form-action for form targets",
    "referrer": "send a Referrer-Policy header instead",
    "reflected-xss": "browsers dropped their XSS auditors; use a strict script-src",
    "disown-opener": "send a Cross-Origin-Opener-Policy header instead",
}
_MAY_BE_EMPTY = {"flag", "sandbox", "trusted-types"}
_STRICT_DYNAMIC_DIRECTIVES = {"default-src", "script-src", "script-src-elem"}
_SANDBOX_FLAGS = frozenset(
    "allow-downloads allow-forms allow-modals allow-orientation-lock"
    " allow-pointer-lock allow-popups allow-popups-to-escape-sandbox"
    " allow-presentation allow-same-origin allow-scripts"
    " allow-storage-access-by-user-activation allow-top-navigation"
    " allow-top-navigation-by-user-activation"
    " allow-top-navigation-to-custom-protocols".split()
)
_DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}
# Schemes that CSP sources name; written without their ":" they are hosts.
_SCHEME_NAMES = frozenset("data blob filesystem mediastream http https ws wss".split())

_ASCII_WS_RE = re.compile(r"[\t\n\f\r ]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_BASE64_VALUE = r"[A-Za-z0-9+/_-]+={0,2}"
_NONCE_VALUE_RE = re.compile(_BASE64_VALUE)
_NONCE_RE = re.compile(rf"'nonce-{_BASE64_VALUE}'")
_HASH_RE = re.compile(rf"'(sha256|sha384|sha512)-({_BASE64_VALUE})'")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_HOST_RE = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9+.-]*://)?"  # scheme-part "://"
    r"(?:\*|(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?)"  # host-part
    r"(?::(?:[0-9]+|\*))?"  # port-part
    r"(?:/[A-Za-z0-9._~%!$&'()*+=:@/-]*)?"  # path-part (";" "," percent-encoded)
)
_URI_RE = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&()*+=%-]+")
_TT_NAME_RE = re.compile(r"[A-Za-z0-9#=_/@.%-]+")

_Value = str | cabc.Iterable[str] | bool | None
_Sources = str | cabc.Iterable[str] | None


class _Keywords(t.TypedDict, total=False):
    child_src: _Sources
    connect_src: _Sources
    default_src: _Sources
    font_src: _Sources
    frame_src: _Sources
    img_src: _Sources
    manifest_src: _Sources
    media_src: _Sources
    object_src: _Sources
    script_src: _Sources
    script_src_elem: _Sources
    script_src_attr: _Sources
    style_src: _Sources
    style_src_elem: _Sources
    style_src_attr: _Sources
    worker_src: _Sources
    base_uri: _Sources
    form_action: _Sources
    frame_ancestors: _Sources
    sandbox: _Sources | bool
    report_uri: _Sources
    report_to: str | None
    webrtc: str | None
    upgrade_insecure_requests: bool
    block_all_mixed_content: bool
    require_trusted_types_for: _Sources
    trusted_types: _Sources | bool


def _fail(reason: str) -> t.NoReturn:
    raise InvalidHeaderError(_HEADER, reason)


def parse_policy_list(value: str) -> list[list[tuple[str, list[str]]]]:
    """Split a ``Content-Security-Policy`` field value, never raising.

    ``,`` separates policies, ``;`` separates directives, ASCII whitespace
    separates the name and its sources. Names are ASCII-lowercased; empty
    directives and empty policies are skipped; duplicates and unknown names
    are kept, in order, for an audit to report (a browser keeps the first).

    :param value: the field value as received.
    :return: one list of ``(name, sources)`` pairs per policy.
    """
    policies = []
    for text in str(value).split(","):
        policy = []
        for directive in text.split(";"):
            tokens = [tok for tok in _ASCII_WS_RE.split(directive) if tok]
            if tokens:
                policy.append((tokens[0].translate(_ASCII_LOWER), tokens[1:]))
        if policy:
            policies.append(policy)
    return policies


def hash_source(text: str | bytes, algorithm: str = "sha256") -> str:
    """Return the hash source, e.g. ``'sha256-...'``, allowing an inline body.

    :param text: the exact body of the inline ``<script>`` or ``<style>``;
        a ``str`` is encoded as UTF-8.
    :param algorithm: ``"sha256"``, ``"sha384"`` or ``"sha512"``.
    """
    if not isinstance(algorithm, str) or algorithm not in _DIGEST_SIZES:
        _fail(f"hash algorithm {shown(algorithm)} is not one of sha256, sha384, sha512")
    if isinstance(text, str):
        surrogate = re.search("[\ud800-\udfff]", text)
        if surrogate is not None:
            _fail(
                f"the text holds a lone surrogate, {describe_char(surrogate.group())}"
                f" at index {surrogate.start()}: it cannot be UTF-8, as the page is"
            )
        data = text.encode()
    elif isinstance(text, bytes | bytearray | memoryview):
        data = bytes(text)
    else:
        _fail(f"hash_source takes the str or bytes of a script, not {shown(text)}")
    digest = hashlib.new(algorithm, data).digest()
    return f"'{algorithm}-{base64.b64encode(digest).decode('ascii')}'"


def _check_name(name: object, *, loose: bool) -> str:
    if not isinstance(name, str):
        _fail(f"a directive name must be a str, not {type(name).__name__}")
    if loose:
        name = name.lower().replace("_", "-")
    if name in _DEPRECATED:
        _fail(f"directive {name!r} is deprecated: {_DEPRECATED[name]}")
    if name not in _KINDS:
        close = difflib.get_close_matches(name, _KINDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        _fail(f"unknown directive {name!r}{hint}")
    return name


def _as_sources(name: str, value: object) -> tuple[str, ...]:
    if value is True:
        if _KINDS[name] not in _MAY_BE_EMPTY:
            _fail(f"{name} takes sources, not True")
        return ()
    if _KINDS[name] == "flag":
        _fail(f"{name} takes no sources; pass True")
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, cabc.Iterable):
        _fail(f"{name} takes a str or a list of str, not {type(value).__name__}")
    return tuple(value)


def _check_source(name: str, src: object) -> None:
    """Check one source on its own: characters, then quoting, nonce, hash, host."""
    if not isinstance(src, str):
        _fail(f"{name}: a source must be a str, not {type(src).__name__} {shown(src)}")
    if not src:
        _fail(f"{name}: empty source")
    for i, char in enumerate(src):
        if char in ";,":
            _fail(
                f"{name}: {char!r} inside source {src!r} would end the"
                f" {'directive' if char == ';' else 'policy'}; percent-encode it"
                " in a URL, or pass each source as its own item"
            )
        if char.isspace():
            _fail(
                f"{name}: whitespace {describe_char(char)} inside source"
                f" {src!r}; pass each source as its own item"
            )
        if not "\x21" <= char <= "\x7e":
            _fail(
                f"{name}: character {describe_char(char)} at index {i} of source"
                f" {src!r}; CSP sources are printable ASCII (punycode a host)"
            )
    if _KINDS[name] not in ("sources", "ancestors"):
        return  # the other kinds are checked as a whole by _check_directive
    if src.startswith("'"):
        if src in _KEYWORDS or src == NONCE or _NONCE_RE.fullmatch(src):
            return
        match = _HASH_RE.fullmatch(src)
        if match is None:
            close = difflib.get_close_matches(src, _KEYWORDS, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            _fail(f"{name}: unknown keyword, nonce or hash {src!r}{hint}")
        algorithm, b64 = match.groups()
        try:
            size = len(base64.b64decode(b64.replace("-", "+").replace("_", "/")))
        except binascii.Error:
            size = -1
        length = (_DIGEST_SIZES[algorithm] + 2) // 3 * 4
        if size != _DIGEST_SIZES[algorithm] or len(b64) != length:
            _fail(
                f"{name}: malformed hash {src!r}; a {algorithm} hash is"
                f" {length} characters of base64 ({_DIGEST_SIZES[algorithm]}"
                " bytes); use hash_source()"
            )
        return
    bare = src.lower()
    if bare in _BARE_KEYWORDS:
        _fail(
            f"{name}: unquoted keyword {src!r} would be read as a host named"
            f" {src!r}; write {bare.upper().replace('-', '_')} /"
            f' "{_BARE_KEYWORDS[bare]}"'
        )
    if bare in _SCHEME_NAMES:
        _fail(
            f"{name}: {src!r} would be read as a host named {src!r}; the scheme"
            f' is written with a colon: "{bare}:"'
        )
    if bare.startswith(("nonce-", "sha256-", "sha384-", "sha512-")):
        _fail(f"{name}: nonce or hash {src!r} must be single-quoted: \"'{src}'\"")
    if not (_SCHEME_RE.fullmatch(src) or _HOST_RE.fullmatch(src)):
        _fail(
            f"{name}: {src!r} is neither a host-source (example.com,"
            " https://*.example.com:443/path) nor a scheme-source (https:)"
        )


def _check_directive(name: str, sources: tuple[str, ...]) -> None:
    """Check a directive's sources as a whole against the grammar of its kind."""
    kind = _KINDS[name]
    if not sources and kind not in _MAY_BE_EMPTY:
        hint = " write [NONE] to block everything;" if kind == "sources" else ""
        _fail(f"{name} needs a value;{hint} omit the directive to leave it unset")
    if kind == "flag" and sources:
        _fail(f"{name} takes no sources, got {sources[0]!r}; pass True")
    for src in sources:
        _check_source(name, src)
    others = [src for src in sources if src != NONE]
    if NONE in sources and others:
        _fail(f"{name}: 'none' cannot be combined with other sources ({others[0]!r})")
    if kind == "sources":
        if (
            STRICT_DYNAMIC in sources
            and name in _STRICT_DYNAMIC_DIRECTIVES
            and not any(s.startswith(("'nonce-", "'sha")) for s in sources)
        ):
            _fail(
                f"{name}: 'strict-dynamic' without a nonce or hash in the same"
                " directive blocks every script; add NONCE or hash_source(...)"
            )
    elif kind == "ancestors":
        for src in sources:
            if src.startswith("'") and src not in (SELF, NONE):
                _fail(f"{name}: {src!r} is not allowed; only 'self', 'none', hosts")
    elif kind == "uris":
        for src in sources:
            if src.startswith("'") or not _URI_RE.fullmatch(src):
                _fail(f"{name}: {src!r} is not a URL (percent-encode ',' and ';')")
    elif kind == "endpoint":
        if len(sources) != 1 or not is_token(sources[0]) or sources[0][0] == "'":
            _fail(
                f"{name} takes one endpoint name (a token declared in"
                f" Reporting-Endpoints), got {' '.join(sources)!r}"
            )
    elif kind == "webrtc":
        if sources not in (("'allow'",), ("'block'",)):
            _fail(f"{name} takes \"'allow'\" or \"'block'\", got {' '.join(sources)!r}")
    elif kind == "sandbox":
        for src in sources:
            if src not in _SANDBOX_FLAGS:
                known = ", ".join(sorted(_SANDBOX_FLAGS))
                _fail(f"{name}: unknown flag {src!r}; known flags: {known}")
    elif kind == "sinks":
        for src in sources:
            if src != "'script'":
                _fail(f"{name}: unknown sink group {src!r}; write \"'script'\"")
    elif kind == "trusted-types":
        for src in sources:
            allowed = src in (NONE, "'allow-duplicates'", "*")
            if not (allowed or _TT_NAME_RE.fullmatch(src)):
                _fail(f"{name}: {src!r} is not a policy name or keyword")


@dataclasses.dataclass(frozen=True, slots=True, init=False, repr=False)
class ContentSecurityPolicy:
    """An immutable, validated ``Content-Security-Policy``.

    Directives keep their declaration order. Give them as a mapping (real
    names) and/or keywords (``_`` for ``-``); a single source may be a plain
    ``str``; boolean directives take ``True``; ``None`` or ``False`` omits one::

        ContentSecurityPolicy(
            {"default-src": NONE}, script_src=[NONCE, STRICT_DYNAMIC],
            base_uri=NONE, upgrade_insecure_requests=True,
        )

    Equality and hashing follow the directives, in order.

    :param policy: a mapping, or ``(name, value)`` pairs.
    :param directives: one keyword per directive.
    :raise InvalidHeaderError: naming the directive and the token at fault.
    """

    header_name: t.ClassVar[str] = _HEADER
    _directives: tuple[tuple[str, tuple[str, ...]], ...]

    def __init__(
        self,
        policy: cabc.Mapping[str, _Value] | cabc.Iterable[tuple[str, _Value]] = (),
        /,
        **directives: t.Unpack[_Keywords],
    ) -> None:
        pairs = policy.items() if isinstance(policy, cabc.Mapping) else policy
        loose = [(_check_name(n, loose=True), v) for n, v in pairs]
        loose += [(_check_name(n, loose=True), v) for n, v in directives.items()]
        given = [(n, v) for n, v in loose if v is not None and v is not False]
        self._set((n, _as_sources(n, v)) for n, v in given)

    def _set(self, pairs: cabc.Iterable[tuple[str, tuple[str, ...]]]) -> None:
        result: dict[str, tuple[str, ...]] = {}
        for name, sources in pairs:
            if name in result:
                _fail(f"directive {name!r} is declared twice (browsers drop the 2nd)")
            _check_directive(name, sources)
            result[name] = tuple(dict.fromkeys(sources))  # drop repeated sources
        if not result:
            _fail("the policy has no directives")
        object.__setattr__(self, "_directives", tuple(result.items()))

    @classmethod
    def _build(cls, pairs: cabc.Iterable[tuple[str, tuple[str, ...]]]) -> t.Self:
        new = object.__new__(cls)
        new._set(pairs)
        return new

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read one policy strictly: every rule of the constructor applies.

        :param value: a single policy (no ``,``); a nonce source stays a
            concrete ``'nonce-...'``, never the :data:`NONCE` placeholder.
        :raise InvalidHeaderError: for a ``,``, a repeated or unknown
            directive, or any source the constructor would refuse.
        """
        if not isinstance(value, str):
            _fail(f"from_header takes a str, not {type(value).__name__}")
        check_value(_HEADER, value.strip(" \t"))
        if "," in value:
            _fail(
                f"',' at index {value.index(',')} separates policies; from_header"
                " reads one policy (parse_policy_list reads a list)"
            )
        policies = parse_policy_list(value) or [[]]
        pairs = [(_check_name(n, loose=False), tuple(s)) for n, s in policies[0]]
        for name, sources in pairs:
            if NONCE in sources:
                _fail(f"{name}: {NONCE} is the placeholder's display form, not a nonce")
        return cls._build(pairs)

    @property
    def directives(self) -> cabc.Mapping[str, tuple[str, ...]]:
        """A read-only ``name -> sources`` view, in declaration order."""
        return types.MappingProxyType(dict(self._directives))

    @property
    def uses_nonce(self) -> bool:
        """Whether a directive holds the :data:`NONCE` placeholder."""
        return any(NONCE in sources for _, sources in self._directives)

    def __getitem__(self, name: str) -> tuple[str, ...]:
        """The sources of ``name`` (``_`` may stand for ``-``).

        :raise KeyError: the directive is not set.
        """
        return self.directives[name.lower().replace("_", "-")]

    def get(
        self, name: str, default: tuple[str, ...] | None = None
    ) -> tuple[str, ...] | None:
        """The sources of ``name``, or ``default`` when it is not set."""
        return self.directives.get(name.lower().replace("_", "-"), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> cabc.Iterator[str]:
        return (name for name, _ in self._directives)

    def with_sources(self, directive: str, *sources: str) -> t.Self:
        """Return a copy with ``sources`` appended to ``directive``.

        The directive is added at the end if it is not set; sources already
        present are not repeated. Typical use: a view allowing one more host.
        """
        name = _check_name(directive, loose=True)
        current = dict(self._directives)
        current[name] = current.get(name, ()) + sources
        return self._build(current.items())

    def with_directive(self, directive: str, *sources: str) -> t.Self:
        """Return a copy where ``directive`` holds exactly ``sources``.

        The directive keeps its place if set, else is added at the end; give
        no sources for a boolean directive such as upgrade-insecure-requests.
        """
        name = _check_name(directive, loose=True)
        return self._build({**dict(self._directives), name: sources}.items())

    def without(self, *directives: str) -> t.Self:
        """Return a copy without ``directives``; one that is not set is fine."""
        names = {_check_name(d, loose=True) for d in directives}
        return self._build(p for p in self._directives if p[0] not in names)

    def to_template(self) -> tuple[str, ...]:
        """The field value cut where the nonce goes, around each :data:`NONCE`.

        ``nonce.join(policy.to_template())`` is ``to_header(nonce=nonce)``.
        The cuts come from the placeholders themselves, never from searching
        the rendered text, so no host or report URL can pose as a nonce.
        """
        parts = [""]
        for index, (name, sources) in enumerate(self._directives):
            parts[-1] += ("; " if index else "") + name
            for source in sources:
                if source == NONCE:
                    parts[-1] += " 'nonce-"
                    parts.append("'")
                else:
                    parts[-1] += " " + source
        return tuple(parts)

    def to_header(self, *, nonce: str | None = None) -> str:
        """Render the field value, with ``nonce`` in place of :data:`NONCE`.

        :param nonce: this request's nonce (base64 or base64url characters);
            ignored when the policy has no :data:`NONCE`.
        :raise InvalidHeaderError: a nonce policy rendered without a nonce,
            or a nonce with characters outside base64.
        """
        if nonce is None:
            if self.uses_nonce:
                _fail(
                    "the policy uses NONCE but no nonce was given; a nonce is"
                    " per request: call to_header(nonce=...) for each response"
                )
            nonce = ""
        elif not isinstance(nonce, str) or not _NONCE_VALUE_RE.fullmatch(nonce):
            _fail(f"nonce {shown(nonce)} is not base64 or base64url")
        return check_value(_HEADER, nonce.join(self.to_template()))

    def __str__(self) -> str:
        return "{nonce}".join(self.to_template())

    def __repr__(self) -> str:
        body = {name: list(sources) or True for name, sources in self._directives}
        return f"{type(self).__name__}({body!r})"
