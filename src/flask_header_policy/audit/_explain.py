"""Every lost point gets a finding: what the test saw, and the fix (sans-IO).

The Observatory's tests say *that* points were lost; the CSP, HSTS and cookie
findings usually say *why*. For every test result with a negative modifier
(and for ``ALLOW-FROM``, which browsers ignore) that no finding explains yet,
:func:`explain` adds one, whose code is the result name. Where a header's
value is at fault, the message is the one its builder's strict
``from_header`` gives, so the audit and a declaration teach the same fix.
"""

from __future__ import annotations

import collections.abc as cabc
import urllib.parse

from ..cross_origin import CrossOriginEmbedderPolicy
from ..cross_origin import CrossOriginOpenerPolicy
from ..cross_origin import CrossOriginResourcePolicy
from ..csp import ContentSecurityPolicy
from ..errors import InvalidHeaderError
from ..framing import XContentTypeOptions
from ..framing import XFrameOptions
from ..hsts import StrictTransportSecurity
from ..referrer import ReferrerPolicy
from ._fields import Fields
from ._html import HtmlFacts
from ._types import Finding
from ._types import Severity
from ._types import TestResult

__all__ = ["EXPLAINED_BY", "explain"]

#: result -> codes of findings that already say why it lost its points.
EXPLAINED_BY: dict[str, frozenset[str]] = {
    "csp-implemented-with-unsafe-inline": frozenset(
        {
            "csp-unsafe-inline",
            "csp-plain-scheme",
            "csp-wildcard",
            "csp-missing-script-src",
            "csp-missing-object-src",
        }
    ),
    "csp-implemented-with-unsafe-eval": frozenset({"csp-unsafe-eval"}),
    "csp-implemented-with-insecure-scheme": frozenset({"csp-http-source"}),
    "csp-implemented-with-insecure-scheme-in-passive-content-only": frozenset(
        {"csp-http-source"}
    ),
    "csp-header-invalid": frozenset(
        {"csp-duplicate-directive", "csp-strict-dynamic-without-nonce"}
    ),
    "csp-not-implemented": frozenset({"csp-missing"}),
    "csp-not-implemented-but-reporting-enabled": frozenset({"csp-missing"}),
    "cookies-without-secure-flag-but-protected-by-hsts": frozenset(
        {"cookie-without-secure"}
    ),
    "cookies-session-without-secure-flag-but-protected-by-hsts": frozenset(
        {"cookie-without-secure"}
    ),
    "cookies-without-secure-flag": frozenset({"cookie-without-secure"}),
    "cookies-session-without-secure-flag": frozenset({"cookie-without-secure"}),
    "cookies-samesite-flag-invalid": frozenset(
        {"cookie-samesite-invalid", "cookie-samesite-none-insecure"}
    ),
    "cookies-anticsrf-without-samesite-flag": frozenset({"cookie-without-samesite"}),
    "cookies-session-without-httponly-flag": frozenset({"cookie-without-httponly"}),
    "hsts-implemented-max-age-less-than-six-months": frozenset({"hsts-short"}),
    "hsts-not-implemented": frozenset({"hsts-missing"}),
    "hsts-header-invalid": frozenset({"hsts-syntax", "hsts-repeated"}),
}

# Results without a penalty that still leave the page unprotected.
_ALSO_EXPLAINED = frozenset({"x-frame-options-allow-from-origin"})
_HSTS_FIX = "Send Strict-Transport-Security: max-age=63072000; includeSubDomains."
_XFO_FIX = (
    "Send X-Frame-Options: DENY (or SAMEORIGIN), and CSP frame-ancestors 'none'"
    " ('self', or the origins allowed to frame the page)."
)
# A value is read up to here: an explanation never needs more.
_MAX_VALUE = 4096
_MAX_REASON = 300


def _severity(modifier: int) -> Severity:
    if modifier <= -40:
        return "high"
    if modifier <= -20:
        return "medium"
    return "low"


def _short(text: str, limit: int = _MAX_REASON) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(reader: cabc.Callable[[str], object], value: str) -> str | None:
    """The builder's teaching message for ``value``, or ``None`` if it reads."""
    try:
        reader(value[:_MAX_VALUE])
    except InvalidHeaderError as error:
        return _short(error.reason)
    except Exception:  # noqa: BLE001 - an explanation must never break the audit
        return None
    return None


def _csp_reader(value: str) -> None:
    for policy in value.split(","):
        ContentSecurityPolicy.from_header(policy.strip(" \t"))


