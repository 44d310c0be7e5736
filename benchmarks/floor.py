"""The floor: the ``strict`` preset's headers written by hand, as cheaply as we can.

What a careful developer would write for one app that wants exactly the
headers ``HeaderPolicy(app, preset="strict")`` sends, and nothing else: a WSGI
middleware (so it sees every response, as the extension does) whose
``start_response`` finds the response's ``Content-Type``, picks a branch
prebuilt for that value (HTML or not, HTTPS or not), makes the request's nonce
only when the branch's CSP needs it, and extends the header list once. It
checks nothing: no header of the response is compared with the policy's, no
callable, no cookie, no error handling. Nothing about it is specific to a
benchmark: the per-request code would be the same in an app.

The values come from the preset's builders at start-up (so they are the same
as the extension's), never at request time; ``benchmarks/apps.py`` checks that
both send the same headers before anything is measured.
"""

from __future__ import annotations

import binascii
import collections.abc as cabc
import os
import typing as t

from flask import Flask
from flask import request

from flask_header_policy import Header
from flask_header_policy.presets import HTML
from flask_header_policy.presets import PRESETS

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

NONCE_KEY = "floor.nonce"
_CSP = "Content-Security-Policy"
_HTTPS_ONLY = frozenset({"Strict-Transport-Security"})
_current_request = t.cast(t.Any, request)._get_current_object
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_b2a = binascii.b2a_base64
_urandom = os.urandom


def new_nonce() -> str:
    """``secrets.token_urlsafe(18)`` in two C calls (what the extension does
    too: the floor must not pay for a slower generator than ours)."""
    return (
        binascii.b2a_base64(os.urandom(18), newline=False).translate(_URLSAFE).decode()
    )


HeaderList = list[tuple[str, str]]
#: The headers every response of a branch gets, and the CSP's text around the
#: nonce (``None``: the branch sends no nonce; its CSP is in the headers).
Branch = tuple[tuple[tuple[str, str], ...], tuple[str, ...] | None]


def csp_nonce() -> str:
    """The template global: the request's nonce, made on first use."""
    environ = _current_request().environ
    nonce: str | None = environ.get(NONCE_KEY)
    if nonce is None:
        nonce = environ[NONCE_KEY] = new_nonce()
    return nonce


def _branches() -> dict[tuple[bool, bool], Branch]:
    """(HTML, HTTPS) -> branch, from the strict preset's values."""
    headers = PRESETS["strict"].headers
    csp = t.cast(Header, headers[_CSP])
    page_csp = tuple(t.cast(t.Any, csp.value).to_template())
    other_csp = t.cast(t.Any, csp.otherwise).to_header()
    common = [
        (name, t.cast(t.Any, value).to_header())
        for name, value in headers.items()
        if name != _CSP and not isinstance(value, Header)  # Header: remove()
    ]
    plain = tuple(item for item in common if item[0] not in _HTTPS_ONLY)
    return {
        (True, True): (tuple(common), page_csp),
        (True, False): (plain, page_csp),
        (False, True): ((*common, (_CSP, other_csp)), None),
        (False, False): ((*plain, (_CSP, other_csp)), None),
    }


class StrictFloor:
    """Install on ``app``: wrap its ``wsgi_app``, add ``csp_nonce()``."""

    def __init__(self, app: Flask) -> None:
        self.wsgi_app: WSGIApplication = app.wsgi_app
        self.prebuilt = _branches()
        #: Content-Type value and scheme -> branch, filled on first sight.
        self.by_type: dict[tuple[str | None, bool], Branch] = {}
        app.wsgi_app = self  # type: ignore[method-assign]
        app.jinja_env.globals["csp_nonce"] = csp_nonce

    def branch(self, content_type: str | None, secure: bool) -> Branch:
        mimetype = (content_type or "").partition(";")[0].strip().lower()
        branch = self.by_type[content_type, secure] = self.prebuilt[
            mimetype in HTML, secure
        ]
        return branch

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> cabc.Iterable[bytes]:
        def floor_start_response(
            status: str, headers: HeaderList, exc_info: t.Any = None
        ) -> t.Any:
            content_type = None
            for name, value in headers:
                if name.lower() == "content-type":
                    content_type = value
                    break
            secure = environ["wsgi.url_scheme"] == "https"
            branch = self.by_type.get((content_type, secure))
            if branch is None:
                branch = self.branch(content_type, secure)
            items, parts = branch
            headers.extend(items)
            if parts is not None:
                nonce = environ.get(NONCE_KEY)
                if nonce is None:  # new_nonce(), inline
                    nonce = environ[NONCE_KEY] = (
                        _b2a(_urandom(18), newline=False).translate(_URLSAFE).decode()
                    )
                headers.append((_CSP, nonce.join(parts)))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, floor_start_response)
