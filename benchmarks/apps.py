"""The apps the benchmarks measure, side by side, and the check each must pass.

Each row is one app and one route. Its ratio is to the bare Flask app serving
the same route (``Case.baseline``): ``/`` (a view returning a str, so HTML),
``/page`` (a template that writes ``nonce="{{ csp_nonce() }}"`` on four tags),
``/json``, ``/posts`` (a page with inline handlers and ``style`` attributes,
whose hashes go into the CSP), ``/cookie`` (``/`` with a ``Set-Cookie``), and
``/`` of an app with 10,000 routes, where the requests go to every route in
turn.

Every request is HTTPS (``https://localhost/``): Flask-Talisman redirects plain
HTTP by default, and the ``strict`` preset's HSTS is HTTPS-only.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import re
import statistics
import typing as t
from pathlib import Path

from flask import Flask
from flask import make_response
from flask import render_template
from flask import Response
from werkzeug.test import EnvironBuilder

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

#: Ten realistic security headers with static values, shared by the
#: hand-written ``after_request`` app and the Flask-Header-Policy app.
HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    ),
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "geolocation=(), microphone=(), camera=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Permitted-Cross-Domain-Policies": "none",
}

#: What Flask-Talisman 1.1 sends by default on an HTTPS ``text/html`` response.
TALISMAN_DEFAULT_HEADERS: tuple[str, ...] = (
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Permissions-Policy",
)

#: What the strict preset sends on every HTTPS response (and the floor).
STRICT_HEADERS: tuple[str, ...] = (
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
    "Permissions-Policy",
)

BARE = "bare Flask"
HEADER_POLICY = "header-policy, 10 static"
STRICT = "strict"
FLOOR = "floor (by hand)"
ROUTES = 10_000

#: Templates of a realistic app: ``page.html`` (nonces by ``csp_nonce()``),
#: ``by_hand.html`` and ``stamped.html`` (the same page with inline handlers
#: and style attributes: nonces and hashes written by hand, or stamped).
TEMPLATES = Path(__file__).parent / "templates"
HANDLERS = ("return confirm('Delete this post?')", "history.back(); return false")
STYLES = ("color: rgb(1, 2, 3)", "font-weight: bold")
POSTS = ["a", "b", "c"]
_NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")

Check = cabc.Callable[[bytes, dict[str, list[str]]], str | None]


@dataclasses.dataclass
class Case:
    """One app and route under test, and what it must send."""

    name: str
    app: Flask
    #: Header name to expected value; ``None`` accepts any value.
    expected: dict[str, str | None]
    #: What the body must be: exactly these bytes, or pass this check.
    body: bytes | Check = b"Hello"
    #: The paths requested, in turn.
    paths: tuple[str, ...] = ("/",)
    #: The row this one's ratio is to: the bare app on the same route.
    baseline: str = BARE
    #: Whether its per-request code is Flask-Header-Policy's (measured again
    #: with another checkout by ``instructions.py --before``).
    ours: bool = False
    #: Another row whose headers this one must send too (nonce aside).
    same_as: str | None = None
    n: int = 0
    us_per_request: list[float] = dataclasses.field(default_factory=list)
    header_count: int = 0
    sent: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def route(self) -> str:
        return self.paths[0] if len(self.paths) == 1 else f"{len(self.paths):,} routes"

    @property
    def median(self) -> float:
        return statistics.median(self.us_per_request)

    @property
    def best(self) -> float:
        return min(self.us_per_request)

    def environs(self) -> list[WSGIEnvironment]:
        return [base_environ(path) for path in self.paths]


def base_environ(path: str = "/") -> WSGIEnvironment:
    # HTTPS for every app alike: Flask-Talisman redirects plain HTTP by default.
    builder = EnvironBuilder(path=path, base_url="https://localhost/")
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _app(name: str, routes: int = 1) -> Flask:
    """An app with the benchmark's routes; ``routes`` > 1 adds ``/r1``... too."""
    app = Flask(name, template_folder=str(TEMPLATES))
    app.jinja_env.globals["csp_nonce"] = lambda: "n"  # the bare app's stand-in

    @app.get("/")
    def index() -> str:
        return "Hello"

    @app.get("/page")
    def page() -> str:
        return render_template("page.html", title="Posts", posts=POSTS)

    @app.get("/json")
    def json() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/cookie")
    def cookie() -> Response:
        response = make_response("Hello")
        response.set_cookie("theme", "dark")
        return response

    for number in range(1, routes):
        app.add_url_rule(f"/r{number}", f"r{number}", index)
    return app


