"""The Observatory's ``content-security-policy`` test.

It reads the policies of the CSP header fields and of ``<meta http-equiv>``
tags through :func:`flask_header_policy.csp.parse_policy_list` and applies the
Observatory's rules: a repeated directive (but report-uri/report-to), an empty
or truncated policy, or ``'strict-dynamic'`` without a nonce or hash make the
CSP invalid; script-src, style-src and object-src fall back to default-src,
then ``*``; a nonce or hash cancels ``'unsafe-inline'``; ``'strict-dynamic'``
with one cancels broad sources, ``'self'`` and ``'unsafe-inline'``; the first
matching result wins, worst first.

Where several policies define the same directive, a source counts only if
every one of them lists it (exact match, case-insensitive); a directive left
with no source is ``'none'``.
"""

from __future__ import annotations

import dataclasses

from ..csp import parse_policy_list

__all__ = ["CspGrade", "grade_csp"]

_BROAD = frozenset(
    {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*",
     "https://*.*"}
)  # fmt: skip
_BROAD_PREFIXES = tuple(sorted(_BROAD))
_INSECURE = ("http:", "ftp:")
_UNSAFE_INLINE = frozenset({"'unsafe-inline'", "data:"})
_BROAD_OR_INLINE = _BROAD | _UNSAFE_INLINE
_PASSIVE = ("img-src", "media-src")
_NONCE_OR_HASH = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")
_MAY_REPEAT = frozenset({"report-uri", "report-to"})
_NOT_IN_META = ("frame-ancestors", "report-uri", "sandbox")
# The Observatory rejects a policy shorter than "img-src" minus one.
_SHORTEST_POLICY = 6

Csp = dict[str, set[str]]


@dataclasses.dataclass(frozen=True, slots=True)
class CspGrade:
    """The CSP result and what the X-Frame-Options test needs from it.

    :param result: the Observatory result name.
    :param frame_ancestors: whether an enforced header policy sets
        ``frame-ancestors`` (``<meta>`` cannot).
    """

    result: str
    frame_ancestors: bool = False


class _Invalid(Exception):
    pass


def _policies(values: list[str]) -> list[list[tuple[str, list[str]]]]:
    policies: list[list[tuple[str, list[str]]]] = []
    for value in values:
        for chunk in value.split(","):
            # An empty or truncated policy makes the whole CSP invalid.
            if len(chunk.strip(" \t\r\n")) < _SHORTEST_POLICY:
                raise _Invalid
        policies.extend(parse_policy_list(value))
    return policies


def _combine(policies: list[list[tuple[str, list[str]]]]) -> tuple[Csp, bool]:
    """Merge policies into one directive map; also say if a report-* repeats."""
    csp: Csp = {}
    repeated = False
    for policy in policies:
        seen: set[str] = set()
        for name, sources in policy:
            if name in seen:
                if name not in _MAY_REPEAT:
                    raise _Invalid
                repeated = True
                continue
            seen.add(name)
            values = {s.lower() for s in sources} or {"'none'"}
            if name in csp:
                values = (csp[name] & values) or {"'none'"}
            csp[name] = values
    return csp, repeated


def _nonce_or_hash(sources: set[str]) -> bool:
    return any(s.startswith(_NONCE_OR_HASH) for s in sources)


def _classify(
    script: set[str],
    style: set[str],
    objects: set[str],
    active: list[str],
    passive: list[str],
    default: set[str] | None,
    https: bool,
) -> str:
    """The first matching result, worst first."""
    if script & _BROAD_OR_INLINE or objects & _BROAD:
        return "csp-implemented-with-unsafe-inline"
    if https and any(s.startswith(_INSECURE) for s in active):
        return "csp-implemented-with-insecure-scheme"
    if "'unsafe-eval'" in script | style:
        return "csp-implemented-with-unsafe-eval"
    if https and any(s.startswith(_INSECURE) for s in passive):
        return "csp-implemented-with-insecure-scheme-in-passive-content-only"
    if style & _BROAD_OR_INLINE:
        return "csp-implemented-with-unsafe-inline-in-style-src-only"
    if default == {"'none'"}:
        return "csp-implemented-with-no-unsafe-default-src-none"
    return "csp-implemented-with-no-unsafe"


def grade_csp(
    header_values: list[str],
    meta_values: list[str],
    *,
    report_only: bool,
    https: bool,
) -> CspGrade:
    """Return the Observatory's CSP result for one response.

    :param header_values: every ``Content-Security-Policy`` field value.
    :param meta_values: every ``<meta http-equiv>`` CSP ``content``.
    :param report_only: whether a non-empty Report-Only header was sent.
    :param https: whether the page was served over HTTPS.
    """
    try:
        header_policies = _policies(header_values)
        meta_policies = _policies(meta_values)
        header_csp, repeated = _combine(header_policies)
        _, meta_repeated = _combine(meta_policies)
    except _Invalid:
        return CspGrade("csp-header-invalid")
    # A <meta> policy cannot carry frame-ancestors, report-uri nor sandbox.
    meta_policies = [
        [d for d in policy if d[0] not in _NOT_IN_META] for policy in meta_policies
    ]
    meta_csp, _ = _combine(meta_policies)
    csp, _ = _combine(header_policies + meta_policies)
    if not header_csp and not meta_csp:
        if report_only:
            return CspGrade("csp-not-implemented-but-reporting-enabled")
        return CspGrade("csp-not-implemented")
    frame_ancestors = "frame-ancestors" in header_csp
    default = csp.get("default-src")
    script = set(csp.get("script-src") or default or {"*"})
    style = set(csp.get("style-src") or default or {"*"})
    objects = csp.get("object-src") or default or {"*"}

    for sources in (script, style):
        if _nonce_or_hash(sources):
            sources.discard("'unsafe-inline'")
    result: str | None = None
    if "'strict-dynamic'" in script:
        if _nonce_or_hash(script):
            script = {
                s for s in script
                if s not in ("'self'", "'unsafe-inline'")
                and not s.startswith(_BROAD_PREFIXES)
            }  # fmt: skip
        else:
            result = "csp-header-invalid"

    active = [
        s for name, sources in csp.items()
        if name not in _PASSIVE and name != "script-src" for s in sources
    ]  # fmt: skip
    active.extend(script)
    passive = [
        s for name in _PASSIVE for s in (csp.get(name) or default or ())
    ]  # fmt: skip
    if result is None:
        result = _classify(script, style, objects, active, passive, default, https)
    if (repeated or meta_repeated) and result in (
        "csp-implemented-with-no-unsafe",
        "csp-implemented-with-no-unsafe-default-src-none",
        "csp-implemented-with-unsafe-inline-in-style-src-only",
        "csp-implemented-with-insecure-scheme-in-passive-content-only",
    ):
        result = "csp-implemented-but-duplicate-directives"
    return CspGrade(result, frame_ancestors)
