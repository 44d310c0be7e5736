"""What is left to do per request, pinned structurally (never timed).

The policy, its branches, the plain-HTTP variants, the spliced hashes and the
cookie plan are made once; per request only the lookups and the ``extend``
remain. These tests record which functions of the package a warmed-up
request runs, and which builtins they call, so that work creeping back into
the request path fails a test instead of a benchmark someone may not run.
"""

from __future__ import annotations

import collections.abc as cabc
import sys
import types
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from flask import make_response
from flask import render_template
from flask import Response
from jinja2 import DictLoader
from werkzeug.test import EnvironBuilder

import flask_header_policy
from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import CookiePolicy
from flask_header_policy import extension
from flask_header_policy import HeaderPolicy
from flask_header_policy import NONCE

PACKAGE = str(Path(flask_header_policy.__file__).parent)


class Trace(t.NamedTuple):
    #: Python functions of the package that ran, by name.
    calls: list[str]
    #: Builtins the package's code called, by name.
    builtins: list[str]
    headers: list[tuple[str, str]]


def request(app: Flask, path: str = "/", scheme: str = "https") -> Trace:
    """One request straight through WSGI, traced."""
    builder = EnvironBuilder(path=path, base_url=f"{scheme}://app.example/")
    environ = builder.get_environ()
    builder.close()
    calls: list[str] = []
    builtins: list[str] = []
    seen: list[tuple[str, str]] = []

    def profile(frame: types.FrameType, event: str, arg: t.Any) -> None:
        if not frame.f_code.co_filename.startswith(PACKAGE):
            return
        if event == "call":
            calls.append(frame.f_code.co_name)
        elif event == "c_call":
            builtins.append(getattr(arg, "__name__", repr(arg)))

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> cabc.Callable[[bytes], object]:
        seen.extend(headers)
        return lambda data: None

    sys.setprofile(profile)
    try:
        body = app(environ, start_response)
        for _chunk in body:
            pass
        t.cast(t.Any, body).close()
    finally:
        sys.setprofile(None)
    return Trace(calls, builtins, seen)


def warmed(app: Flask, path: str = "/", scheme: str = "https") -> Trace:
    """The second of two requests: the first compiles and fills the caches."""
    request(app, path, scheme)
    return request(app, path, scheme)


WRAPPER = ["header_policy_wsgi_app", "policy_start_response"]
#: The branch's headers added: one call, and the nonce made on an HTML page
#: whose CSP carries it.
EXTEND = {"/": ["extend", "new_nonce"], "/json": ["extend"]}
HANDLER = "<button onclick=\"return confirm('Sure?')\">x</button>"
TEMPLATES = {
    "page.html": '<script nonce="{{ csp_nonce() }}"></script>'
    '<style nonce="{{ csp_nonce() }}"></style>',
    "handler.html": HANDLER,
}


def strict_app(**options: t.Any) -> Flask:
    app = Flask("per_request")
    app.testing = True
    # Compiled once and cached, as templates from files are.
    app.jinja_loader = DictLoader(TEMPLATES)  # type: ignore[method-assign]
    HeaderPolicy(app, preset="strict", **options)

    @app.get("/")
    def index() -> str:
        return "Hello"

    @app.get("/json")
    def json() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/page")
    def page() -> str:
        return render_template("page.html")

    @app.get("/cookie")
    def cookie() -> Response:
        response = make_response("Hello")
        response.set_cookie("theme", "dark")
        return response

    return app


@pytest.mark.parametrize("path", ["/", "/json"])
@pytest.mark.parametrize("scheme", ["https", "http"])
def test_a_strict_response_runs_the_wrapper_and_its_branch(
    path: str, scheme: str
) -> None:
    trace = warmed(strict_app(), path, scheme)
    assert trace.calls == [*WRAPPER, *EXTEND[path]]
    # No header name is lower-cased, split or parsed per request.
    assert "lower" not in trace.builtins
    assert "split" not in trace.builtins
    names = [name for name, _ in trace.headers]
    assert "X-Frame-Options" in names
    assert ("Strict-Transport-Security" in names) is (scheme == "https")


def test_a_template_asking_for_the_nonce_checks_the_policy_once() -> None:
    trace = warmed(strict_app(), "/page")
    assert trace.calls == [
        "header_policy_wsgi_app",
        "csp_nonce",  # the first call checks the endpoint's policy
        "check_nonce",
        "new_nonce",
        "csp_nonce",
        "policy_start_response",
        "extend",  # the nonce is the template's
    ]
    csp = dict(trace.headers)["Content-Security-Policy"]
    assert csp.count("'nonce-") == 2  # script-src and style-src


def test_cookies_are_looked_at_only_when_there_are_some() -> None:
    app = strict_app()
    assert "apply" not in warmed(app, "/").calls
    trace = warmed(app, "/cookie")
    assert trace.calls == [
        *WRAPPER,
        "scan",
        "harden_cookies",
        "apply",
        "_harden",
        *EXTEND["/"],
    ]
    # Nothing of the cookie policy itself is worked out again.
    assert "normalize_samesite" not in trace.calls
    assert dict(trace.headers)["Set-Cookie"] == (
        "theme=dark; Path=/; Secure; HttpOnly; SameSite=Lax"
    )


