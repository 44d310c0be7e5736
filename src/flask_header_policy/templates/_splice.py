"""Add a page's hash sources to the CSP header it is sent with (sans-IO).

Each kind of inline code is checked against one directive, falling back to a
more general one when it is not set (CSP Level 3, "effective directive"):

====================  ==========================================  ===============
what                  directives, most specific first             'unsafe-hashes'
====================  ==========================================  ===============
event handlers        script-src-attr, script-src, default-src    needed
``style`` attributes  style-src-attr, style-src, default-src      needed
``javascript:`` URLs  script-src-elem, script-src, default-src    needed
inline ``<script>``   script-src-elem, script-src, default-src
inline ``<style>``    style-src-elem, style-src, default-src
====================  ==========================================  ===============

The hashes go into the directive that applies. When that is a fallback and
``'unsafe-hashes'`` is needed, the specific directive is created instead, so
that the fallback (which also governs elements) is not loosened; it starts
from what the fallback allowed that kind of code before (a copy), so nothing
the policy allowed is blocked. Nothing is added where the policy already
allows all inline code of that kind (``'unsafe-inline'`` that no nonce, hash
or ``'strict-dynamic'`` cancels: a hash would cancel it), where it allows none
on purpose (``'none'`` in the directive that applies, unless that is
``default-src``), or where no directive applies (nothing is restricted).
"""

from __future__ import annotations

from ..csp import parse_policy_list
from ._hashes import Hashes

__all__ = ["splice_hashes"]

_NONE = "'none'"
_UNSAFE_HASHES = "'unsafe-hashes'"
_UNSAFE_INLINE = "'unsafe-inline'"
_STRICT_DYNAMIC = "'strict-dynamic'"
_REPORT_SAMPLE = "'report-sample'"
_SCRIPT = ("script-src-elem", "script-src", "default-src")
_STYLE = ("style-src-elem", "style-src", "default-src")
# kind, directives most specific first, needs 'unsafe-hashes', is script.
# Navigation goes before script elements: both land in script-src-elem, and
# once it exists, element hashes must go there too.
_RULES = (
    ("script_attr", ("script-src-attr", "script-src", "default-src"), True, True),
    ("style_attr", ("style-src-attr", "style-src", "default-src"), True, False),
    ("navigation", _SCRIPT, True, True),
    ("script_elem", _SCRIPT, False, True),
    ("style_elem", _STYLE, False, False),
)


def _is_hash_or_nonce(source: str) -> bool:
    return source.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-"))


def _allows_all_inline(sources: list[str], script: bool) -> bool:
    if _UNSAFE_INLINE not in sources:
        return False
    if script and _STRICT_DYNAMIC in sources:
        return False
    return not any(_is_hash_or_nonce(source) for source in sources)


def _copy_for_attributes(sources: list[str]) -> list[str]:
    """What of a fallback's sources can allow an attribute or a URL."""
    keep_hashes = _UNSAFE_HASHES in sources
    return [
        source
        for source in sources
        if source in (_UNSAFE_HASHES, _REPORT_SAMPLE)
        or (keep_hashes and source.startswith("'sha"))
    ]


def _splice_policy(policy: list[tuple[str, list[str]]], hashes: Hashes) -> str:
    entries = [(name, list(sources)) for name, sources in policy]
    first: dict[str, list[str]] = {}
    for name, sources in entries:
        first.setdefault(name, sources)  # browsers use the first of duplicates
    for kind, chain, unsafe_hashes, script in _RULES:
        added: frozenset[str] = getattr(hashes, kind)
        if not added:
            continue
        own = next((name for name in chain if name in first), None)
        if own is None:
            continue  # nothing restricts this kind of code
        sources = first[own]
        if _allows_all_inline(sources, script):
            continue
        if sources == [_NONE] and own != "default-src":
            continue  # the policy allows none on purpose
        if own == chain[0] or (not unsafe_hashes and own == chain[1]):
            target = sources
        else:
            if kind == "navigation":
                target = list(sources)  # script-src-elem governs elements too
            else:
                target = _copy_for_attributes(sources)
            entries.append((chain[0], target))
            first[chain[0]] = target
        if _NONE in target:
            target.remove(_NONE)
        if unsafe_hashes and _UNSAFE_HASHES not in target:
            target.append(_UNSAFE_HASHES)
        target.extend(source for source in sorted(added) if source not in target)
    return "; ".join(" ".join([name, *sources]) for name, sources in entries)


def splice_hashes(value: str, hashes: Hashes) -> str:
    """Return the CSP header ``value`` with ``hashes`` added where they apply.

    Every policy of a comma-separated list gets them. The value comes back
    re-serialized (directive names lower-cased, single spaces) even when
    nothing is added.

    :param value: a ``Content-Security-Policy`` (or ``-Report-Only``) value.
    :param hashes: the hash sources of the inline code the page holds.
    """
    policies = parse_policy_list(value)
    if not policies or not hashes:
        return value
    return ", ".join(_splice_policy(policy, hashes) for policy in policies)