def _csp_insecure(fields: Fields, passive: bool) -> str:
    """The ``http:``/``ftp:`` sources the CSP allows, for the message."""
    found: list[str] = []
    for value in fields.all("Content-Security-Policy"):
        for chunk in value[:_MAX_VALUE].split(";"):
            tokens = chunk.split()
            if not tokens:
                continue
            name = tokens[0].lower()
            if passive != (name in ("img-src", "media-src")):
                continue
            for src in tokens[1:]:
                if src.lower().startswith(("http:", "ftp:")):
                    found.append(f"{name} {src}")
    return ", ".join(dict.fromkeys(found[:5])) or "a source"


def _external_scripts(html: HtmlFacts, page: str, secure: bool | None) -> str:
    """Up to three external script URLs, for the message."""
    try:
        host = (urllib.parse.urlsplit(page).hostname or "").lower()
    except ValueError:
        host = ""
    found = []
    for script in html.scripts:
        src = script.src or ""
        low = src.lower()
        if not (low.startswith(("http://", "https://")) or src.startswith("//")):
            continue
        try:
            target = urllib.parse.urlsplit(
                src if not src.startswith("//") else "x:" + src
            )
        except ValueError:
            continue
        if (target.hostname or "").lower() == host and not src.startswith("//"):
            continue
        if secure is not None and low.startswith("https://") != secure:
            continue
        found.append(repr(_short(src, 80)))
    return ", ".join(found[:3]) or "external scripts"


