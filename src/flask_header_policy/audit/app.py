"""Audit a Flask app in process: grade every route as if served over HTTPS.

:func:`audit_app` drives the app's test client (no server, no network) and
grades each response with :func:`~flask_header_policy.audit.grade_response`.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import os
import typing as t
import urllib.parse

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.test import TestResponse

from ..https_redirect import AUDIT_KEY
from ..rules import Mode
from . import compare_nonces
from . import grade_response
from ._decode import ContentDecoder
from ._decode import DecodeError
from ._decode import UnsupportedEncoding
from ._scoring import DEFAULT_ALGORITHM
from ._types import Finding
from ._types import TestResult
from .results import body_not_decoded
from .results import body_truncated
from .results import classify_redirection
from .results import has_nonce
from .results import Hop
from .results import MAX_BODY
from .results import MAX_REDIRECTS
from .results import REDIRECT_CODES
from .results import RouteAudit
from .results import with_findings

__all__ = ["NOT_FOUND_PATH", "BASE_URL", "ProgressCallback", "audit_app"]

#: The audit fetches this to see the 404 page; it must match no route.
NOT_FOUND_PATH = "/__header_policy_audit_404__"
#: Requests are made as if the app were served at this origin (or at the
#: ``SERVER_NAME`` the app is configured with, over HTTPS).
BASE_URL = "https://localhost/"

#: ``on_progress(done, total, path)``: called before each route is fetched.
ProgressCallback = cabc.Callable[[int, int, str], None]

_HTML = ("text/html", "application/xhtml+xml")


def _static_file(app: Flask) -> str | None:
    """The URL path of one file in the app's static folder, if it has any."""
    folder = app.static_folder
    if not app.has_static_folder or folder is None or app.static_url_path is None:
        return None
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                relative = os.path.relpath(os.path.join(root, name), folder)
                url_path = app.static_url_path.rstrip("/")
                return f"{url_path}/{relative.replace(os.sep, '/')}"
    return None


def _targets(app: Flask, paths: cabc.Iterable[str]) -> list[tuple[str, str | None]]:
    """``(path, endpoint)`` pairs to audit, each path once, in a stable order."""
    routes: dict[str, str | None] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if "GET" not in (rule.methods or ()) or rule.host or rule.subdomain:
            continue
        # Rules whose every argument has a default need no URL argument.
        if rule.arguments - set(rule.defaults or ()):
            continue
        routes.setdefault(rule.rule, rule.endpoint)
    routes.setdefault(NOT_FOUND_PATH, None)
    static = _static_file(app)
    if static is not None:
        routes.setdefault(static, "static")
    host = urllib.parse.urlsplit(_base_url(app)).netloc
    adapter = app.url_map.bind(host, url_scheme="https")
    for path in paths:
        if not path.startswith("/"):
            path = "/" + path
        routes.setdefault(path, _endpoint_for(adapter, path))
    return list(routes.items())


def _endpoint_for(adapter: t.Any, path: str) -> str | None:
    try:
        endpoint, _ = adapter.match(path.split("?", 1)[0], method="GET")
    except RequestRedirect:
        return None
    except HTTPException:
        return None
    return t.cast(str, endpoint)


def _base_url(app: Flask) -> str:
    server_name = app.config.get("SERVER_NAME")
    return f"https://{server_name}/" if server_name else BASE_URL


def _read(response: TestResponse) -> tuple[bytes | None, list[Finding]]:
    """At most :data:`~.results.MAX_BODY` decoded bytes of a streamed body.

    The body is pulled chunk by chunk, so an endless streamed route costs no
    more than the cap; closing the response stops its generator.
    """
    try:
        decoder = ContentDecoder(response.headers.getlist("Content-Encoding"), MAX_BODY)
        for chunk in response.iter_encoded():
            decoder.feed(chunk)
            if decoder.full:
                break
        else:
            decoder.finish()
    except (UnsupportedEncoding, DecodeError) as exc:
        return None, [body_not_decoded(str(exc))]
    findings = []
    if decoder.full:
        why = f"after {MAX_BODY:,} bytes"
        findings.append(body_truncated(why, "Audit a smaller page."))
    return bytes(decoder.body), findings


def _fetch(
    client: t.Any, base_url: str, path: str
) -> tuple[int, list[tuple[str, str]], bytes | None, list[Finding]]:
    """Status, header fields, (HTML only) body and body findings of ``GET path``."""
    response: TestResponse = client.get(path, base_url=base_url, buffered=False)
    try:
        body: bytes | None = None
        findings: list[Finding] = []
        types = [
            v.split(";")[0].strip().lower()
            for v in response.headers.getlist("Content-Type")
        ]
        if any(mime in _HTML for mime in types):
            body, findings = _read(response)
        return response.status_code, response.headers.to_wsgi_list(), body, findings
    finally:
        response.close()


