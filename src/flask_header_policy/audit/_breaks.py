"""What the CSP blocks in a page, with the fix for each, grouped by directive.

:func:`predict` runs the scanner's resources through the CSP evaluator and
returns :class:`~._types.Blocked` items (enforced, and report-only apart) and
findings: one per directive that blocks something, with counts, lines and
the fixes.
"""

from __future__ import annotations

import collections
import collections.abc as cabc
import re
import urllib.parse

from ..csp import hash_source
from ._csp_eval import evaluate
from ._csp_eval import policies_for
from ._csp_eval import Violation
from ._resources import clip
from ._resources import Page
from ._types import Blocked
from ._types import Finding

__all__ = ["MAX_POLICIES", "STAMP", "STAMPED", "predict"]

#: The most CSP policies (header fields, comma-separated lists and <meta>
#: tags together) checked against a page. Sites send one to three; a hostile
#: one fits thousands in its header block, and each would be checked against
#: each of up to 10,000 resources.
MAX_POLICIES = 16

#: How to give every <script>, <style> and <link> in templates the nonce,
#: and (what stamping never touches) in markup that Python code returns.
STAMP = (
    "stamp nonces into templates: HeaderPolicy(app, stamp_nonces=True)"
    " or HEADER_POLICY_STAMP_NONCES = True; markup a Python helper returns"
    " is not template source: pipe it through | trust_scripts"
)
#: The same advice where the app stamps its templates already: a tag
#: without the nonce is not template source.
STAMPED = (
    "stamping is on, so this is not template source: pipe markup a Python"
    " helper returns through | trust_scripts, and render HTML a view builds"
    " from a template"
)
_LABEL = {
    "inline-script": "inline <script>",
    "speculation-rules": "inline speculation rules",
    "script": "script",
    "inline-style": "<style> block",
    "stylesheet": "stylesheet",
    "event-handler": "event handler attribute",
    "style-attribute": "style attribute",
    "javascript-url": "javascript: URL",
    "image": "image",
    "font": "font",
    "media": "media source",
    "frame": "frame",
    "object": "plugin (<object>/<embed>)",
    "manifest": "web app manifest",
    "connect": "preloaded fetch",
    "form": "form target",
    "base": "<base href>",
}
_ORIGIN_RE = re.compile(r"[a-z][a-z0-9+.-]*://[A-Za-z0-9.-]+(:[0-9]{1,5})?", re.ASCII)
_MAX_URL = 2048
_MAX_LINES = 5
_MAX_FIXES = 3


def _hash(violation: Violation) -> str:
    return hash_source(violation.resource.text or "")


def _source_for(violation: Violation, page_url: str) -> str:
    """The source expression that would allow the violation's URL."""
    url = violation.url or ""
    scheme = url.partition(":")[0].lower()
    if scheme in ("data", "blob", "filesystem", "javascript"):
        return f"{scheme}:"
    try:
        target = urllib.parse.urlsplit(url)
        page = urllib.parse.urlsplit(page_url)
    except ValueError:
        return clip(url, 80)
    if (target.scheme, target.netloc) == (page.scheme, page.netloc):
        return "'self'"
    return _origin(target)


def _origin(url: urllib.parse.SplitResult) -> str:
    """``scheme://host[:port]``, or a clipped, escaped view of a URL that
    no source expression could name."""
    origin = f"{url.scheme}://{url.netloc.rpartition('@')[2]}"
    return origin if _ORIGIN_RE.fullmatch(origin) else clip(origin, 80)


def _add_to(violation: Violation, source: str) -> str:
    """ "add ``source`` to the directive", naming a new directive when the
    governing one is a fallback such as ``default-src``."""
    governing = violation.governing
    if governing != "default-src":
        return f"add {source} to {governing}"
    target = violation.directive
    for suffix in ("-elem", "-attr"):
        target = target.removesuffix(suffix)
    sources = violation.policy.directives.get("default-src", ())
    kept = [s for s in sources if s.lower() != "'none'"]
    return (
        f"add a {target} directive: {target} {' '.join([*kept, source])}"
        f" ({target} is unset, so default-src applies)"
    )


