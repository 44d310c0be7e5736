"""Redirect plain-HTTP requests to the same URL over HTTPS.

:class:`HTTPSRedirect` says which requests are redirected and how;
:func:`https_location` builds the target from the WSGI environ;
:func:`redirect_to_https` answers a plain-HTTP request, ahead of the app's
``before_request`` functions. A request is secure by its WSGI scheme only
(``wsgi.url_scheme``, what ``request.is_secure`` reads): behind a proxy that
terminates TLS, put Werkzeug's ``ProxyFix`` in front; ``X-Forwarded-Proto`` is
never read here.

The target keeps the request's host, path and query. The host is the one
Werkzeug validated (``request.host``: ``TRUSTED_HOSTS`` applies), checked once
more against a strict grammar, so a malformed ``Host`` can neither inject a
header nor make the target name another host than it says (a well-formed
``Host`` of another site is redirected there: ``TRUSTED_HOSTS`` refuses it);
the path, always starting with ``/``, is taken from the raw
request target when the server gives it (``RAW_URI`` / ``REQUEST_URI``), so
percent-encoding such as ``%2F`` survives. The port is dropped (HTTPS on its
standard port 443) unless :attr:`HTTPSRedirect.port` names one: the port a
plain-HTTP request came in on cannot also speak TLS.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import ipaddress
import re
import typing as t
import urllib.parse

from flask import abort
from flask import Flask
from flask import request
from werkzeug.wrappers import Response

__all__ = [
    "AUDIT_KEY",
    "REDIRECT_CODES",
    "REDIRECTED_KEY",
    "HTTPSRedirect",
    "https_location",
    "is_loopback_host",
    "redirect_to_https",
    "split_host",
]

#: The status codes a redirect may use: 308 and 307 keep the method and the
#: body (a POST stays a POST), 301 and 302 let browsers turn it into a GET.
REDIRECT_CODES: frozenset[int] = frozenset({301, 302, 307, 308})
#: Set in the WSGI environ of a request that was redirected, so the policy
#: gives the redirect the app layer's headers (not the view's).
REDIRECTED_KEY = "flask_header_policy.https_redirect"
#: Set by the in-process audit on its ``http://`` probe: the redirect is
#: judged as production serves it, whatever ``app.testing``, ``app.debug``
#: and the loopback rule say. (Only WSGI code can set environ keys.)
AUDIT_KEY = "flask_header_policy.audit"

_SECURE_SCHEMES = frozenset({"https", "wss"})
# A host as Werkzeug validates it: a name or IPv4 address, or a bracketed
# IPv6 address, then an optional port. Nothing else may reach a Location.
_HOST_RE = re.compile(
    r"(?P<name>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?"
)
# RFC 3986 characters of an origin-form request target (no space, no '#').
_TARGET_RE = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/%\[\]?]*")
_PATH_SAFE = "/!$&'()*+,;=:@-._~"
_QUERY_SAFE = _PATH_SAFE + "?%[]"


def _names(value: object, what: str) -> frozenset[str]:
    if isinstance(value, str):
        raise TypeError(f"{what} takes a collection of names, not a str")
    names = frozenset(t.cast("cabc.Iterable[str]", value))
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{what} holds names (str), not {type(name).__name__}")
    return names


@dataclasses.dataclass(frozen=True, slots=True)
class HTTPSRedirect:
    """Which plain-HTTP requests are redirected to HTTPS, and how.

    ``HeaderPolicy(app, https_redirect=True)`` uses the defaults;
    ``https_redirect=HTTPSRedirect(exempt_paths=["/healthz"])`` adjusts them.

    :param status: 308 (the default: permanent, method and body kept), 301,
        302 or 307.
    :param exempt_endpoints: endpoints never redirected (``"health"``).
    :param exempt_blueprints: blueprints never redirected, nested ones
        included (``"api"`` exempts ``"api.v1"``).
    :param exempt_paths: path prefixes never redirected, matched whole
        segment by segment: ``"/.well-known/acme-challenge"`` exempts that
        folder and what is below it, ``"/health"`` does not exempt
        ``"/healthz"``. Each starts with ``/``.
    :param exempt: ``exempt(request) -> bool``, called last; true exempts.
    :param redirect_loopback: also redirect requests to loopback hosts
        (``localhost``, ``*.localhost``, 127.0.0.0/8, ``::1``), which are
        served as they come by default: browsers treat them as secure.
    :param in_debug: also redirect when ``app.debug`` is set.
    :param in_testing: also redirect when ``app.testing`` is set.
    :param port: the HTTPS port of the target; ``None`` (the default) drops
        the port, for HTTPS on 443.
    :raise ValueError: another status, a path without a leading ``/``, a
        port out of range.
    :raise TypeError: a ``str`` where a collection of names is expected.
    """

    status: int = 308
    exempt_endpoints: frozenset[str] = frozenset()
    exempt_blueprints: frozenset[str] = frozenset()
    exempt_paths: tuple[str, ...] = ()
    exempt: cabc.Callable[[t.Any], bool] | None = None
    redirect_loopback: bool = False
    in_debug: bool = False
    in_testing: bool = False
    port: int | None = None

    def __post_init__(self) -> None:
        if (
            not isinstance(self.status, int)
            or isinstance(self.status, bool)
            or self.status not in REDIRECT_CODES
        ):
            raise ValueError(
                f"status={self.status!r}: an HTTPS redirect uses 308 (permanent,"
                " keeps method and body), 307, 301 or 302"
            )
        object.__setattr__(
            self, "exempt_endpoints", _names(self.exempt_endpoints, "exempt_endpoints")
        )
        object.__setattr__(
            self,
            "exempt_blueprints",
            _names(self.exempt_blueprints, "exempt_blueprints"),
        )
        if isinstance(self.exempt_paths, str):
            raise TypeError("exempt_paths takes a collection of paths, not a str")
        paths = tuple(self.exempt_paths)
        for path in paths:
            if not isinstance(path, str) or not path.startswith("/"):
                raise ValueError(f"exempt_paths: {path!r} must start with '/'")
        object.__setattr__(self, "exempt_paths", paths)
        if self.exempt is not None and not callable(self.exempt):
            raise TypeError("exempt takes a callable exempt(request) -> bool")
        if self.port is not None and (
            not isinstance(self.port, int)
            or isinstance(self.port, bool)
            or not 0 < self.port < 65536
        ):
            raise ValueError(f"port={self.port!r} is not a TCP port (1-65535)")

    def exempts_path(self, path: str) -> bool:
        """Whether ``path`` is at or below one of ``exempt_paths``."""
        for prefix in self.exempt_paths:
            if prefix.endswith("/"):
                if path.startswith(prefix) or path == prefix[:-1]:
                    return True
            elif path == prefix or path.startswith(prefix + "/"):
                return True
        return False


def split_host(host: str) -> tuple[str, int | None] | None:
    """``(name, port)`` of a ``Host`` value, or ``None`` when it is malformed.

    IPv6 addresses keep their brackets: ``"[::1]:8080"`` gives
    ``("[::1]", 8080)``.
    """
    match = _HOST_RE.fullmatch(host)
    if match is None:
        return None
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return None
    return match.group("name"), None if port is None else int(port)


def is_loopback_host(name: str) -> bool:
    """Whether a host name (without port) is a loopback host.

    ``localhost`` and names below it (RFC 6761), 127.0.0.0/8 and ``::1``,
    IPv4-mapped loopback included; a trailing dot and the case are ignored.
    """
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _target_path(environ: cabc.Mapping[str, t.Any]) -> str:
    """The request's path, percent-encoded as the client sent it if possible."""
    decoded = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if isinstance(raw, str) and _TARGET_RE.fullmatch(raw):
        raw_path = raw.partition("?")[0]
        unquoted = urllib.parse.unquote_to_bytes(raw_path).decode("latin-1")
        # The raw target is trusted only when it is the path the app sees;
        # a prefix a middleware added (ProxyFix's X-Forwarded-Prefix) is
        # encoded in front of it.
        if unquoted and decoded.endswith(unquoted):
            prefix = decoded[: len(decoded) - len(unquoted)]
            return _quote_path(prefix) + raw_path
    path = _quote_path(decoded)
    # Only an origin-form path may follow the host: "OPTIONS *" (asterisk
    # form) would make "https://host*", another host name.
    return path if path.startswith("/") else "/" + path