def _csp_source(app: Flask, endpoint: str | None) -> str | None:
    """The layer that declares the endpoint's CSP (``"preset:strict"``), if
    the app has a header policy and it declares one."""
    state = app.extensions.get("header_policy")
    policy = getattr(state, "policy", None)
    if policy is None:
        return None
    try:
        declared = policy.effective(app, endpoint)
    except Exception:  # noqa: BLE001 - a name in a fix is not worth a failure
        return None
    for entry in declared:
        if entry.key == "content-security-policy" and entry.mode is not Mode.REMOVE:
            return t.cast(str, entry.source)
    return None


def _redirection(client: t.Any, base_url: str, path: str) -> str:
    """The Observatory's ``redirection`` result for ``path``, from ``http://``.

    The ``http://`` URL is fetched and its redirects followed in process (the
    app answers for every host), as production would serve them: the probe
    carries :data:`~flask_header_policy.https_redirect.AUDIT_KEY`, so
    ``app.testing``, ``app.debug`` and the loopback rule do not turn the
    redirect off.
    """
    host = urllib.parse.urlsplit(base_url).hostname or "localhost"
    url = f"http://{host}{path}"
    hops: list[Hop] = []
    while True:
        parts = urllib.parse.urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        response: TestResponse = client.get(
            target,
            base_url=f"{parts.scheme}://{parts.netloc}/",
            environ_overrides={AUDIT_KEY: True},
        )
        response.close()
        hops.append(Hop(url, response.status_code))
        location = response.headers.get("Location")
        if (
            response.status_code not in REDIRECT_CODES
            or not location
            or len(hops) > MAX_REDIRECTS
            or parts.scheme not in ("http", "https")
        ):
            return classify_redirection(hops)
        url = urllib.parse.urljoin(url, location.strip())


@contextlib.contextmanager
def _propagating(app: Flask) -> cabc.Iterator[None]:
    """Let a view's exception reach the audit instead of Flask's error log."""
    saved = app.config.get("PROPAGATE_EXCEPTIONS")
    app.config["PROPAGATE_EXCEPTIONS"] = True
    try:
        yield
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = saved


def audit_app(
    app: Flask,
    *,
    paths: cabc.Iterable[str] = (),
    on_progress: ProgressCallback | None = None,
    algorithm: int = DEFAULT_ALGORITHM,
) -> list[RouteAudit]:
    """Grade every GET route of ``app`` as if served at ``https://localhost/``.

    (At ``https://`` + ``SERVER_NAME`` when the app sets ``SERVER_NAME``.)

    Audited: each GET route without URL arguments, the 404 page
    (:data:`NOT_FOUND_PATH`), one file of the static folder (if there is
    one) and every path in ``paths`` (use it for routes with arguments,
    e.g. ``"/user/1"``). Requests carry no cookies. The first response is
    graded; when its CSP has a nonce, the path is fetched a second time to
    catch a reused nonce (a ``csp-nonce-reused`` finding). HTML bodies are
    read up to :data:`~flask_header_policy.audit.results.MAX_BODY` decoded
    bytes, streamed ones too.

    When the app redirects plain HTTP to HTTPS (``https_redirect``), each
    path is also fetched once over ``http://`` and the redirect chain graded
    as the Observatory's ``redirection`` test, the way the live audit does;
    without a configured redirect that test is left out (a proxy in front
    may redirect).

    A view that raises (while answering or while streaming its body) gives
    an error row
    (:meth:`~flask_header_policy.audit.results.RouteAudit.raised`, graded F)
    instead of Flask's 500 page and its logged traceback: exceptions
    propagate to the audit while it runs.

    :param paths: extra paths to audit (query strings allowed).
    :param on_progress: ``on_progress(done, total, path)`` before each fetch.
    :param algorithm: the Observatory's scoring algorithm, 5 or 6 (see
        :func:`~flask_header_policy.audit.grade_response`).
    """
    targets = _targets(app, paths)
    client = app.test_client(use_cookies=False)
    base_url = _base_url(app)
    state = app.extensions.get("header_policy")
    redirects = getattr(state, "https_redirect", None) is not None
    stamping = getattr(state, "splice", None) is not None
    audits: list[RouteAudit] = []
    with _propagating(app):
        for index, (path, endpoint) in enumerate(targets):
            if on_progress is not None:
                on_progress(index, len(targets), path)
            url = base_url.rstrip("/") + path
            try:
                status, headers, body, findings = _fetch(client, base_url, path)
                # Only a nonce in the first response's CSP can be reused.
                again = _fetch(client, base_url, path)[1] if has_nonce(headers) else []
                redirection = (
                    _redirection(client, base_url, path) if redirects else None
                )
            except Exception as exc:  # noqa: BLE001 - any view error is a row
                audits.append(RouteAudit.raised(path, endpoint, url, exc))
                continue
            source = _csp_source(app, endpoint)
            result = grade_response(
                headers,
                body=body,
                url=url,
                csp_source=source,
                stamping=stamping,
                algorithm=algorithm,
            )
            if redirection is not None:
                result = result.with_tests(TestResult.make("redirection", redirection))
            reused = compare_nonces(headers, again) if again else None
            findings += [reused] if reused else []
            result = with_findings(result, findings)
            audits.append(RouteAudit(path, endpoint, status, result, headers, url))
    if on_progress is not None:
        on_progress(len(targets), len(targets), "")
    return audits
