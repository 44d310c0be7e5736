"""Audit a live URL over the network, the way the MDN HTTP Observatory does.

Needs ``httpx`` (``pip install flask-header-policy[live]``).

:func:`audit_url` follows the redirect chain by hand (at most
:data:`MAX_REDIRECTS` hops), grades the final response at the URL it was
served from, and adds the Observatory's ``redirection`` test:

- The test looks at the chain that starts at the **http://** variant of the
  URL. For an ``http://`` URL that is the chain just followed. For an
  ``https://`` URL the ``http://`` URL on the default port (80) is probed as
  the Observatory does, reading no body; if nothing answers there (refused,
  unknown host, timeout) the result is ``redirection-not-needed-no-http``.
  Pass ``check_http=False`` to skip the probe (and the test, for an
  ``https://`` URL).
- ``redirection-all-redirects-preloaded`` needs the HSTS preload list, which
  is not consulted here: a preloaded site that does not redirect is graded
  ``redirection-missing`` (-20) where the Observatory gives 0.

Every request has ``timeout`` seconds per network operation; the body read is
also stopped after ``timeout`` seconds or ``max_bytes`` bytes, and the graded
response then carries a ``body-truncated`` finding. Only HTML bodies (or
bodies without a Content-Type) are read.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import socket
import ssl
import time
import urllib.parse

import httpx

from . import compare_nonces
from . import grade_response
from ._explain import explain
from ._fields import collect
from ._scoring import DEFAULT_ALGORITHM
from ._types import Finding
from ._types import TestResult
from .results import AuditError
from .results import has_nonce
from .results import Hop
from .results import RouteAudit
from .results import with_findings

__all__ = [
    "MAX_REDIRECTS",
    "AuditError",
    "audit_url",
    "classify_redirection",
    "http_variant",
]

#: Redirects followed before giving up, as the Observatory does.
MAX_REDIRECTS = 10
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_HTML = ("text/html", "application/xhtml+xml", "")
_HEADERS = {
    "User-Agent": "flask-header-policy-audit",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}


@dataclasses.dataclass
class _Fetched:
    hops: list[Hop]
    headers: list[tuple[str, str]]
    body: bytes | None = None
    truncated: str | None = None  # why the body read stopped early


def classify_redirection(route: cabc.Sequence[Hop]) -> str:
    """The Observatory's ``redirection`` result for the chain from ``http://``.

    :param route: every response of the chain, the final one included;
        empty when nothing answered over HTTP.
    """
    if not route:
        return "redirection-not-needed-no-http"
    urls = [urllib.parse.urlsplit(hop.url) for hop in route]
    if len(urls) == 1:
        return "redirection-missing"
    if urls[-1].scheme != "https":
        return "redirection-not-to-https"
    if urls[1].scheme == "http":
        return "redirection-not-to-https-on-initial-redirection"
    if urls[0].scheme == "http" and urls[0].hostname != urls[1].hostname:
        return "redirection-off-host-from-http"
    return "redirection-to-https"


def _error(url: str, exc: Exception, timeout: float) -> AuditError:
    """One short message for what went wrong fetching ``url``."""
    if isinstance(exc, httpx.TimeoutException):
        return AuditError(f"{url}: timed out after {timeout:g} s", "timeout")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return AuditError(f"{url}: not a valid http:// or https:// URL", "url")
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            host = urllib.parse.urlsplit(url).hostname
            return AuditError(
                f"{url}: cannot resolve host {host!r} (DNS lookup failed)", "dns"
            )
        if isinstance(cause, ConnectionRefusedError):
            return AuditError(f"{url}: connection refused", "refused")
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or "certificate rejected"
            return AuditError(f"{url}: TLS certificate error: {reason}", "tls")
        if isinstance(cause, ssl.SSLError):
            reason = (cause.reason or str(cause)).replace("_", " ").lower()
            hint = " (is the server speaking HTTPS on this port?)"
            hint = hint if "version" in reason or "record" in reason else ""
            return AuditError(f"{url}: TLS handshake failed: {reason}{hint}", "tls")
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.RemoteProtocolError):
        return AuditError(f"{url}: the answer is not valid HTTP ({exc})", "protocol")
    return AuditError(f"{url}: {exc or type(exc).__name__}")


def _read(response: httpx.Response, max_bytes: int, timeout: float) -> _Fetched:
    raw = response.headers.raw
    fetched = _Fetched([], [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw])
    mime = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if mime not in _HTML or max_bytes <= 0:
        return fetched
    deadline = time.monotonic() + timeout
    body = bytearray()
    for chunk in response.iter_bytes(65536):
        body += chunk
        if len(body) > max_bytes:
            fetched.truncated = f"after {max_bytes:,} bytes"
            del body[max_bytes:]
            break
        if time.monotonic() > deadline:
            fetched.truncated = f"after {timeout:g} s"
            break
    fetched.body = bytes(body)
    return fetched


def _follow(
    client: httpx.Client,
    url: str,
    *,
    timeout: float,
    max_bytes: int,
) -> _Fetched:
    """GET ``url`` and follow its redirects by hand.

    The last hop is the final response, or the last redirect when more than
    :data:`MAX_REDIRECTS` are chained. ``max_bytes=0`` reads no body.
    """
    hops: list[Hop] = []
    while True:
        try:
            request = client.build_request(
                "GET", url, headers=_HEADERS, timeout=timeout
            )
            response = client.send(request, stream=True, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise _error(url, exc, timeout) from exc
        try:
            hops.append(Hop(url, response.status_code))
            location = response.headers.get("location")
            if (
                response.status_code in _REDIRECT_CODES
                and location
                and len(hops) <= MAX_REDIRECTS
            ):
                url = urllib.parse.urljoin(url, location.strip())
                continue
            fetched = _read(response, max_bytes, timeout)
        except httpx.HTTPError as exc:
            raise _error(url, exc, timeout) from exc
        finally:
            response.close()
        fetched.hops = hops
        return fetched


def _normalize(url: str) -> str:
    url = url.strip()
    if "://" not in url:
        url = "https://" + url  # a bare host name, as the Observatory takes
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        raise AuditError(f"{url}: not a valid URL", "url") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise AuditError(f"{url}: not a valid http:// or https:// URL", "url")
    return urllib.parse.urlunsplit(parts._replace(path=parts.path or "/"))


def http_variant(url: str, port: int = 80) -> str:
    """The ``http://`` URL the Observatory probes for ``url``: same host and
    path, on ``port``."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    netloc += "" if port == 80 else f":{port}"
    return urllib.parse.urlunsplit(parts._replace(scheme="http", netloc=netloc))


