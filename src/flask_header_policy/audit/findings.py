"""Findings: what to fix beyond the Observatory score (sans-IO).

CSP checks follow Google's CSP Evaluator (see :mod:`._csp_checks`); the rest
covers headers that leak the stack (OWASP's removal list), deprecated
headers, HSTS, cookies, the charset of text responses, credentialed CORS and
nonces reused across responses (:func:`compare_nonces`).
"""

from __future__ import annotations

import collections
import collections.abc as cabc
import json
from importlib import resources

from ..cookies import parse_set_cookie
from ..hsts import parse_hsts
from ._csp_checks import csp_findings
from ._csp_checks import nonces_in
from ._fields import collect
from ._fields import Fields
from ._html import HtmlFacts
from ._types import Finding
from ._types import SEVERITIES
from ._types import Severity

__all__ = [
    "DOCUMENT_TYPES",
    "Finding",
    "collect_findings",
    "compare_nonces",
    "is_document",
]

#: Headers the OWASP Secure Headers Project recommends removing (its
#: ``ci/headers_remove.json``, shipped as the package's ``owasp.json``).
OWASP_REMOVE: tuple[str, ...] = tuple(
    json.loads(
        resources.files("flask_header_policy").joinpath("owasp.json").read_text("utf-8")
    )["remove"]
)
_LEAKS = {name.lower(): name for name in OWASP_REMOVE}
_ONE_YEAR = 31_536_000
_MAX_PER_CODE = 10
_HSTS_FIX = "Send Strict-Transport-Security: max-age=63072000; includeSubDomains"
_DEPRECATED: dict[str, tuple[Severity, str]] = {
    "expect-ct": ("info", "Expect-CT is obsolete: Certificate Transparency is"
                  " enforced by browsers"),
    "public-key-pins": ("medium", "Public-Key-Pins (HPKP) is obsolete and can"
                        " lock users out of the site"),
    "public-key-pins-report-only": ("low", "Public-Key-Pins-Report-Only is"
                                    " obsolete"),
    "feature-policy": ("low", "Feature-Policy was replaced by"
                       " Permissions-Policy"),
}  # fmt: skip


def _leaks(fields: Fields) -> cabc.Iterator[Finding]:
    seen: set[str] = set()
    for name, value in fields.pairs:
        key = name.lower()
        if key in _LEAKS and key not in seen:
            seen.add(key)
            yield Finding(
                "low",
                "header-leak",
                f"{name}: {value[:60]!r} tells attackers about the stack",
                f"Remove the {_LEAKS[key]} header.",
            )


def _deprecated(fields: Fields) -> cabc.Iterator[Finding]:
    xss = fields.joined("X-XSS-Protection")
    if xss is not None and xss.strip() != "0":
        yield Finding(
            "low",
            "x-xss-protection",
            f"X-XSS-Protection: {xss[:40]!r}; the XSS auditor it enables is"
            " gone and could be abused to leak data",
            "Send X-XSS-Protection: 0 or remove it; rely on CSP.",
        )
    for key, (severity, message) in _DEPRECATED.items():
        if fields.has(key):
            yield Finding(
                severity,
                "deprecated-header",
                message,
                f"Remove the {key.title()} header.",
            )