def _where(violation: Violation, csp_source: str | None) -> str:
    policy = violation.policy
    if policy.where == "meta":
        return "the page's <meta> CSP"
    name = "Content-Security-Policy"
    if policy.disposition == "report":
        name += "-Report-Only"
    if csp_source and policy.disposition == "enforce":
        return f"{name} (declared at {csp_source})"
    return name


def _fix(
    violation: Violation, page_url: str, csp_source: str | None, stamping: bool
) -> str:
    resource = violation.resource
    kind, reason, governing = resource.kind, violation.reason, violation.governing
    where = _where(violation, csp_source)
    stamp = STAMPED if stamping else STAMP
    if reason == "wrong-nonce":
        return (
            "its nonce is not this response's: render it with"
            ' nonce="{{ csp_nonce() }}" (a cached page or fragment keeps an old one)'
        )
    if kind in ("inline-script", "inline-style", "speculation-rules"):
        if reason == "no-nonce":
            return stamp
        return (
            f"add NONCE to {governing} in {where} and {stamp}; or allow exactly"
            f" this code with {_hash(violation)}"
        )
    if kind == "event-handler":
        return (
            "move the handler into a nonced <script> (addEventListener); with"
            " stamp_nonces=True a static handler in a template gets its hash"
            " ('unsafe-hashes'), one built from template expressions can't be"
            f" hashed; or allow exactly this text: 'unsafe-hashes' {_hash(violation)}"
        )
    if kind == "style-attribute":
        return (
            "move the style into a class in a stylesheet; with stamp_nonces=True"
            " a static style attribute in a template gets its hash ('unsafe-hashes'),"
            " one built from template expressions can't be hashed; or allow"
            f" exactly this text: 'unsafe-hashes' {_hash(violation)}"
        )
    if kind == "javascript-url":
        return (
            "replace the javascript: URL with a <button> and a listener in a"
            " nonced <script>; or allow exactly this URL (the hash covers"
            f" 'javascript:' too): 'unsafe-hashes' {_hash(violation)}"
        )
    source = _source_for(violation, page_url)
    if reason == "strict-dynamic":
        return (
            f"{stamp} (with 'strict-dynamic' in {governing}, a <script src> needs"
            " the nonce: hosts and 'self' are ignored)"
        )
    if kind in ("script", "stylesheet") and any(
        s.lower().startswith("'nonce-")
        for s in violation.policy.directives.get(governing, ())
    ):
        return f"{stamp}; or {_add_to(violation, source)} in {where}"
    if kind == "base":
        return f"{_add_to(violation, source)} in {where}, or remove the <base> element"
    return f"{_add_to(violation, source)} in {where}"


def _blocked(
    violation: Violation, page_url: str, csp_source: str | None, stamping: bool
) -> Blocked:
    resource = violation.resource
    text = (
        resource.text
        if resource.url is None or resource.kind == "javascript-url"
        else ""
    )
    return Blocked(
        directive=violation.directive,
        element=resource.describe(),
        kind=resource.kind,
        line=resource.line,
        url=_bounded(violation.url) if resource.kind != "javascript-url" else None,
        sample=(text or "")[:40],
        when=resource.when,
        policy=violation.policy.index,
        disposition=violation.policy.disposition,
        fix=_fix(violation, page_url, csp_source, stamping),
    )


def _bounded(url: str | None) -> str | None:
    """The URL, cut at :data:`_MAX_URL` characters (a page can hold 2 MB)."""
    if url is None or len(url) <= _MAX_URL:
        return url
    return url[: _MAX_URL - 1] + "…"


