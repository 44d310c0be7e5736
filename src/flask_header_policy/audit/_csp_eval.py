"""Decide what a page's CSP blocks, as CSP Level 3 does (sans-IO).

:func:`evaluate` checks every :class:`~._resources.Resource` of a page against
each policy of the response, the way the browser does (W3C CSP3, Editor's
Draft of April 2026, sections 4.1-4.2, 6.1-6.8 and 6.7):

- the effective directive of each kind of resource and its fallback list
  (``script-src-elem`` → ``script-src`` → ``default-src``, ``frame-src`` →
  ``child-src`` → ``default-src``; ``form-action`` and ``base-uri`` have none);
- source expressions: ``*`` (HTTP(S) and the page's own scheme only),
  schemes, hosts with ``*.`` wildcards, ports and paths, ``'self'`` with the
  secure upgrades the spec allows, ``'none'``;
- nonces (on elements only; a ``<script>`` with ``<script``, ``<style`` or
  ``<link`` in an attribute is not nonceable), hashes of inline code
  (``'unsafe-hashes'`` for attributes and ``javascript:`` URLs),
  ``integrity`` hashes of external scripts, ``'unsafe-inline'`` (ignored
  next to a nonce or hash, and for scripts next to ``'strict-dynamic'``),
  and ``'strict-dynamic'``, which drops hosts, schemes and ``'self'`` and
  blocks parser-inserted scripts without a nonce or hash.

Where Chromium departs from the spec, this follows Chromium (checked by
``tests/browser/test_csp_prediction.py``): IP addresses match host sources,
duplicate attributes do not make an element un-nonceable, ``<link`` in an
attribute does (like ``<script`` and ``<style``), and
``'inline-speculation-rules'`` allows inline speculation rules.
"""

from __future__ import annotations

import base64
import collections.abc as cabc
import dataclasses
import functools
import hashlib
import re
import typing as t
import urllib.parse

from ..csp import parse_policy_list
from ._resources import Kind
from ._resources import Page
from ._resources import Resource

__all__ = ["Policy", "Violation", "evaluate", "policies_for"]

Disposition = t.Literal["enforce", "report"]

