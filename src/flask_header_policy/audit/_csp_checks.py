"""CSP findings in the spirit of Google's CSP Evaluator.

Each enforced policy (header or ``<meta>``) is checked on its own, as a
browser enforces each one; the same finding from two policies is reported
once. Severities map the Evaluator's: HIGH to ``high``; SYNTAX, MEDIUM and
HIGH_MAYBE to ``medium``; STRICT_CSP and MEDIUM_MAYBE to ``low``; INFO to
``info``.
"""

from __future__ import annotations

import difflib
import re

from ..csp import parse_policy_list
from ._types import Finding

__all__ = ["csp_findings", "nonces_in"]

_KNOWN = frozenset(
    "child-src connect-src default-src font-src frame-src img-src manifest-src"
    " media-src object-src script-src script-src-elem script-src-attr style-src"
    " style-src-elem style-src-attr worker-src base-uri sandbox form-action"
    " frame-ancestors report-uri report-to webrtc upgrade-insecure-requests"
    " block-all-mixed-content require-trusted-types-for trusted-types"
    " fenced-frame-src".split()
)
_DEPRECATED = frozenset(
    "plugin-types prefetch-src navigate-to referrer reflected-xss disown-opener"
    " block-all-mixed-content".split()
)
_META_IGNORED = ("frame-ancestors", "report-uri", "sandbox")
_SOURCE_LISTS = frozenset(
    d for d in _KNOWN if d.endswith("-src") or d in ("base-uri", "form-action")
) | {"frame-ancestors"}
_KEYWORDS = frozenset(
    "self none unsafe-inline unsafe-eval strict-dynamic unsafe-hashes"
    " report-sample wasm-unsafe-eval unsafe-allow-redirects trusted-types-eval"
    " inline-speculation-rules".split()
)
_PLAIN_SCHEMES = frozenset({"data:", "http:", "https:"})
_NONCE_OR_HASH = ("'nonce-", "'sha256-", "'sha384-", "'sha512-")
_BASE64_RE = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
# A nonce or hash that browsers accept (CSP3 nonce-source / hash-source, as
# the CSP Evaluator checks them since 2026-05): only these cancel
# 'unsafe-inline'; a malformed one ('nonce-', 'sha256-!!') cancels nothing.
_WELL_FORMED_RE = re.compile(
    r"'(?:nonce|sha256|sha384|sha512)-[A-Za-z0-9+/_-]+={0,2}'", re.IGNORECASE
)
_STRICT = (
    "script-src 'nonce-{random}' 'strict-dynamic'; object-src 'none'; base-uri 'none'"
)


def _has_nonce_or_hash(sources: list[str]) -> bool:
    return any(_WELL_FORMED_RE.fullmatch(s) for s in sources)


