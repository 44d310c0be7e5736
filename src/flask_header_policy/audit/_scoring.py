"""The MDN HTTP Observatory's result names, modifiers and grading curve.

Facts from the Observatory's published scanner (``src/grader/charts.js`` and
``src/scanner/index.js`` of mdn/mdn-http-observatory); the descriptions are
our own words. Algorithm 5 (tags v1.5.0 to v1.6.3) is what MDN's site runs
and the default; algorithm 6 (merged in PR #498, not yet released) adds the
``cross-origin-opener-policy`` and ``cross-origin-embedder-policy`` tests.
"""

from __future__ import annotations

import collections.abc as cabc
import types

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "MINIMUM_SCORE_FOR_EXTRA_CREDIT",
    "SCORE_TABLE",
    "TEST_NAMES",
    "curve",
    "grade_for_score",
    "passes",
]

#: The Observatory scoring algorithms the grader implements.
ALGORITHMS: tuple[int, ...] = (5, 6)
#: What MDN's site runs today (algorithm 5, scanner v1.5.0 to v1.6.3).
DEFAULT_ALGORITHM = 5

#: Bonuses count only when the score without them is at least this.
MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90

_TABLE: dict[str, tuple[int, str]] = {
    # content-security-policy
    "csp-implemented-with-no-unsafe-default-src-none": (
        10, "CSP without unsafe sources, and default-src 'none'"),
    "csp-implemented-with-no-unsafe": (
        5, "CSP without 'unsafe-inline', 'unsafe-eval' or broad script sources"),
    "csp-implemented-with-unsafe-inline-in-style-src-only": (
        0, "CSP whose only unsafe sources are in style-src"),
    "csp-implemented-but-duplicate-directives": (
        0, "CSP implemented, but report-uri or report-to is repeated"),
    "csp-implemented-with-insecure-scheme-in-passive-content-only": (
        -10, "CSP lets images or media load over HTTP"),
    "csp-implemented-with-unsafe-eval": (
        -10, "CSP allows 'unsafe-eval'"),
    "csp-implemented-with-unsafe-inline": (
        -20, "CSP allows inline script, data: or broad sources in script-src"
        " or object-src"),
    "csp-implemented-with-insecure-scheme": (
        -20, "CSP lets active content load over HTTP"),
    "csp-header-invalid": (
        -25, "CSP cannot be parsed (repeated directive, empty policy or"
        " 'strict-dynamic' without a nonce or hash)"),
    "csp-not-implemented": (-25, "No Content-Security-Policy"),
    "csp-not-implemented-but-reporting-enabled": (
        -25, "Only Content-Security-Policy-Report-Only: nothing is enforced"),
    # cookies
    "cookies-secure-with-httponly-sessions-and-samesite": (
        5, "All cookies Secure and SameSite, session cookies HttpOnly"),
    "cookies-secure-with-httponly-sessions": (
        0, "All cookies Secure, session cookies HttpOnly; some lack SameSite"),
    "cookies-not-found": (0, "No cookies set"),
    "cookies-without-secure-flag-but-protected-by-hsts": (
        -5, "Cookies without Secure, but HSTS prevents HTTP"),
    "cookies-session-without-secure-flag-but-protected-by-hsts": (
        -10, "Session cookie without Secure, but HSTS prevents HTTP"),
    "cookies-without-secure-flag": (-20, "Cookies set without Secure"),
    "cookies-samesite-flag-invalid": (
        -20, "SameSite is not Strict, Lax or None, or None without Secure"),
    "cookies-anticsrf-without-samesite-flag": (
        -20, "Anti-CSRF cookie without SameSite"),
    "cookies-session-without-httponly-flag": (
        -30, "Session cookie without HttpOnly"),
    "cookies-session-without-secure-flag": (
        -40, "Session cookie without Secure"),
    # cross-origin-resource-sharing
    "cross-origin-resource-sharing-not-implemented": (
        0, "Content is not shared through CORS"),
    "cross-origin-resource-sharing-implemented-with-public-access": (
        0, "Public content shared with Access-Control-Allow-Origin: *"),
    "cross-origin-resource-sharing-implemented-with-restricted-access": (
        0, "Content shared through CORS with specific origins"),
    "cross-origin-resource-sharing-implemented-with-universal-access": (
        -50, "Any origin can read the content with credentials"),
    # redirection (graded by the live audit only)
    "redirection-all-redirects-preloaded": (
        0, "Every host redirected to is HSTS-preloaded"),
    "redirection-to-https": (0, "HTTP redirects to HTTPS on the same host"),
    "redirection-not-needed-no-http": (0, "Not reachable over HTTP"),
    "redirection-off-host-from-http": (
        -5, "HTTP redirects to HTTPS on another host"),
    "redirection-not-to-https-on-initial-redirection": (
        -10, "The first redirect is not to HTTPS"),
    "redirection-not-to-https": (-20, "Redirects, but not to HTTPS"),
    "redirection-missing": (-20, "HTTP does not redirect to HTTPS"),
    "redirection-invalid-cert": (-20, "Invalid certificate while redirecting"),
    # referrer-policy
    "referrer-policy-private": (
        5, "Referrer-Policy is no-referrer, same-origin, strict-origin or"
        " strict-origin-when-cross-origin"),
    "referrer-policy-not-implemented": (0, "No Referrer-Policy"),
    "referrer-policy-unsafe": (
        -5, "Referrer-Policy leaks the origin or the URL across origins"),
    "referrer-policy-header-invalid": (-5, "Referrer-Policy not recognised"),
    # strict-transport-security
    "hsts-preloaded": (5, "Host is on the HSTS preload list"),
    "hsts-implemented-max-age-at-least-six-months": (
        0, "HSTS max-age is at least six months"),
    "hsts-implemented-max-age-less-than-six-months": (
        -10, "HSTS max-age is less than six months"),
    "hsts-not-implemented": (-20, "No Strict-Transport-Security"),
    "hsts-header-invalid": (
        -20, "HSTS cannot be parsed (no max-age, or sent twice)"),
    "hsts-not-implemented-no-https": (-20, "HSTS cannot be set without HTTPS"),
    "hsts-invalid-cert": (-20, "HSTS cannot work with an invalid certificate"),
    # subresource-integrity
    "sri-implemented-and-all-scripts-loaded-securely": (
        5, "SRI used, all scripts from the same origin"),
    "sri-implemented-and-external-scripts-loaded-securely": (
        5, "SRI used, all external scripts over HTTPS"),
    "sri-not-implemented-response-not-html": (0, "Not HTML: SRI not needed"),
    "sri-not-implemented-but-no-scripts-loaded": (0, "No scripts loaded"),
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin": (
        0, "No SRI, but all scripts come from the same origin"),
    "sri-not-implemented-but-external-scripts-loaded-securely": (
        -5, "External scripts over HTTPS without SRI"),
    "sri-implemented-but-external-scripts-not-loaded-securely": (
        -20, "SRI used, but external scripts load over HTTP or //"),
    "sri-not-implemented-and-external-scripts-not-loaded-securely": (
        -50, "External scripts over HTTP or // without SRI"),
    # x-content-type-options
    "x-content-type-options-nosniff": (0, "X-Content-Type-Options: nosniff"),
    "x-content-type-options-not-implemented": (
        -5, "No X-Content-Type-Options"),
    "x-content-type-options-header-invalid": (
        -5, "X-Content-Type-Options is not exactly nosniff"),
    # x-frame-options
    "x-frame-options-implemented-via-csp": (
        5, "Framing controlled by CSP frame-ancestors"),
    "x-frame-options-sameorigin-or-deny": (
        5, "X-Frame-Options is DENY or SAMEORIGIN"),
    "x-frame-options-allow-from-origin": (
        0, "X-Frame-Options ALLOW-FROM (ignored by browsers)"),
    "x-frame-options-not-implemented": (
        -20, "No X-Frame-Options nor CSP frame-ancestors"),
    "x-frame-options-header-invalid": (
        -20, "X-Frame-Options not recognised"),
    # cross-origin-resource-policy
    "corp-implemented-with-same-origin": (
        10, "Cross-Origin-Resource-Policy: same-origin"),
    "corp-implemented-with-same-site": (
        10, "Cross-Origin-Resource-Policy: same-site"),
    "corp-implemented-with-cross-origin": (
        0, "Cross-Origin-Resource-Policy: cross-origin"),
    "corp-not-implemented": (0, "No Cross-Origin-Resource-Policy"),
    "corp-header-invalid": (-5, "Cross-Origin-Resource-Policy not recognised"),
    # cross-origin-opener-policy (algorithm 6)
    "coop-implemented-with-same-origin": (
        10, "Cross-Origin-Opener-Policy: same-origin (algorithm 6)"),
    "coop-implemented-with-same-origin-allow-popups": (
        10, "Cross-Origin-Opener-Policy: same-origin-allow-popups (algorithm 6)"),
    "coop-implemented-with-noopener-allow-popups": (
        10, "Cross-Origin-Opener-Policy: noopener-allow-popups (algorithm 6)"),
    "coop-implemented-with-unsafe-none": (
        0, "Cross-Origin-Opener-Policy: unsafe-none (algorithm 6)"),
    "coop-not-implemented": (
        0, "No Cross-Origin-Opener-Policy (algorithm 6)"),
    "coop-header-invalid": (
        -5, "Cross-Origin-Opener-Policy not recognised, or sent twice"
        " (algorithm 6)"),
    # cross-origin-embedder-policy (algorithm 6)
    "coep-implemented-with-require-corp": (
        10, "Cross-Origin-Embedder-Policy: require-corp (algorithm 6)"),
    "coep-implemented-with-credentialless": (
        10, "Cross-Origin-Embedder-Policy: credentialless (algorithm 6)"),
    "coep-implemented-with-unsafe-none": (
        0, "Cross-Origin-Embedder-Policy: unsafe-none (algorithm 6)"),
    "coep-not-implemented": (
        0, "No Cross-Origin-Embedder-Policy (algorithm 6)"),
    "coep-header-invalid": (
        -5, "Cross-Origin-Embedder-Policy not recognised, or sent twice"
        " (algorithm 6)"),
    # any test that reads the HTML body (subresource-integrity here)
    "html-not-parseable": (
        -20, "Served as HTML, but the body is not text that an HTML parser"
        " can read"),
}  # fmt: skip