def _paths(route: str, routes: int) -> tuple[str, ...]:
    if routes == 1:
        return (route,)
    return ("/", *(f"/r{number}" for number in range(1, routes)))


_BODIES: dict[str, bytes | Check] = {"/": b"Hello", "/cookie": b"Hello"}


def _body(route: str) -> bytes | Check:
    if route == "/page":
        return _page_nonces(4)
    if route == "/json":
        return lambda body, headers: None if b'"hello"' in body else "not the JSON"
    return _BODIES[route]


def _page_nonces(count: int) -> Check:
    """The page carries the CSP's nonce on ``count`` tags."""

    def check(body: bytes, headers: dict[str, list[str]]) -> str | None:
        (csp,) = headers.get("content-security-policy", [""])
        match = _NONCE.search(csp)
        if match is None:
            return f"no nonce in the CSP {csp!r}"
        if body.count(f'nonce="{match.group(1)}"'.encode()) != count:
            return f"the page's {count} tags do not carry the nonce of {csp!r}"
        return None

    return check


# The bare app and its peers on "/".


def make_bare(route: str = "/", routes: int = 1) -> Case:
    name = BARE if route == "/" and routes == 1 else f"{BARE} {_suffix(route, routes)}"
    if route == "/page":  # the same page, with a constant for the nonce
        body: bytes | Check = lambda body, headers: (  # noqa: E731
            None if body.count(b'nonce="n"') == 4 else "not the page"
        )
    else:
        body = _body(route)
    return Case(name, _app("bare", routes), {}, body, _paths(route, routes), name)


def _suffix(route: str, routes: int) -> str:
    return route if routes == 1 else f"{route}, {routes:,} routes"


def make_after_request() -> Case:
    app = _app("after_request")

    @app.after_request
    def add_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers[name] = value
        return response

    return Case("after_request, 10 static", app, dict(HEADERS))


def make_header_policy() -> Case:
    from flask_header_policy import HeaderPolicy

    app = _app("header_policy")
    HeaderPolicy(app, headers=HEADERS)
    return Case(HEADER_POLICY, app, dict(HEADERS), ours=True)


def make_talisman() -> Case:
    from flask_talisman import Talisman  # type: ignore[import-untyped]

    app = _app("talisman")
    Talisman(app)
    return Case(
        "flask-talisman (defaults)", app, dict.fromkeys(TALISMAN_DEFAULT_HEADERS)
    )


def make_talisman_dropin() -> Case:
    from flask_header_policy.talisman import Talisman

    app = _app("talisman_dropin")
    Talisman(app)
    return Case(
        "Talisman drop-in (defaults)",
        app,
        dict.fromkeys(TALISMAN_DEFAULT_HEADERS),
        ours=True,
    )


def make_secure() -> Case:
    import secure

    app = _app("secure")
    secure_headers = secure.Secure.with_default_headers()

    # As the package's README shows for Flask.
    @app.after_request
    def add_security_headers(response: Response) -> Response:
        secure_headers.set_headers(response)
        return response

    expected: dict[str, str | None] = dict(secure_headers.header_items())
    return Case("secure (defaults)", app, expected)


# The strict preset, its floor, and Flask-Talisman with a nonce, per route.


def make_strict(route: str = "/", routes: int = 1, **options: t.Any) -> Case:
    from flask_header_policy import HeaderPolicy

    app = _app("strict", routes)
    HeaderPolicy(app, preset="strict", **options)
    name = f"{STRICT} {_suffix(route, routes)}"
    if options.get("https_redirect"):
        name = f"{STRICT} + https_redirect {route}"
    expected: dict[str, str | None] = dict.fromkeys(STRICT_HEADERS)
    if route == "/cookie":
        expected["Set-Cookie"] = "theme=dark; Path=/; Secure; HttpOnly; SameSite=Lax"
    return Case(
        name,
        app,
        expected,
        _body(route),
        _paths(route, routes),
        f"{BARE} {_suffix(route, routes)}" if route != "/" or routes > 1 else BARE,
        ours=True,
    )


def make_floor(route: str = "/") -> Case:
    from floor import StrictFloor

    app = _app("floor")
    StrictFloor(app)
    return Case(
        f"{FLOOR} {route}",
        app,
        dict.fromkeys(STRICT_HEADERS),
        _body(route),
        (route,),
        BARE if route == "/" else f"{BARE} {route}",
        same_as=f"{STRICT} {route}",
    )