def _hsts(fields: Fields, https: bool) -> cabc.Iterator[Finding]:
    values = fields.all("Strict-Transport-Security")
    if not values:
        if https:
            yield Finding(
                "medium",
                "hsts-missing",
                "No Strict-Transport-Security: the first visit can be"
                " downgraded to HTTP",
                _HSTS_FIX + ".",
            )
        return
    if not https:
        yield Finding(
            "info",
            "hsts-over-http",
            "Strict-Transport-Security over plain HTTP is ignored by browsers",
            "Serve the site over HTTPS and send HSTS there.",
        )
    if len(values) > 1:
        yield Finding(
            "medium",
            "hsts-repeated",
            f"Strict-Transport-Security is sent {len(values)} times",
            "Send it once.",
        )
    parsed = parse_hsts(values[0])
    for problem in parsed.problems:
        yield Finding(
            "medium",
            "hsts-syntax",
            f"Strict-Transport-Security: {problem}",
            _HSTS_FIX + ".",
        )
    for note in parsed.notes:
        yield Finding(
            "low",
            "hsts-spelling",
            f"Strict-Transport-Security: {note}",
            _HSTS_FIX + ".",
        )
    age = parsed.max_age
    if age is not None and age == 0:
        yield Finding(
            "info",
            "hsts-cleared",
            "Strict-Transport-Security max-age=0 tells browsers to forget HSTS",
            _HSTS_FIX + " once HTTPS works everywhere.",
        )
    elif age is not None and age < _ONE_YEAR:
        yield Finding(
            "low",
            "hsts-short",
            f"HSTS max-age={age} is under one year (31536000)",
            _HSTS_FIX + ".",
        )
    if parsed.preload and not (
        age is not None and age >= _ONE_YEAR and parsed.include_subdomains
    ):
        yield Finding(
            "medium",
            "hsts-preload-not-ready",
            "HSTS asks for preload but hstspreload.org requires max-age >="
            " 31536000 and includeSubDomains",
            "Send max-age=63072000; includeSubDomains; preload, or drop preload.",
        )


def _cookies(fields: Fields, https: bool) -> cabc.Iterator[Finding]:
    for raw in fields.all("Set-Cookie"):
        cookie = parse_set_cookie(raw)
        if cookie is None:
            continue
        name = cookie.name[:60]
        low = name.lower()
        session = "sess" in low or "login" in low
        if not cookie.secure:
            # The same severity over HTTP and HTTPS, in process and live.
            yield Finding(
                "high" if session else "medium",
                "cookie-without-secure",
                f"Cookie {name!r} lacks Secure and can be sent over HTTP",
                f"Add Secure to the {name!r} cookie.",
            )
        if not cookie.httponly:
            yield Finding(
                "medium" if session else "low",
                "cookie-without-httponly",
                f"Cookie {name!r} lacks HttpOnly and is readable by scripts",
                f"Add HttpOnly to {name!r} unless scripts must read it.",
            )
        samesite = cookie.samesite
        if samesite is None:
            yield Finding(
                "low",
                "cookie-without-samesite",
                f"Cookie {name!r} lacks SameSite",
                f"Add SameSite=Lax (or Strict) to {name!r}.",
            )
        elif samesite.lower() not in ("strict", "lax", "none"):
            yield Finding(
                "medium",
                "cookie-samesite-invalid",
                f"Cookie {name!r} has SameSite={samesite[:20]!r}, which browsers"
                " ignore",
                "Use SameSite=Strict, Lax or None.",
            )
        elif samesite.lower() == "none" and not cookie.secure:
            yield Finding(
                "medium",
                "cookie-samesite-none-insecure",
                f"Cookie {name!r} has SameSite=None without Secure; browsers reject it",
                f"Add Secure to {name!r}.",
            )


def _content_type(fields: Fields) -> cabc.Iterator[Finding]:
    value = fields.first("Content-Type")
    if value is None:
        return
    mime, *params = value.split(";")
    if mime.strip().lower().startswith("text/") and not any(
        p.partition("=")[0].strip().lower() == "charset" for p in params
    ):
        yield Finding(
            "low",
            "content-type-charset",
            f"Content-Type {value[:60]!r} has no charset; browsers may guess"
            " one and misread the text",
            f"Send Content-Type: {mime.strip()[:40]}; charset=utf-8.",
        )


def _cors(fields: Fields, origin: str | None) -> cabc.Iterator[Finding]:
    allow = (fields.joined("Access-Control-Allow-Origin") or "").strip()
    credentials = (fields.joined("Access-Control-Allow-Credentials") or "").strip()
    if allow and allow != "*" and credentials.lower() == "true" and origin is None:
        yield Finding(
            "info",
            "cors-credentials",
            f"CORS allows credentials for {allow[:60]!r}; make sure it comes from"
            " an allowlist, not from reflecting Origin",
            "Check allowed origins against a fixed list.",
        )