def _lines(items: cabc.Sequence[Blocked]) -> str:
    lines = sorted({item.line for item in items})
    shown = ", ".join(map(str, lines[:_MAX_LINES]))
    more = f" +{len(lines) - _MAX_LINES}" if len(lines) > _MAX_LINES else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def _summary(items: cabc.Sequence[Blocked]) -> str:
    by_kind: dict[str, list[Blocked]] = collections.defaultdict(list)
    for item in items:
        by_kind[item.kind].append(item)
    parts = []
    for kind, group in by_kind.items():
        label = _LABEL.get(kind, kind)
        hosts = sorted({_host(i.url) for i in group if i.url})
        origin = (
            f" from {', '.join(hosts[:3])}{' …' if len(hosts) > 3 else ''}"
            if hosts
            else ""
        )
        when = {"click": " (on click)", "submit": " (on submit)", "use": " (when used)"}
        parts.append(
            f"{len(group)} {label}{'s' if len(group) > 1 else ''}{origin}"
            f"{when.get(group[0].when, '')} ({_lines(group)})"
        )
    return "; ".join(parts)


def _host(url: str) -> str:
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return clip(url, 60)
    if not parts.netloc:
        return clip(f"{parts.scheme}:", 60)
    return _origin(parts)


def _findings(
    breaks: cabc.Sequence[Blocked], reports: cabc.Sequence[Blocked]
) -> list[Finding]:
    out = []
    by_directive: dict[str, list[Blocked]] = collections.defaultdict(list)
    for item in breaks:
        by_directive[item.directive].append(item)
    for directive, items in by_directive.items():
        # One item per element: a second policy blocking it adds no work.
        unique = list({(i.kind, i.line, i.element): i for i in items}.values())
        fixes = list(dict.fromkeys(i.fix for i in unique))
        fix = "; ".join(f[0].upper() + f[1:] for f in fixes[:_MAX_FIXES])
        if len(fixes) > _MAX_FIXES:
            fix += f" (+{len(fixes) - _MAX_FIXES} more fixes: see the details)"
        out.append(
            Finding(
                "high",
                "csp-blocks",
                f"{directive} blocks {len(unique)} item{'s' if len(unique) > 1 else ''}"
                f" in this page: {_summary(unique)}",
                fix + ".",
            )
        )
    if reports:
        counts = collections.Counter(item.directive for item in reports)
        listed = ", ".join(f"{d} ×{n}" for d, n in counts.most_common())
        out.append(
            Finding(
                "info",
                "csp-report-only-reports",
                f"Content-Security-Policy-Report-Only would report {len(reports)}"
                f" violation{'s' if len(reports) > 1 else ''} in this page: {listed}",
                "Nothing is blocked yet: fix these before enforcing the policy"
                " (each item's fix is in the details).",
            )
        )
    return out


def predict(
    page: Page,
    enforced: cabc.Sequence[str],
    report_only: cabc.Sequence[str],
    url: str,
    csp_source: str | None = None,
    stamping: bool = False,
) -> tuple[list[Blocked], list[Blocked], list[Finding]]:
    """What the response's CSP blocks in ``page`` (served at ``url``).

    :param enforced: the ``Content-Security-Policy`` field values.
    :param report_only: the ``Content-Security-Policy-Report-Only`` values.
    :param csp_source: the layer that declared the enforced CSP, named in fixes.
    :param stamping: whether the app stamps its templates (fixes then do not
        advise turning it on).
    :return: blocked items, report-only items, findings.
    """
    policies = policies_for(enforced, report_only, page.meta)
    if not policies or not page.resources:
        return [], [], []
    total = len(policies)
    policies = policies[:MAX_POLICIES]
    breaks: list[Blocked] = []
    reports: list[Blocked] = []
    for violation in evaluate(page, policies, url):
        item = _blocked(violation, url, csp_source, stamping)
        (breaks if item.disposition == "enforce" else reports).append(item)
    findings = _findings(breaks, reports)
    if total > MAX_POLICIES:
        findings.append(
            Finding(
                "info",
                "csp-policies-truncated",
                f"The response has {total} policies: only the first"
                f" {MAX_POLICIES} were checked against the page",
                "Send one policy per header: browsers enforce every one of them.",
            )
        )
    if page.truncated:
        findings.append(
            Finding(
                "info",
                "csp-scan-truncated",
                f"The page has more than {len(page.resources)} resources: only"
                " the first were checked against the CSP",
                "Audit a smaller page, or split it.",
            )
        )
    return breaks, reports, findings