def _message(
    test: TestResult, fields: Fields, html: HtmlFacts, url: str
) -> tuple[str, str]:
    """``(message, fix)`` for one result that cost points."""
    result = test.result
    csp = fields.joined("Content-Security-Policy") or ""
    if result == "csp-implemented-with-unsafe-inline":
        return (
            "The CSP lets injected script run: script-src (or default-src) allows"
            " 'unsafe-inline', data: or a broad source such as https: or *, or"
            " object-src is broad",
            "Use a nonce with 'strict-dynamic' in script-src, and object-src 'none'.",
        )
    if result == "csp-implemented-with-unsafe-eval":
        return (
            "The CSP allows 'unsafe-eval' (in script-src or style-src)",
            "Remove 'unsafe-eval' once the code no longer uses eval().",
        )
    if result in (
        "csp-implemented-with-insecure-scheme",
        "csp-implemented-with-insecure-scheme-in-passive-content-only",
    ):
        insecure = _csp_insecure(fields, result.endswith("passive-content-only"))
        return (
            f"The CSP lets content load over plain HTTP: {insecure}",
            "Allow https: sources only (write https://host, not http: or http://host).",
        )
    if result == "csp-header-invalid":
        why = _reason(_csp_reader, csp) or (
            "a policy is empty or cut short, or a directive repeats"
        )
        return (
            f"The CSP cannot be read: {why}",
            "Fix the policy (ContentSecurityPolicy.from_header shows each mistake).",
        )
    if result.startswith("csp-not-implemented"):
        return (
            "No Content-Security-Policy is enforced",
            "Send a Content-Security-Policy (the strict preset has one).",
        )
    if result.startswith("cookies-"):
        return (test.description, "Add Secure, HttpOnly and SameSite to the cookies.")
    if result == "cross-origin-resource-sharing-implemented-with-universal-access":
        allow = (fields.joined("Access-Control-Allow-Origin") or "")[:80]
        return (
            f"CORS echoes the requesting origin ({allow!r}) with credentials"
            " allowed: any site can read this response as the signed-in user",
            "Allow credentials only for origins from a fixed allowlist.",
        )
    if result.startswith("redirection-"):
        fixes = {
            "redirection-missing": "Redirect every http:// URL to https:// on the"
            " same host (301 or 308).",
            "redirection-invalid-cert": "Install a valid TLS certificate.",
        }
        return (
            test.description,
            fixes.get(
                result,
                "Redirect http:// to https:// on the same host first, then"
                " anywhere else.",
            ),
        )
    if result == "referrer-policy-header-invalid":
        values = ", ".join(fields.all("Referrer-Policy"))
        why = _reason(ReferrerPolicy.from_header, values) or test.description
        return (
            f"Referrer-Policy: {why}",
            "Send Referrer-Policy: strict-origin-when-cross-origin (or no-referrer).",
        )
    if result == "referrer-policy-unsafe":
        values = (", ".join(fields.all("Referrer-Policy")) or "<meta>")[:80]
        return (
            f"Referrer-Policy {values!r} sends the page's URL (or origin) to other"
            " sites, even over plain HTTP for some policies",
            "Send Referrer-Policy: strict-origin-when-cross-origin (or no-referrer).",
        )
    if result == "hsts-header-invalid":
        hsts = fields.all("Strict-Transport-Security")
        if len(hsts) > 1:
            why = f"it is sent {len(hsts)} times"
        else:
            read = _reason(StrictTransportSecurity.from_header, hsts[0] if hsts else "")
            why = read or "browsers cannot read it"
        return (f"Strict-Transport-Security: {why}", _HSTS_FIX)
    if result == "hsts-not-implemented-no-https":
        return (
            "The page is served over plain HTTP: HSTS cannot be set, and the"
            " traffic can be read and changed on the way",
            "Serve the site over HTTPS, redirect HTTP to it and send HSTS there.",
        )
    if result.startswith("hsts-"):
        return (test.description, _HSTS_FIX)
    if result == "sri-not-implemented-but-external-scripts-loaded-securely":
        return (
            "External scripts load without integrity=:"
            f" {_external_scripts(html, url, True)}; if their host is"
            " compromised, so is this page",
            'Add integrity="sha384-..." and crossorigin="anonymous" to each, or'
            " serve them from this origin.",
        )
    if result.startswith("sri-"):
        return (
            f"External scripts load over plain HTTP (or protocol-relative //):"
            f" {_external_scripts(html, url, False)}",
            "Load them over https://, with integrity= attributes.",
        )
    if result == "html-not-parseable":
        mime = fields.first("Content-Type") or "no Content-Type"
        return (
            f"The response says it is HTML ({mime[:60]!r}) but its body is not text"
            " (binary data, or compressed bytes without Content-Encoding)",
            "Serve the right Content-Type, or the body as the HTML it claims to be.",
        )
    if result.startswith("x-content-type-options-"):
        value = fields.joined("X-Content-Type-Options")
        if value is None:
            message = (
                "No X-Content-Type-Options: browsers may guess another type for"
                " this response (a text file run as a script)"
            )
        else:
            why = _reason(XContentTypeOptions.from_header, value) or test.description
            message = f"X-Content-Type-Options: {why}"
        return (message, "Send X-Content-Type-Options: nosniff.")
    if result.startswith("x-frame-options-"):
        value = fields.joined("X-Frame-Options")
        if value is None:
            message = (
                "No X-Frame-Options nor CSP frame-ancestors: any site can show this"
                " page in a frame and trick clicks on it (clickjacking)"
            )
        else:
            why = _reason(XFrameOptions.from_header, value) or test.description
            message = f"X-Frame-Options: {why}"
        return (message, _XFO_FIX)
    for prefix, header, reader, fix in (
        (
            "corp-",
            "Cross-Origin-Resource-Policy",
            CrossOriginResourcePolicy.from_header,
            "Send Cross-Origin-Resource-Policy: same-origin (or same-site).",
        ),
        (
            "coop-",
            "Cross-Origin-Opener-Policy",
            CrossOriginOpenerPolicy.from_header,
            "Send Cross-Origin-Opener-Policy: same-origin, once.",
        ),
        (
            "coep-",
            "Cross-Origin-Embedder-Policy",
            CrossOriginEmbedderPolicy.from_header,
            "Send Cross-Origin-Embedder-Policy: require-corp (or credentialless),"
            " once.",
        ),
    ):
        if result.startswith(prefix):
            sent = fields.all(header)
            if len(sent) > 1:
                why = f"it is sent {len(sent)} times, and browsers then apply none"
            else:
                why = _reason(reader, sent[0] if sent else "") or test.description
            return (f"{header}: {why}", fix)
    return (test.description, "See the MDN HTTP Observatory's documentation.")


def explain(
    tests: cabc.Iterable[TestResult],
    findings: cabc.Iterable[Finding],
    fields: Fields,
    html: HtmlFacts | None = None,
    url: str = "",
) -> list[Finding]:
    """One finding for each test that cost points and that no finding in
    ``findings`` explains yet; never raises.

    :param tests: the graded tests.
    :param findings: the findings found so far.
    :param fields: the response's header fields.
    :param html: what its HTML body declares (scripts, for SRI).
    :param url: the URL it was fetched from.
    """
    codes = {finding.code for finding in findings}
    html = html or HtmlFacts()
    out: list[Finding] = []
    for test in tests:
        if test.score_modifier >= 0 and test.result not in _ALSO_EXPLAINED:
            continue
        if codes & EXPLAINED_BY.get(test.result, frozenset()):
            continue
        message, fix = _message(test, fields, html, url)
        cost = f" ({test.name} {test.score_modifier:+d})" if test.score_modifier else ""
        severity = _severity(test.score_modifier)
        if test.result in _ALSO_EXPLAINED:
            severity = "medium"
        out.append(Finding(severity, test.result, message + cost, fix))
    return out