#: Responses a browser renders as a page, where a CSP limits scripts.
DOCUMENT_TYPES = frozenset(
    {
        "",
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
    }
)


def is_document(content_type: str | None) -> bool:
    """Whether a response of this Content-Type is a page (HTML, XHTML, SVG,
    XML, or no type at all) rather than CSS, JavaScript, an image or JSON."""
    return (content_type or "").split(";")[0].strip().lower() in DOCUMENT_TYPES


def _not_a_page(finding: Finding, content_type: str) -> Finding:
    """A missing CSP on CSS, JS, images or JSON: no script can be injected."""
    mime = content_type.split(";")[0].strip()[:60]
    return Finding(
        "info",
        finding.code,
        f"No CSP on a {mime} response: it is not a page, so there is no script"
        " to inject here (the Observatory still takes its 25 points)",
        "Nothing to protect; for the points, send a locked CSP:"
        " default-src 'none'; frame-ancestors 'none'.",
    )


def collect_findings(
    fields: Fields, html: HtmlFacts, *, https: bool, origin: str | None = None
) -> list[Finding]:
    """Every finding for one response, worst first, each reported once."""
    csp = csp_findings(
        fields.all("Content-Security-Policy"),
        list(html.csp),
        report_only=bool(fields.joined("Content-Security-Policy-Report-Only")),
    )
    content_type = fields.first("Content-Type")
    if not is_document(content_type):
        csp = [
            _not_a_page(f, content_type or "") if f.code == "csp-missing" else f
            for f in csp
        ]
    found = [
        *csp,
        *_hsts(fields, https),
        *_cookies(fields, https),
        *_cors(fields, origin),
        *_leaks(fields),
        *_deprecated(fields),
        *_content_type(fields),
    ]
    unique = list(dict.fromkeys(found))
    # Thousands of bad tokens in one header give a readable list, not a flood.
    totals = collections.Counter(finding.code for finding in unique)
    shown: dict[str, int] = {}
    result: list[Finding] = []
    for finding in unique:
        count = shown[finding.code] = shown.get(finding.code, 0) + 1
        if count <= _MAX_PER_CODE:
            result.append(finding)
        elif count == _MAX_PER_CODE + 1:
            more = totals[finding.code] - _MAX_PER_CODE
            result.append(
                Finding(
                    finding.severity,
                    finding.code,
                    f"{more} more {finding.code} findings like the ones above",
                    finding.fix,
                )
            )
    result.sort(key=lambda f: SEVERITIES.index(f.severity))
    return result


def compare_nonces(
    first_headers: cabc.Iterable[tuple[str, str]] | cabc.Mapping[str, str],
    second_headers: cabc.Iterable[tuple[str, str]] | cabc.Mapping[str, str],
) -> Finding | None:
    """Report a CSP nonce that two responses share; never raises.

    A nonce must be fresh on every response, or an attacker who reads one
    page can reuse it to run script. Both ``Content-Security-Policy`` and
    ``Content-Security-Policy-Report-Only`` are looked at.
    """
    nonces = []
    for headers in (first_headers, second_headers):
        fields = collect(headers)
        values = fields.all("Content-Security-Policy")
        values += fields.all("Content-Security-Policy-Report-Only")
        nonces.append(set().union(*(nonces_in(v) for v in values)))
    shared = nonces[0] & nonces[1]
    if not shared:
        return None
    nonce = min(shared)
    return Finding(
        "high",
        "csp-nonce-reused",
        f"The CSP nonce {nonce[:40]!r} is the same on two responses, so it"
        " does not stop injected scripts",
        "Generate a new random nonce for every response (secrets.token_urlsafe(16)).",
    )