def _quote_path(decoded: str) -> str:
    # PEP 3333: the WSGI path is the request's bytes decoded as Latin-1.
    return urllib.parse.quote(decoded.encode("latin-1"), safe=_PATH_SAFE)


def https_location(
    environ: cabc.Mapping[str, t.Any], host: str, *, port: int | None = None
) -> str | None:
    """The ``https://`` URL of a request: same host, path and query.

    :param environ: the request's WSGI environ (path and query are read).
    :param host: the request's ``host[:port]``, as ``request.host`` gives it.
    :param port: the HTTPS port; ``None`` or 443 leaves it out.
    :return: the URL, printable ASCII only; ``None`` when ``host`` is
        empty or malformed (no URL can be built that stays on this site).
    """
    parts = split_host(host)
    if parts is None:
        return None
    name = parts[0].lower()
    netloc = name if port in (None, 443) else f"{name}:{port}"
    query = environ.get("QUERY_STRING", "")
    if isinstance(query, str) and query:
        # WSGI leaves the query undecoded: only what may not appear raw in
        # a URL is escaped; existing escapes stay as they are.
        query = "?" + urllib.parse.quote(query.encode("latin-1"), safe=_QUERY_SAFE)
    else:
        query = ""
    return f"https://{netloc}{_target_path(environ)}{query}"


def redirect_to_https(
    app: Flask, config: HTTPSRedirect, on_error: cabc.Callable[[Exception], None]
) -> Response | None:
    """Answer a plain-HTTP request with a redirect to HTTPS, or return ``None``.

    Runs before the app's URL value preprocessors and ``before_request``
    functions (the extension wraps ``app.preprocess_request``).

    :param on_error: called with what ``config.exempt`` raised (the request
        is then redirected, the safe side).
    """
    environ = request.environ
    if environ.get("wsgi.url_scheme") in _SECURE_SCHEMES:
        return None
    audit = bool(environ.get(AUDIT_KEY))
    if not audit and (
        (app.testing and not config.in_testing) or (app.debug and not config.in_debug)
    ):
        return None
    if request.endpoint is not None and request.endpoint in config.exempt_endpoints:
        return None
    if config.exempt_blueprints and not config.exempt_blueprints.isdisjoint(
        request.blueprints
    ):
        return None
    if config.exempt_paths and config.exempts_path(request.path):
        return None
    host = request.host  # raises SecurityError (400) outside TRUSTED_HOSTS
    parts = split_host(host)
    if parts is None:
        abort(400, description="The Host header is missing or malformed.")
    if not audit and not config.redirect_loopback and is_loopback_host(parts[0]):
        return None
    if config.exempt is not None:
        try:
            if config.exempt(request):
                return None
        except Exception as error:  # a user's predicate may raise anything
            on_error(error)
    location = https_location(environ, host, port=config.port)
    if location is None:  # pragma: no cover - split_host above agreed
        abort(400, description="The Host header is missing or malformed.")
    environ[REDIRECTED_KEY] = True
    return app.redirect(location, config.status)
