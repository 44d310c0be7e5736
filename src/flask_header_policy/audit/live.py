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

Each fetch (the URL and its redirects; the second fetch for a nonce; the
``http://`` probe) has one wall-clock deadline of ``timeout`` seconds for
everything it does: connecting, TLS, sending, every header block and the
body. Past it, the fetch's connections are shut down, so a server that drips
one byte at a time cannot stall the audit. A header block not complete by
then is an :class:`AuditError`; a body is graded as far as it came, with a
``body-truncated`` finding.

Only HTML bodies (or bodies without a Content-Type) are read, as raw bytes:
content codings are undone here (gzip, deflate; br when a Brotli >= 1.2
decoder is installed), at most two layers and at most ``max_bytes`` decoded
bytes, so a compression bomb costs no more memory than that. A body that
cannot be decoded is not graded and gets a ``body-not-decoded`` finding.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import re
import socket
import ssl
import threading
import time
import typing as t
import urllib.parse

import httpx

from . import compare_nonces
from . import grade_response
from ._decode import accept_encoding
from ._decode import ContentDecoder
from ._decode import DecodeError
from ._decode import UnsupportedEncoding
from ._explain import explain
from ._fields import collect
from ._scoring import DEFAULT_ALGORITHM
from ._types import Finding
from ._types import TestResult
from .results import AuditError
from .results import body_not_decoded
from .results import body_truncated
from .results import classify_redirection
from .results import has_nonce
from .results import Hop
from .results import MAX_BODY
from .results import MAX_REDIRECTS
from .results import REDIRECT_CODES as _REDIRECT_CODES
from .results import RouteAudit
from .results import with_findings

__all__ = [
    "MAX_REDIRECTS",
    "MAX_TIMEOUT",
    "AuditError",
    "audit_url",
    "classify_redirection",
    "http_variant",
    "normalize_url",
]

#: The longest deadline a fetch may have, in seconds (socket timeouts and
#: timers refuse infinite or huge ones).
MAX_TIMEOUT = 3600.0
_HTML = ("text/html", "application/xhtml+xml", "")
_HEADERS = {
    "User-Agent": "flask-header-policy-audit",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
_CONNECTED = (".connect_tcp.complete", ".connect_unix_socket.complete")


@dataclasses.dataclass
class _Fetched:
    hops: list[Hop]
    headers: list[tuple[str, str]]
    body: bytes | None = None
    truncated: str | None = None  # why the body read stopped early
    undecoded: str | None = None  # why the body could not be decoded


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the other side
    sock.close()


class _Deadline:
    """One wall-clock deadline for a whole fetch.

    httpx times each network operation on its own, so a server that sends a
    byte every half second never trips a read timeout. Each request gets the
    time left as its timeouts, and when the deadline passes every connection
    the fetch opened is shut down, which ends a blocked read at once. The
    sockets are found through httpcore's ``trace`` request extension, so
    this works with any ``httpx.Client`` whose transport is httpcore's.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        """Seconds until the deadline (negative once it passed)."""
        return self._end - time.monotonic()

    def passed(self) -> bool:
        return self._expired or self.left() <= 0

    def trace(self, event: str, info: cabc.Mapping[str, t.Any]) -> None:
        """httpcore's ``trace`` callback: watch each new connection."""
        if not event.endswith(_CONNECTED):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        # A duplicate descriptor still reaches the connection after TLS
        # wraps (and detaches) the original socket object.
        try:
            watched = sock.dup()
        except OSError:
            return  # out of descriptors: the per-read timeouts still apply
        with self._lock:
            if not self._expired:
                self._sockets.append(watched)
                return
        _shutdown(watched)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shutdown(sock)

    def close(self) -> None:
        """Stop the timer; the duplicates are closed, the connections kept."""
        self._timer.cancel()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()


def _error(url: str, exc: Exception, deadline: _Deadline) -> AuditError:
    """One short message for what went wrong fetching ``url``."""
    if isinstance(exc, httpx.TimeoutException) or deadline.passed():
        return AuditError(f"{url}: timed out after {deadline.seconds:g} s", "timeout")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL | ValueError):
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


def _is_html(response: httpx.Response) -> bool:
    """No Content-Type, or one of them is HTML (Chromium renders by the last)."""
    types = [
        v.split(";")[0].strip().lower()
        for v in response.headers.get_list("content-type")
    ]
    return not any(types) or any(mime in _HTML for mime in types if mime)


def _read(response: httpx.Response, max_bytes: int, deadline: _Deadline) -> _Fetched:
    raw = response.headers.raw
    fetched = _Fetched([], [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw])
    if max_bytes <= 0 or not _is_html(response):
        return fetched
    try:
        decoder = ContentDecoder(
            response.headers.get_list("content-encoding"), max_bytes
        )
    except UnsupportedEncoding as exc:
        fetched.undecoded = str(exc)
        return fetched
    timed_out = False
    try:
        # iter_raw() without a size hands on each read as it arrives;
        # iter_bytes(n) would wait for n bytes and decode without a limit.
        for chunk in response.iter_raw():
            decoder.feed(chunk)
            if decoder.full:
                break
            if deadline.passed():
                timed_out = True
                break
        else:
            decoder.finish()
    except DecodeError as exc:
        fetched.undecoded = f"{exc} after {len(decoder.body):,} decoded bytes"
    except httpx.HTTPError:
        if not deadline.passed():
            raise
        timed_out = True  # the deadline shut the connection down
    if decoder.full:
        fetched.truncated = f"after {max_bytes:,} bytes"
    elif timed_out:
        fetched.truncated = f"after {deadline.seconds:g} s"
    fetched.body = None if fetched.undecoded else bytes(decoder.body)
    return fetched


def _follow(
    client: httpx.Client,
    url: str,
    *,
    timeout: float,
    max_bytes: int,
) -> _Fetched:
    """GET ``url`` and follow its redirects by hand, within one deadline.

    The last hop is the final response, or the last redirect when more than
    :data:`MAX_REDIRECTS` are chained. ``max_bytes=0`` reads no body.
    """
    deadline = _Deadline(timeout)
    try:
        return _hops(client, url, deadline, max_bytes)
    finally:
        deadline.close()


def _hops(
    client: httpx.Client, url: str, deadline: _Deadline, max_bytes: int
) -> _Fetched:
    hops: list[Hop] = []
    headers = {**_HEADERS, "Accept-Encoding": accept_encoding()}
    while True:
        if deadline.passed():
            raise _error(url, TimeoutError(), deadline)
        try:
            request = client.build_request(
                "GET",
                url,
                headers=headers,
                timeout=deadline.left(),
                extensions={"trace": deadline.trace},
            )
            response = client.send(request, stream=True, follow_redirects=False)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            raise _error(url, exc, deadline) from exc
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
            fetched = _read(response, max_bytes, deadline)
        except (httpx.HTTPError, ValueError) as exc:
            raise _error(url, exc, deadline) from exc
        finally:
            response.close()
        fetched.hops = hops
        return fetched


# "scheme:" followed by something other than a port: a URL of another
# scheme (javascript:, mailto:, data:), not a bare "host:port".
_OTHER_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?![0-9]*(?:[/?#]|$))")


def normalize_url(url: str) -> str:
    """``url`` as the audit fetches it: a bare host name (``example.org``,
    ``host:8443/path``) means ``https://``, and an empty path ``/``.

    :raise AuditError: not an ``http://`` or ``https://`` URL (a
        ``javascript:`` URL is named as given).
    """
    url = url.strip()
    if "://" not in url:
        if _OTHER_SCHEME_RE.match(url):
            raise AuditError(f"{url}: not a valid http:// or https:// URL", "url")
        url = "https://" + url  # a bare host name, as the Observatory takes
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
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
    return body_truncated(why, fix)


def audit_url(
    url: str,
    *,
    timeout: float = 10.0,
    max_bytes: int = MAX_BODY,
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
    :param timeout: seconds allowed for each fetch as a whole (connection,
        redirects, headers and body), more than 0 and at most
        ``MAX_TIMEOUT`` (an hour); anything else is a ``ValueError``.
    :param max_bytes: the most body bytes read; more gives a finding.
    :param client: an ``httpx.Client`` to use (proxies, certificates);
        redirects are followed by hand whatever its settings. The deadline
        shuts down the connections a fetch opens; one the client reuses
        from its pool is bounded by the client's own per-read timeouts.
    :param check_http: probe the ``http://`` variant of an ``https://`` URL
        for the ``redirection`` test (see the module documentation).
    :param http_port: the port of that probe (the Observatory's ``httpPort``).
    :param algorithm: the Observatory's scoring algorithm, 5 or 6 (see
        :func:`~flask_header_policy.audit.grade_response`).
    :raise AuditError: the URL is invalid, or the host cannot be resolved,
        refuses the connection, fails TLS, times out, speaks no HTTP, or
        redirects more than :data:`MAX_REDIRECTS` times.
    """
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout <= MAX_TIMEOUT  # also false for nan
    ):
        raise ValueError(
            f"timeout={timeout!r}: a number of seconds, more than 0 and at most"
            f" {MAX_TIMEOUT:g}"
        )
    url = normalize_url(url)
    own = client is None
    # No kept-alive connections: each request opens one, which the deadline
    # of its fetch watches.
    fresh = httpx.Limits(max_keepalive_connections=0)
    http = httpx.Client(verify=True, limits=fresh) if client is None else client
    try:
        first = _follow(http, url, timeout=timeout, max_bytes=max_bytes)
        final = first.hops[-1]
        if final.status in _REDIRECT_CODES and len(first.hops) > MAX_REDIRECTS:
            raise AuditError(f"{url}: more than {MAX_REDIRECTS} redirects", "redirects")
        findings: list[Finding] = []
        if first.truncated:
            findings.append(_truncated(first.truncated))
        if first.undecoded:
            findings.append(body_not_decoded(first.undecoded))
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
