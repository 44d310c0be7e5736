"""The per-request CSP nonce.

The nonce is created on first use, from ``os.urandom`` as :mod:`secrets`
reads it (144 bits, base64url), and kept in the request's WSGI environ for the
rest of the request, so every CSP header of the response and every template
carry the same one. (Not on
``g``: a request made while an app context is already pushed, as in the CLI or
a test, shares that context's ``g`` with the requests before it.)

Once the response headers are built, a request that has no nonce cannot get
one: it would not be in any header, and the script it marks would be blocked.
Likewise, a view whose policy sends no CSP with ``NONCE`` gets an error
under ``app.testing`` or ``app.debug`` (a warning, logged once per endpoint,
in production).
"""

from __future__ import annotations

import typing as t

from flask import current_app
from flask import request

from ._apply import new_nonce
from ._apply import NONCE_KEY as NONCE_KEY

#: Set in the WSGI environ once the policy has built the response headers.
SEALED_KEY = "flask_header_policy.headers_built"

# The request object itself, not the proxy: ``request.environ`` through the
# proxy costs four times as much, and templates ask once per stamped tag.
# Outside a request it raises RuntimeError, as the proxy does.
_current_request = t.cast(t.Any, request)._get_current_object
_current_app = t.cast(t.Any, current_app)._get_current_object


def request_environ() -> dict[str, t.Any] | None:
    """The current request's WSGI environ, or ``None`` outside a request."""
    try:
        environ: dict[str, t.Any] = _current_request().environ
    except RuntimeError:
        return None
    return environ


class NonceUnavailableError(RuntimeError):
    """``csp_nonce()`` was called after the headers were built without one."""


def csp_nonce() -> str:
    """Return the current request's CSP nonce, creating it on first use.

    Also available in Jinja templates as ``{{ csp_nonce() }}``::

        <script nonce="{{ csp_nonce() }}">…</script>

    :raise NonceUnavailableError: when the response headers were already
        built without a nonce (the call comes from a streamed body after
        headers were sent); or, under ``app.testing`` or ``app.debug``, when
        the endpoint's policy sends no CSP with ``NONCE``, so no header would
        allow what the nonce marks.
    """
    request = _current_request()
    environ = request.environ
    nonce: str | None = environ.get(NONCE_KEY)
    if nonce is None:
        if environ.get(SEALED_KEY):
            raise NonceUnavailableError(
                "csp_nonce() was called after the response headers were built,"
                " and they carry no nonce: the script or style it marks would be"
                " blocked. Use a policy with NONCE for this view, and read the"
                " nonce before the response is returned (not in a streamed body)."
            )
        app = _current_app()
        state = app.extensions.get("header_policy")
        if state is None:
            raise NonceUnavailableError(
                "csp_nonce() needs a header policy that sends it: install"
                " HeaderPolicy(app) with a ContentSecurityPolicy using NONCE"
            )
        state.check_nonce(app, request)
        nonce = environ[NONCE_KEY] = new_nonce()
    return nonce


def stamp_nonce() -> str | None:
    """The nonce that stamped templates put on their tags, or ``None``.

    Like :func:`csp_nonce`, but a template rendered outside a request (an
    e-mail in a background job) or after the headers were built without a
    nonce gets no ``nonce`` attribute instead of an error.
    """
    environ = request_environ()
    if environ is None:
        return None
    nonce: str | None = environ.get(NONCE_KEY)
    if nonce is None and not environ.get(SEALED_KEY):
        nonce = environ[NONCE_KEY] = new_nonce()
    return nonce