def nonces_in(value: str) -> set[str]:
    """Every nonce value in a CSP field value (``'nonce-X'`` gives ``X``)."""
    found: set[str] = set()
    for policy in parse_policy_list(value):
        for _, sources in policy:
            for src in sources:
                if src[:7].lower() == "'nonce-" and src.endswith("'"):
                    found.add(src[7:-1])
    return found


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(name[:40], sorted(_KNOWN), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _policy_findings(
    policy: list[tuple[str, list[str]]], where: str, hints: list[int]
) -> list[Finding]:
    """Check one policy; ``hints`` counts down the "did you mean" lookups left."""
    out: list[Finding] = []
    directives: dict[str, list[str]] = {}
    for name, sources in policy:
        if name in directives:
            out.append(
                Finding(
                    "medium",
                    "csp-duplicate-directive",
                    f"{where}: {name} is repeated; browsers ignore every copy but"
                    " the first",
                    f"Merge the {name} directives into one.",
                )
            )
            continue
        directives[name] = sources
        if name in _DEPRECATED:
            out.append(
                Finding(
                    "info",
                    "csp-deprecated-directive",
                    f"{where}: {name} is deprecated",
                    f"Remove {name}.",
                )
            )
        elif name not in _KNOWN:
            # difflib is slow: suggest for the first few unknown names only.
            hints[0] -= 1
            hint = _suggest(name) if hints[0] >= 0 else ""
            out.append(
                Finding(
                    "medium",
                    "csp-unknown-directive",
                    f"{where}: unknown directive {name[:80]!r}{hint}",
                    f"Fix or remove {name[:80]!r}.",
                )
            )
        if where == "<meta> CSP" and name in _META_IGNORED:
            out.append(
                Finding(
                    "low",
                    "csp-meta-ignored-directive",
                    f"{where}: {name} is ignored in a <meta> policy",
                    f"Send {name} in the Content-Security-Policy header.",
                )
            )
        for src in sources:
            low = src.lower()
            if low in _KNOWN and name in _SOURCE_LISTS:
                out.append(
                    Finding(
                        "medium",
                        "csp-missing-semicolon",
                        f"{where}: {src!r} inside {name} looks like a directive",
                        f"Put ';' before {low}.",
                    )
                )
            elif name in _SOURCE_LISTS and (
                low in _KEYWORDS
                or low.startswith(("nonce-", "sha256-", "sha384-", "sha512-"))
            ):
                out.append(
                    Finding(
                        "medium",
                        "csp-unquoted-keyword",
                        f"{where}: {src[:80]!r} in {name} is read as a host name",
                        f"Write it in single quotes: '{src[:80]}'.",
                    )
                )
            elif (
                name in _SOURCE_LISTS
                and len(low) > 2
                and low[0] == low[-1] == "'"
                and low[1:-1] not in _KEYWORDS
                and not low.startswith(_NONCE_OR_HASH)
            ):
                out.append(
                    Finding(
                        "medium",
                        "csp-invalid-keyword",
                        f"{where}: {src[:80]!r} in {name} is not a CSP keyword",
                        "Use a known keyword, a nonce or a hash.",
                    )
                )
            if low.startswith("'nonce-") and low.endswith("'"):
                nonce = src[7:-1]
                if len(nonce) < 8:
                    out.append(
                        Finding(
                            "medium",
                            "csp-nonce-too-short",
                            f"{where}: nonce {nonce!r} is shorter than 8 characters",
                            "Use at least 128 random bits, e.g."
                            " secrets.token_urlsafe(16).",
                        )
                    )
                if _BASE64_RE.fullmatch(nonce) is None:
                    out.append(
                        Finding(
                            "info",
                            "csp-nonce-charset",
                            f"{where}: nonce {nonce[:40]!r} is not base64",
                            "Encode the nonce in base64 or base64url.",
                        )
                    )
            if low.startswith("http://"):
                out.append(
                    Finding(
                        "medium",
                        "csp-http-source",
                        f"{where}: {src[:80]!r} in {name} allows loading over HTTP",
                        "Use https:// sources.",
                    )
                )
    out.extend(_script_checks(directives, where))
    return out


def _broad(sources: list[str], directive: str, where: str) -> list[Finding]:
    out: list[Finding] = []
    for src in sources:
        low = src.lower()
        if low in _PLAIN_SCHEMES:
            out.append(
                Finding(
                    "high",
                    "csp-plain-scheme",
                    f"{where}: {directive} allows any URL with the {low} scheme",
                    f"Remove {low} from {directive}.",
                )
            )
        elif low == "*":
            out.append(
                Finding(
                    "high",
                    "csp-wildcard",
                    f"{where}: {directive} allows '*' (any host)",
                    f"Remove * from {directive}.",
                )
            )
    return out


def _script_checks(directives: dict[str, list[str]], where: str) -> list[Finding]:
    out: list[Finding] = []
    default = directives.get("default-src")
    script = directives.get("script-src", default)
    obj = directives.get("object-src", default)
    nonce_or_hash = script is not None and _has_nonce_or_hash(script)
    if script is None:
        out.append(
            Finding(
                "high",
                "csp-missing-script-src",
                f"{where}: no script-src nor default-src, scripts load from anywhere",
                f"Add a strict policy: {_STRICT}.",
            )
        )
    else:
        lowered = [s.lower() for s in script]
        strict_dynamic = "'strict-dynamic'" in lowered
        if "'unsafe-inline'" in lowered and not nonce_or_hash:
            out.append(
                Finding(
                    "high",
                    "csp-unsafe-inline",
                    f"{where}: 'unsafe-inline' in script-src allows injected scripts",
                    "Replace 'unsafe-inline' with a nonce or hashes.",
                )
            )
        if "'unsafe-eval'" in lowered:
            out.append(
                Finding(
                    "low",
                    "csp-unsafe-eval",
                    f"{where}: 'unsafe-eval' in script-src allows eval()",
                    "Remove 'unsafe-eval' once the code no longer uses eval().",
                )
            )
        if strict_dynamic and not nonce_or_hash:
            out.append(
                Finding(
                    "medium",
                    "csp-strict-dynamic-without-nonce",
                    f"{where}: 'strict-dynamic' without a nonce or hash blocks"
                    " every script",
                    "Add a per-response 'nonce-...' next to 'strict-dynamic'.",
                )
            )
        if not (strict_dynamic and nonce_or_hash):
            # With a nonce and 'strict-dynamic', CSP3 browsers ignore these.
            out.extend(_broad(script, "script-src", where))
            if any(s == "'self'" or "." in s for s in lowered):
                out.append(
                    Finding(
                        "low",
                        "csp-script-allowlist",
                        f"{where}: script-src relies on an allowlist ('self' or"
                        " hosts), which JSONP or old libraries can bypass",
                        "Use a nonce with 'strict-dynamic' instead of an allowlist.",
                    )
                )
    if obj is None:
        out.append(
            Finding(
                "high",
                "csp-missing-object-src",
                f"{where}: no object-src nor default-src, plugins load from anywhere",
                "Add object-src 'none'.",
            )
        )
    else:
        out.extend(_broad(obj, "object-src", where))
    base = directives.get("base-uri")
    if base is None:
        if nonce_or_hash:
            out.append(
                Finding(
                    "high",
                    "csp-missing-base-uri",
                    f"{where}: no base-uri, so an injected <base> can redirect"
                    " nonced scripts",
                    "Add base-uri 'none' (or 'self').",
                )
            )
    else:
        out.extend(_broad(base, "base-uri", where))
    return out


def csp_findings(
    header_values: list[str], meta_values: list[str], report_only: bool
) -> list[Finding]:
    """Findings for the enforced CSP of one response.

    :param header_values: every ``Content-Security-Policy`` field value.
    :param meta_values: every ``<meta http-equiv>`` CSP content.
    :param report_only: whether ``Content-Security-Policy-Report-Only`` was sent.
    """
    out: list[Finding] = []
    policies = [(p, "CSP header") for v in header_values for p in parse_policy_list(v)]
    policies += [(p, "<meta> CSP") for v in meta_values for p in parse_policy_list(v)]
    if not policies:
        what = "only Content-Security-Policy-Report-Only" if report_only else "no CSP"
        return [
            Finding(
                "high",
                "csp-missing",
                f"The response has {what}: nothing limits injected scripts",
                f"Send Content-Security-Policy: {_STRICT}.",
            )
        ]
    hints = [10]
    for policy, where in policies:
        out.extend(_policy_findings(policy, where, hints))
    names = {name for policy, _ in policies for name, _ in policy}
    if not names & {"report-uri", "report-to"}:
        out.append(
            Finding(
                "info",
                "csp-no-reporting",
                "The CSP has no report-uri nor report-to: violations go unseen",
                "Add report-to with a Reporting-Endpoints header, and report-uri.",
            )
        )
    elif "report-uri" not in names:
        out.append(
            Finding(
                "info",
                "csp-report-to-only",
                "The CSP reports only through report-to, which only Chromium-based"
                " browsers support: violations in other browsers go unseen",
                "Add a report-uri to the same endpoint next to report-to.",
            )
        )
    return out
