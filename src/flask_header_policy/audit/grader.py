"""Grade one response the way the MDN HTTP Observatory does (sans-IO).

:func:`grade_response` runs the Observatory's tests on a response's header
fields (and its HTML body, for ``<meta>`` policies and scripts) and scores
them on the Observatory's curve; ``redirection`` needs a live scan and is
left out (see :meth:`GradeResult.with_tests`). Everything here accepts any
input and never raises.

Where one response cannot show what the Observatory sees, the rule is:

- **CORS**: the Observatory sends ``Origin`` and checks whether it comes back
  in ``Access-Control-Allow-Origin`` with credentials allowed. Pass the
  ``origin`` the response was requested with to apply that rule; without it,
  only ``null`` with credentials counts as universal access (any page can
  send ``Origin: null``), and other origins count as restricted.
- **HSTS preload**: the preload list is not consulted; pass
  ``hsts_preloaded=True`` if the host is on it.
- **SRI**: a script is external when its URL has another origin than ``url``
  (the Observatory compares registrable domains); protocol-relative ``//``
  URLs count as external and insecure, as for the Observatory.
- **Meta CSP**: ``frame-ancestors``, ``report-uri`` and ``sandbox`` in a
  ``<meta>`` policy are ignored, also by the X-Frame-Options test.
- **Values** of Referrer-Policy, X-Content-Type-Options, X-Frame-Options and
  Cross-Origin-Resource-Policy are read by the package's lenient parsers, as
  browsers read them (the Observatory lower-cases them and rejects repeats):
  ``Same-Origin`` is no CORP, ``DENY, DENY`` is DENY, ``nosniff, x`` is
  nosniff. HSTS sent twice stays invalid, as for the Observatory.
- **Multiple policies** defining a CSP directive keep only the sources they
  all list (the Observatory's own merge is looser about paths).
- **Algorithm**: 5 (what MDN's site runs) by default; ``algorithm=6`` adds
  the ``cross-origin-opener-policy`` and ``cross-origin-embedder-policy``
  tests of the Observatory's next release.
- **Unparseable HTML**: the Observatory gives ``html-not-parseable`` when its
  HTML parser gives up; the scanner here reads any text, so the result goes
  to a body served as HTML that is not text at all (it holds NUL
  characters: binary data, compressed bytes without ``Content-Encoding``).
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
import urllib.parse

from ..cookies import parse_set_cookie
from ..cross_origin import CrossOriginEmbedderPolicy
from ..cross_origin import CrossOriginOpenerPolicy
from ..cross_origin import CrossOriginResourcePolicy
from ..cross_origin import parse_coep
from ..cross_origin import parse_coop
from ..cross_origin import parse_corp
from ..framing import parse_x_content_type_options
from ..framing import parse_x_frame_options
from ..hsts import parse_hsts
from ..referrer import parse_referrer_policy
from ..referrer import ReferrerPolicy
from ._breaks import predict
from ._csp_grade import grade_csp
from ._explain import explain
from ._fields import collect
from ._fields import decode_body
from ._fields import Fields
from ._fields import is_text
from ._html import HtmlFacts
from ._html import scan_html
from ._scoring import ALGORITHMS
from ._scoring import DEFAULT_ALGORITHM
from ._types import GradeResult
from ._types import SEVERITIES
from ._types import TestResult
from .findings import collect_findings

__all__ = ["grade_response"]

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SIX_MONTHS = 15_552_000  # the Observatory's "white lie" for 15768000
_PRIVATE_REFERRER = frozenset(
    {
        ReferrerPolicy.NO_REFERRER,
        ReferrerPolicy.SAME_ORIGIN,
        ReferrerPolicy.STRICT_ORIGIN,
        ReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
    }
)
_CORP_RESULTS = {
    CrossOriginResourcePolicy.SAME_ORIGIN: "corp-implemented-with-same-origin",
    CrossOriginResourcePolicy.SAME_SITE: "corp-implemented-with-same-site",
    CrossOriginResourcePolicy.CROSS_ORIGIN: "corp-implemented-with-cross-origin",
}
# Worst last: a later result replaces an earlier one only if it is worse.
_COOKIE_ORDER = (
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
)
_SRI_ORDER = (
    "sri-implemented-and-all-scripts-loaded-securely",
    "sri-implemented-and-external-scripts-loaded-securely",
    "sri-implemented-but-external-scripts-not-loaded-securely",
    "sri-not-implemented-but-external-scripts-loaded-securely",
    "sri-not-implemented-and-external-scripts-not-loaded-securely",
    "sri-not-implemented-response-not-html",
)
_IGNORED_COOKIES = frozenset({"heroku-session-affinity"})


def _worse(new: str, old: str | None, order: tuple[str, ...]) -> str:
    if old is None or order.index(new) > order.index(old):
        return new
    return old


def _html(fields: Fields) -> bool:
    """Whether the response may render as HTML: it has no Content-Type, or
    one of its Content-Type fields is HTML (Chromium renders by the last)."""
    mimes = [v.split(";")[0].strip().lower() for v in fields.all("Content-Type")]
    return not any(mimes) or any(mime in _HTML_TYPES for mime in mimes)


def _hsts(fields: Fields, https: bool, preloaded: bool) -> str:
    if not https:
        return "hsts-not-implemented-no-https"
    if preloaded:
        return "hsts-preloaded"
    value = fields.joined("Strict-Transport-Security")
    if value is None:
        return "hsts-not-implemented"
    parsed = parse_hsts(value)
    # Sent twice (or folded into one field with ","): the Observatory rejects it.
    if "," in value or parsed.max_age is None:
        return "hsts-header-invalid"
    if parsed.max_age < _SIX_MONTHS:
        return "hsts-implemented-max-age-less-than-six-months"
    return "hsts-implemented-max-age-at-least-six-months"


def _cookies(fields: Fields, hsts_passed: bool) -> str:
    result: str | None = None
    found = False
    missing_samesite = False
    for raw in fields.all("Set-Cookie"):
        cookie = parse_set_cookie(raw)
        if cookie is None or not cookie.name or cookie.name in _IGNORED_COOKIES:
            continue
        found = True
        name = cookie.name.lower()
        session = "login" in name or "sess" in name
        samesite = cookie.samesite
        if samesite is not None and samesite.lower() not in ("strict", "lax", "none"):
            result = _worse("cookies-samesite-flag-invalid", result, _COOKIE_ORDER)
            samesite = None  # a user agent ignores an unknown value
        elif samesite is not None and samesite.lower() == "none" and not cookie.secure:
            result = _worse("cookies-samesite-flag-invalid", result, _COOKIE_ORDER)
        if not cookie.secure:
            new = "cookies-without-secure-flag"
            if hsts_passed:
                new = "cookies-without-secure-flag-but-protected-by-hsts"
            result = _worse(new, result, _COOKIE_ORDER)
        if "csrf" in name and not samesite:
            result = _worse(
                "cookies-anticsrf-without-samesite-flag", result, _COOKIE_ORDER
            )
        if session and not cookie.secure:
            new = "cookies-session-without-secure-flag"
            if hsts_passed:
                new = "cookies-session-without-secure-flag-but-protected-by-hsts"
            result = _worse(new, result, _COOKIE_ORDER)
        if session and not cookie.httponly:
            result = _worse(
                "cookies-session-without-httponly-flag", result, _COOKIE_ORDER
            )
        missing_samesite = missing_samesite or not samesite
    if not found:
        return "cookies-not-found"
    if result is not None:
        return result
    if missing_samesite:
        return "cookies-secure-with-httponly-sessions"
    return "cookies-secure-with-httponly-sessions-and-samesite"


def _cors(fields: Fields, origin: str | None) -> str:
    allow = fields.joined("Access-Control-Allow-Origin")
    if not allow:
        return "cross-origin-resource-sharing-not-implemented"
    allow = allow[:256].strip()
    if allow == "*":
        return "cross-origin-resource-sharing-implemented-with-public-access"
    credentials = (fields.joined("Access-Control-Allow-Credentials") or "").strip()
    echoed = allow == origin if origin is not None else allow.lower() == "null"
    if echoed and credentials.lower() == "true":
        return "cross-origin-resource-sharing-implemented-with-universal-access"
    return "cross-origin-resource-sharing-implemented-with-restricted-access"


def _referrer(fields: Fields, html: HtmlFacts) -> str:
    values = fields.all("Referrer-Policy")
    if html.referrer is not None:
        values.append(html.referrer)
    if not values:
        return "referrer-policy-not-implemented"
    policy = parse_referrer_policy(", ".join(values))
    if policy is None:
        return "referrer-policy-header-invalid"
    if policy in _PRIVATE_REFERRER:
        return "referrer-policy-private"
    return "referrer-policy-unsafe"


def _origin(url: urllib.parse.SplitResult) -> tuple[str, str, int | None]:
    try:
        port = url.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, (url.hostname or "").lower(), port or default)


def _sri(
    fields: Fields, html: HtmlFacts, page: urllib.parse.SplitResult, text: bool
) -> str:
    if not _html(fields):
        return "sri-not-implemented-response-not-html"
    if not text:
        return "html-not-parseable"
    if not html.scripts:
        return "sri-not-implemented-but-no-scripts-loaded"
    result: str | None = None
    foreign = False
    page_origin = _origin(page)
    for script in html.scripts:
        if not script.src:
            continue
        src = script.src
        lowered = src.lower()
        protocol_relative = src[:2] == "//" and src[2:3] not in ("", "/")
        absolute = lowered.startswith(("http://", "https://"))
        if protocol_relative:
            external, secure = True, False
        elif absolute:
            try:
                target = urllib.parse.urlsplit(src)
            except ValueError:
                continue
            external = _origin(target) != page_origin
            secure = target.scheme.lower() == "https"
        else:
            external, secure = False, page.scheme == "https"
        if external:
            foreign = True
            if script.integrity and not secure:
                new = "sri-implemented-but-external-scripts-not-loaded-securely"
            elif script.integrity:
                continue
            elif secure:
                new = "sri-not-implemented-but-external-scripts-loaded-securely"
            else:
                new = "sri-not-implemented-and-external-scripts-not-loaded-securely"
            result = _worse(new, result, _SRI_ORDER)
        elif script.integrity and secure and result is None:
            result = "sri-implemented-and-all-scripts-loaded-securely"
    if result is not None:
        return result
    if foreign:
        return "sri-implemented-and-external-scripts-loaded-securely"
    return "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"


def _xcto(fields: Fields) -> str:
    value = fields.joined("X-Content-Type-Options")
    if not value:
        return "x-content-type-options-not-implemented"
    if parse_x_content_type_options(value) is not None:
        return "x-content-type-options-nosniff"
    return "x-content-type-options-header-invalid"


def _xfo(fields: Fields, via_csp: bool) -> str:
    if via_csp:
        return "x-frame-options-implemented-via-csp"
    value = fields.joined("X-Frame-Options")
    if not value:
        return "x-frame-options-not-implemented"
    if parse_x_frame_options(value) is not None:
        return "x-frame-options-sameorigin-or-deny"
    if value.strip(" \t").lower().startswith("allow-from"):
        return "x-frame-options-allow-from-origin"
    return "x-frame-options-header-invalid"


_COOP_RESULTS = {
    CrossOriginOpenerPolicy.SAME_ORIGIN: "coop-implemented-with-same-origin",
    CrossOriginOpenerPolicy.SAME_ORIGIN_ALLOW_POPUPS: (
        "coop-implemented-with-same-origin-allow-popups"
    ),
    CrossOriginOpenerPolicy.NOOPENER_ALLOW_POPUPS: (
        "coop-implemented-with-noopener-allow-popups"
    ),
    CrossOriginOpenerPolicy.UNSAFE_NONE: "coop-implemented-with-unsafe-none",
}
_COEP_RESULTS = {
    CrossOriginEmbedderPolicy.REQUIRE_CORP: "coep-implemented-with-require-corp",
    CrossOriginEmbedderPolicy.CREDENTIALLESS: "coep-implemented-with-credentialless",
    CrossOriginEmbedderPolicy.UNSAFE_NONE: "coep-implemented-with-unsafe-none",
}
# The Observatory reads a COOP or COEP value up to here.
_COOP_COEP_MAX = 1024


def _cross_origin(
    fields: Fields, header: str, test: str, parse: t.Any, results: t.Any
) -> str:
    """COOP and COEP (algorithm 6): the first value, read up to the length
    the Observatory reads; a repeated header is invalid."""
    values = fields.all(header)
    if not values:
        return f"{test}-not-implemented"
    policy = parse(values[0][:_COOP_COEP_MAX].strip())
    if len(values) > 1 or policy is None:
        return f"{test}-header-invalid"
    return t.cast(str, results[policy])


def _coop(fields: Fields) -> str:
    return _cross_origin(
        fields, "Cross-Origin-Opener-Policy", "coop", parse_coop, _COOP_RESULTS
    )


def _coep(fields: Fields) -> str:
    return _cross_origin(
        fields, "Cross-Origin-Embedder-Policy", "coep", parse_coep, _COEP_RESULTS
    )


def _corp(fields: Fields) -> str:
    value = fields.joined("Cross-Origin-Resource-Policy")
    if not value:
        return "corp-not-implemented"
    policy = parse_corp(value)
    return "corp-header-invalid" if policy is None else _CORP_RESULTS[policy]


def grade_response(
    headers: cabc.Iterable[tuple[str, str]] | cabc.Mapping[str, str],
    *,
    body: str | bytes | None = None,
    url: str = "https://localhost/",
    origin: str | None = None,
    hsts_preloaded: bool = False,
    csp_source: str | None = None,
    stamping: bool = False,
    algorithm: int = DEFAULT_ALGORITHM,
) -> GradeResult:
    """Grade one response on the MDN HTTP Observatory's rules.

    Never raises on any response; only an ``algorithm`` that is not one of
    :data:`~flask_header_policy.audit.ALGORITHMS` raises.

    :param headers: the response's ``(name, value)`` header fields, repeated
        fields kept (a mapping or Werkzeug ``Headers`` also works).
    :param body: the response body; HTML is scanned for ``<meta>`` CSP and
        referrer policies, for ``<script src>``, and for everything the CSP
        governs: what it blocks is in the result's ``breaks``.
    :param url: the URL the response was fetched from (scheme and origin
        matter).
    :param origin: the ``Origin`` request header sent, if any (CORS test).
    :param hsts_preloaded: whether the host is on the HSTS preload list.
    :param csp_source: the layer that declared the CSP (``"preset:strict"``,
        ``"blueprint:admin"``), named in the fixes of blocked resources.
    :param stamping: whether the app stamps nonces into its templates (the
        in-process audit knows): the fix for a tag without the nonce then
        points at what stamping cannot reach instead of at turning it on.
    :param algorithm: the Observatory's scoring algorithm: 5 (what MDN's site
        runs) or 6 (adds ``cross-origin-opener-policy`` and
        ``cross-origin-embedder-policy``, +10 each for the strong values).
    :return: the score, the grade, one :class:`TestResult` per test, the
        :class:`Finding` list (with a finding for every test that cost
        points), and the :class:`Blocked` resources (``breaks``: enforced;
        ``reports``: report-only).
    :raise ValueError: an unknown ``algorithm``.
    """
    if algorithm not in ALGORITHMS or isinstance(algorithm, bool):
        raise ValueError(
            f"unknown Observatory algorithm {algorithm!r}: choose one of"
            f" {', '.join(map(str, ALGORITHMS))}"
        )
    fields = collect(headers)
    try:
        page = urllib.parse.urlsplit(url if isinstance(url, str) else "")
    except ValueError:
        page = urllib.parse.urlsplit("")
    https = page.scheme.lower() == "https"
    html = HtmlFacts()
    parseable = True
    if _html(fields):
        content_types = fields.all("Content-Type")
        content_type = content_types[-1] if content_types else None
        parseable = is_text(body, content_type)
        text = decode_body(body, content_type)
        if text:
            html = scan_html(text)
    report_only = bool(fields.joined("Content-Security-Policy-Report-Only"))
    csp = grade_csp(
        fields.all("Content-Security-Policy"),
        list(html.csp),
        report_only=report_only,
        https=https,
    )
    hsts = _hsts(fields, https, bool(hsts_preloaded))
    hsts_passed = hsts in (
        "hsts-preloaded",
        "hsts-implemented-max-age-at-least-six-months",
    )
    origin = origin if isinstance(origin, str) else None
    tests = [
        TestResult.make("content-security-policy", csp.result),
        TestResult.make("cookies", _cookies(fields, hsts_passed)),
        TestResult.make("cross-origin-resource-sharing", _cors(fields, origin)),
        TestResult.make("referrer-policy", _referrer(fields, html)),
        TestResult.make("strict-transport-security", hsts),
        TestResult.make("subresource-integrity", _sri(fields, html, page, parseable)),
        TestResult.make("x-content-type-options", _xcto(fields)),
        TestResult.make("x-frame-options", _xfo(fields, csp.frame_ancestors)),
        TestResult.make("cross-origin-resource-policy", _corp(fields)),
    ]
    if algorithm >= 6:
        tests.append(TestResult.make("cross-origin-opener-policy", _coop(fields)))
        tests.append(TestResult.make("cross-origin-embedder-policy", _coep(fields)))
    findings = collect_findings(fields, html, https=https, origin=origin)
    url_text = url if isinstance(url, str) else ""
    findings += explain(tests, findings, fields, html, url_text)
    breaks, reports, predicted = predict(
        html.page,
        fields.all("Content-Security-Policy"),
        fields.all("Content-Security-Policy-Report-Only"),
        url_text or "https://localhost/",
        csp_source if isinstance(csp_source, str) else None,
        stamping=stamping is True,
    )
    # What breaks the page leads: sorted by severity, blocked items first.
    findings = sorted(
        [*predicted, *findings], key=lambda f: SEVERITIES.index(f.severity)
    )
    return GradeResult.from_tests(tests, findings, breaks, reports)