#: result name -> (score modifier, short description).
SCORE_TABLE: cabc.Mapping[str, tuple[int, str]] = types.MappingProxyType(_TABLE)

#: The Observatory's test names, in its order; ``redirection`` needs a live
#: scan, and the last two count in algorithm 6 only.
TEST_NAMES: tuple[str, ...] = (
    "content-security-policy",
    "cookies",
    "cross-origin-resource-sharing",
    "redirection",
    "referrer-policy",
    "strict-transport-security",
    "subresource-integrity",
    "x-content-type-options",
    "x-frame-options",
    "cross-origin-resource-policy",
    "cross-origin-opener-policy",
    "cross-origin-embedder-policy",
)

# The one result the Observatory counts as passed despite a penalty.
_PASSES_WITH_PENALTY = frozenset(
    {"csp-implemented-with-insecure-scheme-in-passive-content-only"}
)


def passes(result: str) -> bool:
    """Whether the Observatory counts ``result`` as a passed test.

    Every result without a penalty passes, and so does CSP that lets only
    images and media load over HTTP.

    :raise KeyError: ``result`` is not an Observatory result name.
    """
    return SCORE_TABLE[result][0] >= 0 or result in _PASSES_WITH_PENALTY


# Lower bound of each five-point band, best first.
_GRADES: tuple[tuple[int, str], ...] = (
    (100, "A+"), (90, "A"), (85, "A-"), (80, "B+"), (70, "B"), (65, "B-"),
    (60, "C+"), (50, "C"), (45, "C-"), (40, "D+"), (30, "D"), (25, "D-"),
    (0, "F"),
)  # fmt: skip


def curve(modifiers: cabc.Iterable[int]) -> int:
    """Return the Observatory score for a set of test modifiers.

    Start at 100 and apply every penalty; if that keeps the score at 90 or
    more, the bonuses count too. The score never goes below 0.
    """
    mods = list(modifiers)
    uncurved = 100 + sum(m for m in mods if m < 0)
    if uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT:
        score = 100 + sum(mods)
    else:
        score = uncurved
    return max(score, 0)


def grade_for_score(score: int) -> str:
    """Return the letter grade: the score's five-point band, capped at 100."""
    banded = min(max(score, 0) // 5 * 5, 100)
    for floor, grade in _GRADES:
        if banded >= floor:
            return grade
    return "F"  # pragma: no cover - the last band starts at 0