def test_no_request_state_without_a_callable(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []

    class Counted(extension._RequestState):  # type: ignore[misc,name-defined]
        __slots__ = ()

        def __init__(self, *args: t.Any) -> None:
            made.append(self)
            super().__init__(*args)

    monkeypatch.setattr(extension, "_RequestState", Counted)
    app = strict_app()

    @app.get("/framed")
    def framed() -> Response:  # a header of the policy: the general path
        return Response("x", headers={"X-Frame-Options": "SAMEORIGIN"})

    for path in ("/", "/json", "/page", "/cookie", "/framed"):
        request(app, path)
    assert made == []
    assert dict(request(app, "/framed").headers)["X-Frame-Options"] == "SAMEORIGIN"

    dynamic = strict_app(headers={"X-Request": lambda request, response: "1"})
    assert dict(request(dynamic, "/").headers)["X-Request"] == "1"
    assert len(made) == 1


def test_the_general_path_for_a_response_with_a_header_of_the_policy() -> None:
    app = strict_app()

    @app.get("/framed")
    def framed() -> Response:  # the Content-Type after the view's header
        return Response("x", headers={"X-Frame-Options": "SAMEORIGIN"})

    @app.get("/framed-too")
    def framed_too() -> Response:  # the Content-Type first, as Flask makes it
        response = make_response("x")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    trace = warmed(app, "/framed")
    assert trace.calls[:3] == [*WRAPPER, "apply_general"]
    assert dict(trace.headers)["X-Frame-Options"] == "SAMEORIGIN"
    trace = warmed(app, "/framed-too")
    assert trace.calls[:4] == [*WRAPPER, "scan", "apply_general"]
    assert dict(trace.headers)["X-Frame-Options"] == "SAMEORIGIN"


def test_endpoints_with_the_same_declarations_share_one_compiled_policy() -> None:
    app = Flask("many")
    policy = HeaderPolicy(app, preset="strict")
    for number in range(500):
        app.add_url_rule(f"/r{number}", f"r{number}", lambda: "x")
    app.add_url_rule("/own", "own", lambda: "x")
    policy.add_view_headers("own", {"X-Own": "1"})
    for number in range(500):
        request(app, f"/r{number}")
    request(app, "/own")
    state = app.extensions["header_policy"]
    shared = {id(state.cache[f"r{number}"]) for number in range(500)}
    assert len(shared) == 1
    assert id(state.cache["own"]) not in shared
    # A declaration made later is taken up.
    policy.add_view_headers("r7", {"X-Seven": "7"})
    assert dict(request(app, "/r7").headers)["X-Seven"] == "7"
    assert "X-Seven" not in dict(request(app, "/r8").headers)


def test_hashes_are_spliced_once_per_set_of_templates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flask_header_policy.templates import _flask

    spliced: list[str] = []
    real = _flask.splice_hashes

    def counted(value: str, hashes: t.Any) -> str:
        spliced.append(value)
        return real(value, hashes)

    monkeypatch.setattr(_flask, "splice_hashes", counted)
    app = strict_app()
    app.add_url_rule("/handler", "handler", lambda: render_template("handler.html"))
    nonces = set()
    for _ in range(5):
        csp = dict(request(app, "/handler").headers)["Content-Security-Policy"]
        nonces.add(csp.partition("'nonce-")[2].partition("'")[0])
        assert "'unsafe-hashes' 'sha256-" in csp
    assert len(nonces) == 5
    assert len(spliced) == 1  # the first response's policy, for all five
    # Per request: the template records its hash set; the response gets
    # the branch spliced for that set, looked up.
    assert request(app, "/handler").calls == [
        "header_policy_wsgi_app",
        "record_hashes",  # the extension's tag
        "record_hashes",  # into the request's environ
        "request_environ",
        "policy_start_response",
        "hashed",  # the state's: errors are logged, never raised
        "hashed",  # the branch's cached variant
        *EXTEND["/"],
    ]


def test_a_view_s_own_csp_gets_the_hashes_too() -> None:
    app = Flask("own_csp")
    app.testing = True
    app.jinja_loader = DictLoader(TEMPLATES)  # type: ignore[method-assign]
    HeaderPolicy(app, stamp_nonces=True)  # no CSP of the policy's
    csp = ContentSecurityPolicy({"script-src": [NONCE]})

    @app.get("/")
    def index() -> Response:
        response = make_response(render_template("handler.html"))
        response.headers["Content-Security-Policy"] = csp.to_header(nonce="abc")
        return response

    for _ in range(2):
        headers = request(app).headers
        (value,) = [v for n, v in headers if n == "Content-Security-Policy"]
        assert value.startswith("script-src 'nonce-abc'; script-src-attr")
        assert "'unsafe-hashes' 'sha256-" in value


def test_cookie_plans_are_made_with_the_policy() -> None:
    policy = CookiePolicy(samesite="None")
    assert policy._plans == ((False, None), (True, "SameSite=None"))
    assert CookiePolicy()._plans == ((False, "SameSite=Lax"), (True, "SameSite=Lax"))


def test_an_https_request_pays_one_call_for_the_redirect() -> None:
    app = strict_app(https_redirect=True)
    assert app.before_request_funcs == {}
    trace = warmed(app, "/")
    assert trace.calls == [
        "header_policy_wsgi_app",
        "preprocess_request",  # the scheme is read, nothing else
        "policy_start_response",
        *EXTEND["/"],
    ]
    plain = request(app, "/", "http")
    assert "redirect_to_https" in plain.calls
