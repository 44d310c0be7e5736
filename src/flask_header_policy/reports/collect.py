"""Read violation reports as browsers send them, and normalise them (sans-IO).

Three bodies are accepted: ``application/csp-report`` (the legacy
``report-uri`` format, one ``{"csp-report": {...}}`` object),
``application/reports+json`` (the Reporting API: an array of reports of any
type) and ``application/json`` (either shape). Everything read from a report
is bounded before it is looked at: the body (64 KiB), the JSON nesting depth,
each string's length, and every string is cleaned of control characters,
lone surrogates and bidirectional overrides, so it can be stored in any
database and printed on any terminal.

Nothing here imports Flask: the collector (``collector.py``) gives
:func:`read_reports` the body and the media type, then turns each
:class:`RawReport` into a :class:`Report` with the route it maps to.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import math
import re
import typing as t
import urllib.parse

__all__ = [
    "MAX_BODY",
    "MEDIA_TYPES",
    "RawReport",
    "Report",
    "ReportError",
    "blocked_source",
    "browser_family",
    "clean",
    "document_url",
    "read_reports",
]

#: The largest body accepted, in bytes; a larger one is answered with 413.
MAX_BODY = 64 * 1024
#: Reports are objects in an array at most: anything deeper is not a report.
MAX_DEPTH = 8
#: The media types the collector accepts.
MEDIA_TYPES = frozenset(
    {"application/csp-report", "application/reports+json", "application/json"}
)

# Bounds for what is kept of each field (code points).
_URL_LIMIT = 1024
_SHORT_LIMIT = 100
_SAMPLE_LIMIT = 80
_UA_LIMIT = 512
# Reporting API type names are short tokens ("csp-violation").
_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
# What JSON nesting is made of; everything else is skipped by the scanner.
_JSON_SYNTAX_RE = re.compile(r'["\\\[\]{}]')
# C0 and C1 controls, DEL, surrogates (from \\ud800-style escapes), and the
# bidirectional overrides that can make a terminal line lie.
_UNSAFE_RE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


class ReportError(ValueError):
    """A body the collector refuses, with the HTTP status to answer.

    :param status: 400 (malformed or wrong shape), 413 (too large) or 415
        (not a report media type).
    :param reason: one sentence, safe to send back.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def clean(value: str, limit: int) -> str:
    """``value`` with every unsafe character replaced by U+FFFD, cut to ``limit``.

    Unsafe: control characters (C0, C1, DEL), lone surrogates and the
    bidirectional formatting characters.
    """
    return _UNSAFE_RE.sub("\ufffd", value[:limit])


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit``, in one linear pass.

    Runs before :func:`json.loads`, which recurses once per level. Only the
    characters that matter (brackets, quotes, backslashes) are visited.

    :raise ReportError: 400 when the nesting is deeper than ``limit``.
    """
    if text.count("[") + text.count("{") <= limit:
        return
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_SYNTAX_RE.finditer(text):
        at = match.start()
        char = text[at]
        if at == escaped_at:
            continue
        if in_string:
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise ReportError(400, f"JSON nested deeper than {limit} levels")
        elif char in "]}":
            depth -= 1


def _reject_constant(name: str) -> t.NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> t.Any:
    """Decode a UTF-8 JSON body of at most :data:`MAX_BODY` bytes.

    :raise ReportError: 413 when too large, 400 when not UTF-8, not JSON, or
        nested too deep (``NaN`` and ``Infinity`` are not JSON either).
    """
    if len(body) > MAX_BODY:
        raise ReportError(413, f"report body over {MAX_BODY // 1024} KiB")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ReportError(400, "the body is not UTF-8") from None
    check_depth(text)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:  # belt and braces: check_depth should stop it first
        raise ReportError(400, "JSON nested too deep") from None
    except ValueError as error:  # JSONDecodeError, and ints over 4300 digits
        raise ReportError(400, f"malformed JSON: {str(error)[:100]}") from None


@dataclasses.dataclass(frozen=True, slots=True)
class RawReport:
    """One report as the browser sent it, typed and bounded, not yet mapped.

    :param type: the Reporting API type (``csp-violation``, ``coep``,
        ``coop``, ``permissions-policy-violation``, ``integrity-violation``,
        …); legacy ``report-uri`` reports are ``csp-violation`` too.
    :param document_url: the URL of the document that violated the policy.
    :param directive: the CSP effective directive, the COEP/COOP type or
        policy, the permission feature, the integrity destination.
    :param blocked_url: what was blocked: a URL, or ``inline``, ``eval``,
        ``wasm-eval``… as browsers report it.
    :param disposition: ``enforce`` or ``report``.
    :param original_policy: for CSP, the policy text the browser enforced.
    :param age: how long ago the browser queued it, in seconds (Reporting API).
    :param format: ``csp-report`` (legacy) or ``reports+json``.
    """

    type: str
    document_url: str
    directive: str = ""
    blocked_url: str = ""
    source_file: str = ""
    sample: str = ""
    disposition: str = "enforce"
    original_policy: str | None = None
    user_agent: str = ""
    age: float = 0.0
    format: str = "reports+json"


def _field(data: t.Mapping[str, t.Any], key: str, limit: int = _URL_LIMIT) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ReportError(
            400, f"field {key!r} must be a string, not {type(value).__name__}"
        )
    return clean(value, limit)


def _number(data: t.Mapping[str, t.Any], key: str) -> float:
    value = data.get(key)
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportError(
            400, f"field {key!r} must be a number, not {type(value).__name__}"
        )
    if not math.isfinite(value):
        raise ReportError(400, f"field {key!r} is not a finite number")
    return float(value)


def _object(value: t.Any, what: str) -> dict[str, t.Any]:
    if not isinstance(value, dict):
        raise ReportError(400, f"{what} must be a JSON object, not {_kind(value)}")
    return value


def _kind(value: t.Any) -> str:
    return {
        dict: "an object", list: "an array", str: "a string", bool: "a boolean",
        int: "a number", float: "a number", type(None): "null",
    }.get(type(value), type(value).__name__)  # fmt: skip


def _lower(value: str, limit: int) -> str:
    # Lower-casing can lengthen text ('İ' becomes two code points): cut again.
    return value.lower()[:limit]


def _disposition(value: str) -> str:
    # CSP says "enforce"/"report"; COEP and COOP say "enforce"/"reporting".
    return "report" if value.lower() in ("report", "reporting") else "enforce"


def _legacy(data: dict[str, t.Any], user_agent: str) -> RawReport:
    body = _object(data.get("csp-report"), "'csp-report'")
    document = _field(body, "document-uri")
    if not document:
        raise ReportError(400, "'csp-report' has no document-uri")
    directive = _field(body, "effective-directive", _SHORT_LIMIT) or _field(
        body, "violated-directive", _SHORT_LIMIT
    )
    # Older browsers send the violated directive with its sources.
    directive = directive.split(" ", 1)[0]
    policy = body.get("original-policy")
    return RawReport(
        type="csp-violation",
        document_url=document,
        directive=_lower(directive, _SHORT_LIMIT),
        blocked_url=_field(body, "blocked-uri"),
        source_file=_field(body, "source-file"),
        sample=_field(body, "script-sample", _SAMPLE_LIMIT),
        disposition=_disposition(_field(body, "disposition", _SHORT_LIMIT)),
        original_policy=None if policy is None else _field(body, "original-policy"),
        user_agent=user_agent,
        format="csp-report",
    )


def _reporting_api(item: t.Any, user_agent: str) -> RawReport:
    report = _object(item, "each report")
    kind = report.get("type")
    if not isinstance(kind, str) or not _TYPE_RE.fullmatch(kind):
        raise ReportError(400, "a report needs a 'type' such as 'csp-violation'")
    body = _object(report.get("body", {}), "a report's 'body'")
    url = _field(report, "url")
    age = max(0.0, _number(report, "age") / 1000)
    agent = _field(report, "user_agent", _UA_LIMIT) or user_agent
    common: dict[str, t.Any] = {"type": kind, "user_agent": agent, "age": age}
    if kind == "csp-violation":
        policy = body.get("originalPolicy")
        for key in ("lineNumber", "columnNumber", "statusCode"):
            _number(body, key)  # not kept, but a wrong type is a wrong shape
        return RawReport(
            document_url=_field(body, "documentURL") or url,
            directive=_lower(
                _field(body, "effectiveDirective", _SHORT_LIMIT), _SHORT_LIMIT
            ),
            blocked_url=_field(body, "blockedURL"),
            source_file=_field(body, "sourceFile"),
            sample=_field(body, "sample", _SAMPLE_LIMIT),
            disposition=_disposition(_field(body, "disposition", _SHORT_LIMIT)),
            original_policy=None if policy is None else _field(body, "originalPolicy"),
            **common,
        )
    if kind == "coep":
        return RawReport(
            document_url=url,
            directive=_field(body, "type", _SHORT_LIMIT),
            blocked_url=_field(body, "blockedURL"),
            disposition=_disposition(_field(body, "disposition", _SHORT_LIMIT)),
            **common,
        )
    if kind == "coop":
        return RawReport(
            document_url=url,
            directive=_field(body, "effectivePolicy", _SHORT_LIMIT),
            blocked_url=_field(body, "nextResponseURL")
            or _field(body, "previousResponseURL")
            or _field(body, "otherDocumentURL")
            or _field(body, "property", _SHORT_LIMIT),
            source_file=_field(body, "sourceFile"),
            disposition=_disposition(_field(body, "disposition", _SHORT_LIMIT)),
            **common,
        )
    if kind == "permissions-policy-violation":
        return RawReport(
            document_url=url,
            directive=_field(body, "featureId", _SHORT_LIMIT),
            source_file=_field(body, "sourceFile"),
            disposition=_disposition(_field(body, "disposition", _SHORT_LIMIT)),
            **common,
        )
    if kind == "integrity-violation":
        report_only = body.get("reportOnly", False)
        if not isinstance(report_only, bool):
            raise ReportError(400, "field 'reportOnly' must be a boolean")
        return RawReport(
            document_url=_field(body, "documentURL") or url,
            directive=_field(body, "destination", _SHORT_LIMIT),
            blocked_url=_field(body, "blockedURL"),
            disposition="report" if report_only else "enforce",
            **common,
        )
    # deprecation, intervention, crash, network errors, and types to come.
    return RawReport(
        document_url=url,
        directive=_field(body, "id", _SHORT_LIMIT),
        source_file=_field(body, "sourceFile"),
        sample=_field(body, "message", _SAMPLE_LIMIT),
        **common,
    )


def read_reports(body: bytes, media_type: str, user_agent: str = "") -> list[RawReport]:
    """Read every report in a body; all or nothing.

    :param body: the request body, read with a bound (at most
        :data:`MAX_BODY` bytes are looked at).
    :param media_type: the request's media type, without parameters.
    :param user_agent: the request's ``User-Agent``, for legacy reports.
    :raise ReportError: 415, 413 or 400; nothing of a refused body is kept.
    """
    if media_type not in MEDIA_TYPES:
        raise ReportError(
            415,
            "send application/csp-report, application/reports+json or application/json",
        )
    data = parse_json(body)
    agent = clean(user_agent, _UA_LIMIT)
    if media_type == "application/csp-report":
        return [_legacy(_object(data, "the body"), agent)]
    if media_type == "application/reports+json" and not isinstance(data, list):
        raise ReportError(
            400, f"the body must be an array of reports, not {_kind(data)}"
        )
    if isinstance(data, list):
        return [_reporting_api(item, agent) for item in data]
    if isinstance(data, dict) and "csp-report" in data:
        return [_legacy(data, agent)]
    if isinstance(data, dict):
        return [_reporting_api(data, agent)]
    raise ReportError(
        400, f"the body must be a report object or array, not {_kind(data)}"
    )


# Normalising: what a report is about, in the few values a fingerprint needs.

#: Schemes of browser extensions and browser internals: never the app's.
EXTENSION_SCHEMES = frozenset(
    {
        "chrome-extension", "moz-extension", "safari-extension",
        "safari-web-extension", "ms-browser-extension", "edge-extension",
        "webkit-masked-url", "chrome", "resource", "about-extension",
        "extension",
    }
)  # fmt: skip
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,31}):")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def scheme_of(url: str) -> str:
    """The lower-cased scheme of ``url``, ``""`` when it has none."""
    match = _SCHEME_RE.match(url)
    return match.group(1).lower() if match else ""


def _origin(parts: urllib.parse.SplitResult) -> str | None:
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number, or out of range
        return None
    if not host:
        return None
    scheme = parts.scheme.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def blocked_source(blocked_url: str) -> str:
    """What was blocked, as one comparable value.

    A URL becomes its origin (``https://cdn.example:8443``), so every image
    of one host is one fingerprint; a URL of a scheme without host becomes
    the scheme (``data``, ``blob``); keywords stay as browsers send them
    (``inline``, ``eval``, ``wasm-eval``, ``trusted-types-sink``…).
    """
    value = blocked_url.strip()
    if not value:
        return "(none)"
    scheme = scheme_of(value)
    if scheme and "://" in value[: len(scheme) + 3]:
        try:
            origin = _origin(urllib.parse.urlsplit(value))
        except ValueError:
            origin = None
        return (origin or scheme)[:_URL_LIMIT]
    if scheme:
        return scheme
    return value.lower()[:_SHORT_LIMIT]


def document_url(url: str) -> str | None:
    """``url`` without its query and fragment (they may hold secrets);
    ``None`` when it is not an http(s) URL with a host."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    origin = _origin(parts)
    if origin is None:
        return None
    # The host is lower-cased, which can lengthen it: cut to twice the bound.
    return (origin + (parts.path or "/"))[: 2 * _URL_LIMIT]


def browser_family(user_agent: str) -> str:
    """``Chrome``, ``Edge``, ``Opera``, ``Firefox``, ``Safari`` or ``Other``."""
    agent = user_agent[:_UA_LIMIT]
    for marker, family in (
        ("Edg/", "Edge"), ("EdgA/", "Edge"), ("OPR/", "Opera"),
        ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"), ("Chrome/", "Chrome"),
        ("Chromium/", "Chrome"), ("CriOS/", "Chrome"), ("Safari/", "Safari"),
    ):  # fmt: skip
        if marker in agent:
            return family
    return "Other"


@dataclasses.dataclass(frozen=True, slots=True)
class Report:
    """One normalised report: what the store keeps, deduplicated by
    :attr:`fingerprint`.

    :param endpoint: the Flask endpoint the document URL maps to through
        ``url_map``; ``None`` when it matches no route.
    :param rule: that endpoint's URL rule (``/user/<int:id>``).
    :param layer: the layer that declared the violated policy (``app``,
        ``blueprint:admin``, ``view``, ``preset:strict``), as ``flask headers
        show`` names it; ``None`` when the app declares no such header.
    :param header: the header of the violated policy
        (``Content-Security-Policy-Report-Only``…).
    :param blocked: the blocked URL as one comparable value: its origin
        (``https://cdn.example:8443``), its scheme (``data``), or the
        keyword browsers send (``inline``, ``eval``…).
    :param browser: the user agent's family: ``Chrome``, ``Edge``,
        ``Opera``, ``Firefox``, ``Safari`` or ``Other``.
    """

    type: str
    time: datetime.datetime
    document_url: str
    endpoint: str | None
    rule: str | None
    layer: str | None
    header: str | None
    directive: str
    blocked: str
    blocked_url: str
    source_file: str
    sample: str
    disposition: str
    browser: str

    @property
    def fingerprint(self) -> str:
        """The identity of a kind of violation: same route, layer, header,
        directive, blocked source, disposition and browser family."""
        key = "\x1f".join(
            (
                self.type, self.endpoint or "", self.layer or "", self.header or "",
                self.directive, self.blocked, self.disposition, self.browser,
            )
        )  # fmt: skip
        # surrogatepass: clean() removed them, but a hand-made Report may not.
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