#: Flask-Talisman's CSP with the strict preset's directives and its nonce.
TALISMAN_CSP = {
    "default-src": "'none'",
    "script-src": "'strict-dynamic'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:"],
    "font-src": "'self'",
    "connect-src": "'self'",
    "manifest-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def make_talisman_nonce(route: str = "/") -> Case:
    from flask_talisman import Talisman

    app = _app("talisman_nonce")
    Talisman(
        app,
        content_security_policy=TALISMAN_CSP,
        content_security_policy_nonce_in=["script-src", "style-src"],
    )
    return Case(
        f"flask-talisman, nonce {route}",
        app,
        dict.fromkeys(TALISMAN_DEFAULT_HEADERS),
        _body(route),
        (route,),
        BARE if route == "/" else f"{BARE} {route}",
    )


# Stamping: the same page with nonces and hashes by hand, or stamped.


def _posts_app(name: str, template: str) -> Flask:
    app = Flask(name, template_folder=str(TEMPLATES))
    app.jinja_env.globals["csp_nonce"] = lambda: "n"

    @app.get("/posts")
    def posts() -> str:
        return render_template(template, title="Posts", posts=POSTS)

    return app


def _posts_check(body: bytes, headers: dict[str, list[str]]) -> str | None:
    """The page carries the response's nonce on its 5 tags, and the CSP the
    hashes of its handlers and style attributes."""
    from flask_header_policy import hash_source

    problem = _page_nonces(5)(body, headers)
    if problem is not None:
        return problem
    (csp,) = headers["content-security-policy"]
    for text in HANDLERS + STYLES:
        if hash_source(text) not in csp:
            return f"the CSP lacks the hash of {text!r}: {csp!r}"
    return None


def make_bare_posts() -> Case:
    return Case(
        f"{BARE} /posts",
        _posts_app("bare_posts", "by_hand.html"),
        {},
        lambda body, headers: None if body.count(b'nonce="n"') == 5 else "not the page",
        ("/posts",),
        f"{BARE} /posts",
    )


def make_strict_by_hand() -> Case:
    from flask_header_policy import hash_source
    from flask_header_policy import HeaderPolicy
    from flask_header_policy import only_for
    from flask_header_policy.presets import HTML
    from flask_header_policy.presets import LOCKED_CSP
    from flask_header_policy.presets import STRICT_CSP

    app = _posts_app("by_hand", "by_hand.html")
    csp = STRICT_CSP.with_sources(
        "script-src-attr", "'unsafe-hashes'", *map(hash_source, HANDLERS)
    ).with_sources("style-src-attr", "'unsafe-hashes'", *map(hash_source, STYLES))
    HeaderPolicy(
        app,
        preset="strict",
        stamp_nonces=False,
        headers={"Content-Security-Policy": only_for(HTML, csp, otherwise=LOCKED_CSP)},
    )
    return _posts_case(f"{STRICT}, hashes by hand /posts", app)


def make_strict_stamped() -> Case:
    from flask_header_policy import HeaderPolicy

    app = _posts_app("stamped", "stamped.html")
    HeaderPolicy(app, preset="strict")
    return _posts_case(f"{STRICT}, stamped /posts", app)


def _posts_case(name: str, app: Flask) -> Case:
    """A row of ours serving ``/posts`` under ``strict``, checked by
    :func:`_posts_check`."""
    return Case(
        name,
        app,
        dict.fromkeys(STRICT_HEADERS),
        _posts_check,
        ("/posts",),
        f"{BARE} /posts",
        ours=True,
    )


#: Every row, by its name, in the order printed.
ROWS: dict[str, cabc.Callable[[], Case]] = {
    BARE: make_bare,
    f"{BARE} /page": lambda: make_bare("/page"),
    f"{BARE} /json": lambda: make_bare("/json"),
    f"{BARE} /posts": make_bare_posts,
    f"{BARE} /cookie": lambda: make_bare("/cookie"),
    f"{BARE} /, {ROUTES:,} routes": lambda: make_bare("/", ROUTES),
    "after_request, 10 static": make_after_request,
    HEADER_POLICY: make_header_policy,
    "flask-talisman (defaults)": make_talisman,
    "Talisman drop-in (defaults)": make_talisman_dropin,
    "secure (defaults)": make_secure,
    f"{STRICT} /": make_strict,
    f"{STRICT} /page": lambda: make_strict("/page"),
    f"{STRICT} /json": lambda: make_strict("/json"),
    f"{FLOOR} /": make_floor,
    f"{FLOOR} /page": lambda: make_floor("/page"),
    f"{FLOOR} /json": lambda: make_floor("/json"),
    "flask-talisman, nonce /": make_talisman_nonce,
    "flask-talisman, nonce /page": lambda: make_talisman_nonce("/page"),
    f"{STRICT}, hashes by hand /posts": make_strict_by_hand,
    f"{STRICT}, stamped /posts": make_strict_stamped,
    f"{STRICT} /cookie": lambda: make_strict("/cookie"),
    f"{STRICT} + https_redirect /": lambda: make_strict(https_redirect=True),
    f"{STRICT} /, {ROUTES:,} routes": lambda: make_strict("/", ROUTES),
}