def _redirection(
    client: httpx.Client, url: str, first: _Fetched, *, timeout: float, port: int
) -> str:
    if urllib.parse.urlsplit(url).scheme == "http":
        return classify_redirection(first.hops)
    try:
        probe = _follow(client, http_variant(url, port), timeout=timeout, max_bytes=0)
    except AuditError as exc:
        if exc.kind == "tls":
            return "redirection-invalid-cert"
        return "redirection-not-needed-no-http"
    return classify_redirection(probe.hops)


def _truncated(why: str) -> Finding:
    fix = "Raise the timeout (--timeout)."
    if not why.endswith(" s"):
        fix = "Raise max_bytes, or audit a smaller page."
    return Finding(
        "info",
        "body-truncated",
        f"The body was read only {why}: scripts and <meta> policies after that"
        " point were not graded",
        fix,
    )


def audit_url(
    url: str,
    *,
    timeout: float = 10.0,
    max_bytes: int = 2_000_000,
    client: httpx.Client | None = None,
    check_http: bool = True,
    http_port: int = 80,
    algorithm: int = DEFAULT_ALGORITHM,
) -> RouteAudit:
    """Fetch ``url`` (following redirects) and grade the final response.

    The final URL is fetched a second time, without following redirects,
    when its CSP has a nonce, to catch a nonce reused across responses.

    :param url: an ``http://`` or ``https://`` URL; a bare host name means
        ``https://host/``.
    :param timeout: seconds allowed per network operation and for the body.
    :param max_bytes: the most body bytes read; more gives a finding.
    :param client: an ``httpx.Client`` to use (proxies, certificates);
        redirects are followed by hand whatever its settings.
    :param check_http: probe the ``http://`` variant of an ``https://`` URL
        for the ``redirection`` test (see the module documentation).
    :param http_port: the port of that probe (the Observatory's ``httpPort``).
    :param algorithm: the Observatory's scoring algorithm, 5 or 6 (see
        :func:`~flask_header_policy.audit.grade_response`).
    :raise AuditError: the URL is invalid, or the host cannot be resolved,
        refuses the connection, fails TLS, times out, speaks no HTTP, or
        redirects more than :data:`MAX_REDIRECTS` times.
    """
    url = _normalize(url)
    own = client is None
    http = httpx.Client(verify=True) if client is None else client
    try:
        first = _follow(http, url, timeout=timeout, max_bytes=max_bytes)
        final = first.hops[-1]
        if final.status in _REDIRECT_CODES and len(first.hops) > MAX_REDIRECTS:
            raise AuditError(f"{url}: more than {MAX_REDIRECTS} redirects", "redirects")
        findings: list[Finding] = []
        if first.truncated:
            findings.append(_truncated(first.truncated))
        if has_nonce(first.headers):
            again = _follow(http, final.url, timeout=timeout, max_bytes=0)
            reused = compare_nonces(first.headers, again.headers)
            findings.extend([reused] if reused else [])
        result = grade_response(
            first.headers, body=first.body, url=final.url, algorithm=algorithm
        )
        if check_http or url.startswith("http:"):
            redirection = TestResult.make(
                "redirection",
                _redirection(http, url, first, timeout=timeout, port=http_port),
            )
            result = result.with_tests(redirection)
            findings.extend(explain([redirection], (), collect(first.headers)))
    finally:
        if own:
            http.close()
    result = with_findings(result, findings)
    return RouteAudit(
        url, None, final.status, result, first.headers, final.url, tuple(first.hops)
    )
