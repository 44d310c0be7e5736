"""Audit a Flask app in process: grade every route as if served over HTTPS.

:func:`audit_app` drives the app's test client (no server, no network) and
grades each response with :func:`~flask_header_policy.audit.grade_response`.
"""

from __future__ import annotations

import collections.abc as cabc
import os
import typing as t
import urllib.parse

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.test import TestResponse

from . import compare_nonces
from . import grade_response
from ._scoring import DEFAULT_ALGORITHM
from .results import has_nonce
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


def _fetch(
    client: t.Any, base_url: str, path: str
) -> tuple[int, list[tuple[str, str]], str | None]:
    """Status, header fields and (HTML only) body text of ``GET path``."""
    response: TestResponse = client.get(path, base_url=base_url)
    try:
        body = response.get_data(as_text=True) if response.mimetype in _HTML else None
        return response.status_code, response.headers.to_wsgi_list(), body
    finally:
        response.close()


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
    catch a reused nonce (a ``csp-nonce-reused`` finding).

    A view that raises propagates its exception when the app propagates
    exceptions (``app.testing``), with a note naming the path.

    :param paths: extra paths to audit (query strings allowed).
    :param on_progress: ``on_progress(done, total, path)`` before each fetch.
    :param algorithm: the Observatory's scoring algorithm, 5 or 6 (see
        :func:`~flask_header_policy.audit.grade_response`).
    """
    targets = _targets(app, paths)
    client = app.test_client(use_cookies=False)
    base_url = _base_url(app)
    audits: list[RouteAudit] = []
    for index, (path, endpoint) in enumerate(targets):
        if on_progress is not None:
            on_progress(index, len(targets), path)
        try:
            status, headers, body = _fetch(client, base_url, path)
            # Only a nonce in the first response's CSP can be reused.
            again = _fetch(client, base_url, path)[1] if has_nonce(headers) else []
        except Exception as exc:
            exc.add_note(f"while auditing {path} (flask-header-policy audit)")
            raise
        url = base_url.rstrip("/") + path
        result = grade_response(headers, body=body, url=url, algorithm=algorithm)
        reused = compare_nonces(headers, again) if again else None
        result = with_findings(result, [reused] if reused else [])
        audits.append(RouteAudit(path, endpoint, status, result, headers, url))
    if on_progress is not None:
        on_progress(len(targets), len(targets), "")
    return audits