def cases(names: cabc.Collection[str] | None = None) -> list[Case]:
    """The rows called ``names`` (default: all) with the rows they are
    compared with, in order."""
    if names is None:
        return [factory() for factory in ROWS.values()]
    made = {name: ROWS[name]() for name in names}
    for case in list(made.values()):
        for other in (case.baseline, case.same_as):
            if other is not None and other not in made:
                made[other] = ROWS[other]()
    return [made[name] for name in ROWS if name in made]


def case_named(name: str) -> Case:
    return ROWS[name]()


def _no_op_write(data: bytes) -> None:
    return None


def _no_op_start_response(
    status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
) -> cabc.Callable[[bytes], object]:
    return _no_op_write


def run(app: WSGIApplication, environs: list[WSGIEnvironment], n: int) -> None:
    """``n`` requests to ``app``, to each environ in turn."""
    start_response = _no_op_start_response
    if len(environs) == 1:
        (environ,) = environs
        for _ in range(n):
            body = app(dict(environ), start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return
    count = len(environs)
    for number in range(n):
        body = app(dict(environs[number % count]), start_response)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()


def warm_up(case: Case, environs: list[WSGIEnvironment]) -> None:
    """Caches, lazy imports, each route's first request."""
    run(case.app, environs, max(500, len(environs)))


def check(case: Case, environ: WSGIEnvironment) -> list[str]:
    """One request with a recording ``start_response``; return what is wrong."""
    seen: dict[str, t.Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> cabc.Callable[[bytes], object]:
        seen["status"] = status
        seen["headers"] = list(headers)
        return _no_op_write

    wsgi: WSGIApplication = case.app
    body = wsgi(dict(environ), start_response)
    try:
        content = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    headers: list[tuple[str, str]] = seen.get("headers", [])
    case.header_count = len(headers)
    case.sent = headers
    problems: list[str] = []
    if seen.get("status") != "200 OK":
        problems.append(f"status {seen.get('status')!r}, expected '200 OK'")
    sent: dict[str, list[str]] = {}
    for name, value in headers:
        sent.setdefault(name.lower(), []).append(value)
    if isinstance(case.body, bytes):
        if content != case.body:
            problems.append(f"body {content[:60]!r}, expected {case.body!r}")
    else:
        problem = case.body(content, sent)
        if problem is not None:
            problems.append(problem)
    for name, wanted in case.expected.items():
        values = sent.get(name.lower())
        if not values:
            problems.append(f"missing header {name}")
        elif len(values) > 1:
            problems.append(f"header {name} sent {len(values)} times")
        elif wanted is not None and values[0] != wanted:
            problems.append(f"header {name}: {values[0]!r}, expected {wanted!r}")
    return problems


def same_headers(case: Case, other: Case) -> list[str]:
    """What ``case`` sends otherwise than ``other`` (nonces and the
    ``Content-Length`` aside), after both were checked."""

    def normal(headers: list[tuple[str, str]]) -> set[tuple[str, str]]:
        return {
            (name.lower(), _NONCE.sub("'nonce-N'", value))
            for name, value in headers
            if name.lower() != "content-length"
        }

    ours, theirs = normal(case.sent), normal(other.sent)
    if ours == theirs:
        return []
    return [f"sends {sorted(ours - theirs)}, {other.name} {sorted(theirs - ours)}"]


def check_all(cases: list[Case]) -> dict[str, list[str]]:
    """Check every case, and each against the row it must equal."""
    problems = {case.name: check(case, case.environs()[0]) for case in cases}
    for case in cases:
        if ROWS.get(case.name) is None:
            problems[case.name].append("not a row of ROWS by this name")
    by_name = {case.name: case for case in cases}
    for case in cases:
        if case.same_as is not None and case.same_as in by_name:
            problems[case.name] += same_headers(case, by_name[case.same_as])
    return problems