#: The effective directive of each kind of resource.
EFFECTIVE: dict[Kind, str] = {
    "inline-script": "script-src-elem",
    "speculation-rules": "script-src-elem",
    "script": "script-src-elem",
    "javascript-url": "script-src-elem",
    "event-handler": "script-src-attr",
    "inline-style": "style-src-elem",
    "stylesheet": "style-src-elem",
    "style-attribute": "style-src-attr",
    "image": "img-src",
    "font": "font-src",
    "media": "media-src",
    "frame": "frame-src",
    "object": "object-src",
    "manifest": "manifest-src",
    "connect": "connect-src",
    "form": "form-action",
    "base": "base-uri",
}
#: CSP3 "Get fetch directive fallback list", plus the two without fallback.
FALLBACK: dict[str, tuple[str, ...]] = {
    "script-src-elem": ("script-src-elem", "script-src", "default-src"),
    "script-src-attr": ("script-src-attr", "script-src", "default-src"),
    "style-src-elem": ("style-src-elem", "style-src", "default-src"),
    "style-src-attr": ("style-src-attr", "style-src", "default-src"),
    "worker-src": ("worker-src", "child-src", "script-src", "default-src"),
    "connect-src": ("connect-src", "default-src"),
    "manifest-src": ("manifest-src", "default-src"),
    "object-src": ("object-src", "default-src"),
    "frame-src": ("frame-src", "child-src", "default-src"),
    "media-src": ("media-src", "default-src"),
    "font-src": ("font-src", "default-src"),
    "img-src": ("img-src", "default-src"),
    "form-action": ("form-action",),
    "base-uri": ("base-uri",),
}
#: The inline check type (CSP3 "Should element's inline type behavior be
#: blocked") of each kind of inline code.
_INLINE_TYPE: dict[Kind, str] = {
    "inline-script": "script",
    "speculation-rules": "script",
    "event-handler": "script attribute",
    "inline-style": "style",
    "style-attribute": "style attribute",
    "javascript-url": "navigation",
}
_META_IGNORED = frozenset({"frame-ancestors", "report-uri", "sandbox"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_BASE64 = r"[A-Za-z0-9+/_-]+={0,2}"
_NONCE_RE = re.compile(rf"'nonce-({_BASE64})'", re.IGNORECASE)
_HASH_RE = re.compile(rf"'(sha256|sha384|sha512)-({_BASE64})'", re.IGNORECASE)
_SCHEME_SOURCE_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_HOST_SOURCE_RE = re.compile(
    r"(?:([A-Za-z][A-Za-z0-9+.-]*)://)?"  # scheme-part
    r"(\*|(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?)"  # host-part
    r"(?::([0-9]+|\*))?"  # port-part
    r"(/[^?#]*)?"  # path-part
)
_SCHEME_PREFIX_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_SRI_RE = re.compile(rf"(sha256|sha384|sha512)-({_BASE64})", re.IGNORECASE)


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    """One policy of a response, its directives read as a browser reads them.

    :param directives: each directive's source list; the first of a
        repeated directive wins, names are lower-cased.
    :param disposition: ``"enforce"`` or ``"report"`` (report-only).
    :param where: ``"header"``, ``"report-only header"`` or ``"meta"``.
    :param index: its position among the page's policies (0 is the first).
    :param meta: for a ``<meta>`` policy, its position among them: it
        governs only resources that come after it.
    :param text: the policy as written.
    """

    directives: cabc.Mapping[str, tuple[str, ...]]
    disposition: Disposition
    where: str
    index: int
    meta: int = -1
    text: str = ""

    def source_list(self, effective: str) -> tuple[str, tuple[str, ...]] | None:
        """The directive that governs ``effective`` and its sources, if any."""
        for name in FALLBACK.get(effective, (effective,)):
            sources = self.directives.get(name)
            if sources is not None:
                return name, sources
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class Violation:
    """A resource that one policy blocks (or, report-only, reports).

    :param resource: what the page asked for.
    :param policy: the policy it violates.
    :param directive: the effective directive, as the browser's
        ``securitypolicyviolation`` event names it (``effectiveDirective``).
    :param governing: the directive whose sources decided
        (``default-src`` when ``img-src`` is absent).
    :param url: the URL checked (resolved), ``None`` for inline code.
    :param reason: why, for the fix: ``"no-nonce"``, ``"wrong-nonce"``,
        ``"strict-dynamic"``, ``"inline"``, ``"source"``.
    """

    resource: Resource
    policy: Policy
    directive: str
    governing: str
    url: str | None
    reason: str


def policies_for(
    enforced: cabc.Iterable[str],
    report_only: cabc.Iterable[str],
    meta: cabc.Iterable[str] = (),
) -> list[Policy]:
    """Every policy of a response, in the order the browser applies them.

    :param enforced: the ``Content-Security-Policy`` field values.
    :param report_only: the ``Content-Security-Policy-Report-Only`` values.
    :param meta: the ``<meta>`` policies of the page's head, in order.
    """
    out: list[Policy] = []

    def add(value: str, disposition: Disposition, where: str, meta: int = -1) -> None:
        for parsed in parse_policy_list(value):
            directives: dict[str, tuple[str, ...]] = {}
            for name, sources in parsed:
                if where == "meta" and name in _META_IGNORED:
                    continue
                directives.setdefault(name, tuple(sources))
            text = "; ".join(" ".join([n, *s]) for n, s in parsed)
            out.append(Policy(directives, disposition, where, len(out), meta, text))

    for value in enforced:
        add(value, "enforce", "header")
    for value in report_only:
        add(value, "report", "report-only header")
    for position, value in enumerate(meta):
        add(value, "enforce", "meta", position)
    return out


# -- URLs -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _URL:
    scheme: str
    host: str | None
    port: int | None  # None: the scheme's default port
    path: str
    text: str


@functools.lru_cache(maxsize=4096)
def _parse_url(text: str) -> _URL | None:
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not scheme:
        return None
    host = parts.hostname
    if host is not None and not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if port is not None and port == _DEFAULT_PORTS.get(scheme):
        port = None
    path = parts.path
    if host is not None and not path:
        path = "/"
    return _URL(scheme, host, port, path, text)


def _resolve(url: str, base: str) -> _URL | None:
    """``url`` resolved against ``base`` (``None`` if the parser fails)."""
    if "\\" in url:
        scheme = _SCHEME_PREFIX_RE.match(url)
        if scheme is None or scheme.group(1).lower() in _DEFAULT_PORTS:
            url = url.replace("\\", "/")  # as the URL parser reads special URLs
    try:
        return _parse_url(urllib.parse.urljoin(base, url))
    except ValueError:
        return None


def _origin(url: _URL) -> tuple[str, str | None, int | None]:
    return (url.scheme, url.host, url.port)


def _scheme_matches(a: str, b: str) -> bool:
    """CSP3 "scheme-part matching": may source scheme ``a`` load scheme ``b``."""
    a, b = a.lower(), b.lower()
    return (
        a == b
        or (a == "http" and b == "https")
        or (a == "ws" and b in ("wss", "http", "https"))
        or (a == "wss" and b == "https")
    )


def _port_matches(port: str | None, url: _URL) -> bool:
    if port == "*":
        return True
    wanted = None if port is None else int(port)
    actual = url.port
    if wanted == actual:
        return True
    if actual is None:  # the URL uses its scheme's default port
        return wanted == _DEFAULT_PORTS.get(url.scheme)
    return False


def _path_matches(pattern: str, path: str) -> bool:
    if not pattern:
        return True
    if pattern == "/" and not path:
        return True
    exact = not pattern.endswith("/")
    pieces_a, pieces_b = pattern.split("/"), path.split("/")
    if len(pieces_a) > len(pieces_b):
        return False
    if exact and len(pieces_a) != len(pieces_b):
        return False
    if not exact:
        pieces_a.pop()
    return all(
        urllib.parse.unquote(a) == urllib.parse.unquote(b)
        for a, b in zip(pieces_a, pieces_b, strict=False)
    )


def _self_matches(url: _URL, origin: _URL) -> bool:
    if _origin(url) == _origin(origin):
        return True
    if url.host is None or url.host != origin.host:
        return False
    ports = (
        url.port in (None, _DEFAULT_PORTS.get(url.scheme))
        and origin.port in (None, _DEFAULT_PORTS.get(origin.scheme))
    ) or url.port == origin.port
    if not ports:
        return False
    return url.scheme in ("https", "wss") or (
        origin.scheme == "http" and url.scheme in ("http", "ws")
    )


def _expression_matches(expression: str, url: _URL, origin: _URL) -> bool:
    """CSP3 "Does url match expression in origin with redirect count" (0)."""
    if expression == "*":
        return url.scheme in ("http", "https") or url.scheme == origin.scheme
    lowered = expression.lower()
    if lowered == "'self'":
        return _self_matches(url, origin)
    if expression.startswith("'"):
        return False  # a keyword, nonce or hash: never matches a URL
    scheme_source = _SCHEME_SOURCE_RE.fullmatch(expression)
    if scheme_source is not None:
        return _scheme_matches(scheme_source.group(1), url.scheme)
    host_source = _HOST_SOURCE_RE.fullmatch(expression)
    if host_source is None:
        return False  # not a valid source expression: browsers ignore it
    scheme, host, port, path = host_source.groups()
    if url.host is None:
        return False
    if scheme is not None:
        if not _scheme_matches(scheme, url.scheme):
            return False
    elif not _scheme_matches(origin.scheme, url.scheme):
        return False
    host = host.lower().rstrip(".")
    actual = url.host.rstrip(".")
    if host == "*":
        pass
    elif host.startswith("*."):
        if not actual.endswith(host[1:]):
            return False
    elif host != actual:
        return False
    if not _port_matches(port, url):
        return False
    return _path_matches(path or "", url.path)


def _url_matches(sources: tuple[str, ...], url: _URL, origin: _URL) -> bool:
    if not sources or (len(sources) == 1 and sources[0].lower() == "'none'"):
        return False
    return any(_expression_matches(s, url, origin) for s in sources)


# -- Inline code, nonces and hashes -------------------------------------------


def _has(sources: tuple[str, ...], keyword: str) -> bool:
    return any(s.lower() == keyword for s in sources)


def _allows_all_inline(sources: tuple[str, ...], kind: str) -> bool:
    """CSP3 "Does a source list allow all inline behavior for type"."""
    allow = False
    for source in sources:
        if _NONCE_RE.fullmatch(source) or _HASH_RE.fullmatch(source):
            return False
        lowered = source.lower()
        if lowered == "'strict-dynamic'" and kind in (
            "script", "script attribute", "navigation",
        ):  # fmt: skip
            return False
        if lowered == "'unsafe-inline'":
            allow = True
    return allow


def _nonce_matches(sources: tuple[str, ...], nonce: str) -> bool:
    if not nonce:
        return False
    return any(
        (m := _NONCE_RE.fullmatch(s)) is not None and m.group(1) == nonce
        for s in sources
    )


@functools.lru_cache(maxsize=1024)
def _digest(algorithm: str, text: str) -> str:
    data = text.encode("utf-8", "replace")
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode("ascii")


def _hash_matches(sources: tuple[str, ...], text: str) -> bool:
    for source in sources:
        match = _HASH_RE.fullmatch(source)
        if match is not None:
            algorithm, value = match.group(1).lower(), match.group(2)
            expected = value.replace("-", "+").replace("_", "/")
            if _digest(algorithm, text) == expected:
                return True
    return False


def _inline_allowed(sources: tuple[str, ...], resource: Resource) -> str | None:
    """CSP3 "Does element match source list for type and source": ``None``
    when allowed, else the reason it is not."""
    kind = _INLINE_TYPE[resource.kind]
    if _allows_all_inline(sources, kind):
        return None
    if kind in ("script", "style") and _nonce_matches(sources, resource.nonce):
        return None
    if (kind in ("script", "style") or _has(sources, "'unsafe-hashes'")) and (
        _hash_matches(sources, resource.text or "")
    ):
        return None
    if resource.kind == "speculation-rules" and _has(
        sources, "'inline-speculation-rules'"
    ):
        return None
    if kind in ("script", "style") and any(_NONCE_RE.fullmatch(s) for s in sources):
        return "wrong-nonce" if resource.nonce else "no-nonce"
    return "inline"


def _integrity_matches(sources: tuple[str, ...], integrity: str) -> bool:
    """CSP3 "Does integrity metadata match source list"."""
    hashes = {
        (m.group(1).lower(), m.group(2))
        for s in sources
        if (m := _HASH_RE.fullmatch(s)) is not None
    }
    if not hashes:
        return False
    metadata = [
        (m.group(1).lower(), m.group(2))
        for token in integrity.split()
        if (m := _SRI_RE.match(token)) is not None
    ]
    return bool(metadata) and all(item in hashes for item in metadata)


def _fetch_allowed(
    sources: tuple[str, ...],
    effective: str,
    resource: Resource,
    url: _URL,
    origin: _URL,
) -> str | None:
    """The pre-request check of a fetch directive: ``None`` when allowed."""
    if effective == "script-src-elem":
        if _nonce_matches(sources, resource.nonce):
            return None
        if resource.integrity and _integrity_matches(sources, resource.integrity):
            return None
        if _has(sources, "'strict-dynamic'"):
            return "strict-dynamic" if resource.parser_inserted else None
    elif effective == "style-src-elem" and _nonce_matches(sources, resource.nonce):
        return None
    if _url_matches(sources, url, origin):
        return None
    if resource.nonce and any(_NONCE_RE.fullmatch(s) for s in sources):
        return "wrong-nonce"
    return "source"


# -- The page -----------------------------------------------------------------


def _check(
    resource: Resource,
    policy: Policy,
    url: _URL | None,
    origin: _URL,
) -> Violation | None:
    """Whether ``policy`` blocks ``resource`` (``url``: its resolved URL)."""
    effective = EFFECTIVE[resource.kind]
    governing = policy.source_list(effective)
    if governing is None:
        return None
    name, sources = governing
    if resource.kind in _INLINE_TYPE:
        reason = _inline_allowed(sources, resource)
    elif url is None:
        return None  # a URL the browser cannot parse is never fetched
    elif resource.kind in ("form", "base"):
        reason = None if _url_matches(sources, url, origin) else "source"
    else:
        reason = _fetch_allowed(sources, effective, resource, url, origin)
    if reason is None:
        return None
    return Violation(
        resource, policy, effective, name, url.text if url else None, reason
    )


def _upgrade(url: _URL | None) -> _URL | None:
    """``upgrade-insecure-requests``: an http: URL becomes https: (ws: wss:),
    except on loopback hosts, which Chromium leaves alone."""
    if url is None or url.scheme not in ("http", "ws") or url.host is None:
        return url
    host = url.host
    if host in ("localhost", "[::1]", "::1") or host.endswith(".localhost"):
        return url
    if host.startswith("127.") and host.replace(".", "").isdigit():
        return url
    scheme = "https" if url.scheme == "http" else "wss"
    rest = url.text.split(":", 1)[1]
    if url.port is None:  # the default port 80 becomes 443
        return _parse_url(f"{scheme}:{rest}")
    return dataclasses.replace(url, scheme=scheme, text=f"{scheme}:{rest}")


def evaluate(page: Page, policies: cabc.Sequence[Policy], url: str) -> list[Violation]:
    """Every violation of ``policies`` by the resources of ``page``.

    Enforced and report-only policies are checked alike; a resource one
    enforced policy blocks is still checked by the others (each reports).

    :param url: the page's URL: ``'self'``, relative URLs and ``<base>``.
    """
    origin = _parse_url(url) or _URL("https", "localhost", None, "/", url)
    violations: list[Violation] = []
    base = origin.text
    resources = list(page.resources)
    for resource in resources:
        if resource.kind == "base":
            target = _resolve(resource.url or "", origin.text)
            found = _check_all(resource, policies, target, origin)
            violations.extend(found)
            if target is not None and not _blocks(found):
                base = target.text
            break
    tried: set[int] = set()  # media groups that found a source they may load
    upgrade = any(
        p.disposition == "enforce" and "upgrade-insecure-requests" in p.directives
        for p in policies
    )
    for resource in resources:
        if resource.kind == "base":
            continue
        if resource.group and resource.group in tried:
            continue
        if resource.kind == "form":
            found = _form(resource, policies, origin, base)
        elif resource.url is None:  # inline code
            found = _check_all(resource, policies, None, origin)
        else:
            found = []
            for candidate in (resource.url, *resource.candidates):
                target = _resolve(candidate, base)
                if upgrade:
                    target = _upgrade(target)
                found = _check_all(resource, policies, target, origin)
                if found:
                    break  # the first candidate the browser may pick that fails
        violations.extend(found)
        if resource.group and not _blocks(found):
            tried.add(resource.group)
    return violations


def _blocks(violations: cabc.Iterable[Violation]) -> bool:
    return any(v.policy.disposition == "enforce" for v in violations)


def _check_all(
    resource: Resource,
    policies: cabc.Sequence[Policy],
    url: _URL | None,
    origin: _URL,
) -> list[Violation]:
    found = []
    for policy in policies:
        if policy.meta >= resource.metas:
            continue  # a <meta> policy governs only what comes after it
        violation = _check(resource, policy, url, origin)
        if violation is not None:
            found.append(violation)
    return found


def _form(
    resource: Resource, policies: cabc.Sequence[Policy], origin: _URL, base: str
) -> list[Violation]:
    """A form submission: form-action, then a ``javascript:`` target's code."""
    # An empty action submits to the document's URL, not the base URL.
    target = _resolve(resource.url or "", base) if resource.url else origin
    found = _check_all(resource, policies, target, origin)
    if resource.text is not None and not _blocks(found):
        script = dataclasses.replace(resource, kind="javascript-url")
        found += _check_all(script, policies, None, origin)
    return found
