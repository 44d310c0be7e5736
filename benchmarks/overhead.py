"""Per-request overhead of Flask-Header-Policy, side by side with bare Flask and peers.

Every app serves ``GET /`` -> ``"Hello"``, but the two page apps, which render
a realistic page under the ``strict`` preset (nonces and hashes written by hand,
or stamped into the template). Requests are direct WSGI calls (no
test client, no server, no sockets): one environ is built once with
``EnvironBuilder`` and copied per call, the app is called with a no-op
``start_response``, and the body is consumed and closed. What is measured is
therefore Flask's own request cycle plus whatever each header library adds.

The apps are timed in rounds; each round runs every app once, in a rotated
order, so machine noise lands on all of them alike. The figure reported per app
is the median over rounds of the microseconds per request.

Run it with ``make bench`` or ``.venv/bin/python benchmarks/overhead.py``;
``--help`` lists the options. See ``benchmarks/README.md`` for how to read it.
"""

from __future__ import annotations

import argparse
import collections.abc as cabc
import dataclasses
import gc
import importlib.metadata
import json
import math
import platform
import statistics
import sys
import time
import typing as t
from pathlib import Path

from flask import Flask
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

#: Seconds each app runs per round when ``--requests`` is not given.
TARGET_SECONDS = 0.3

BARE = "bare Flask"
HEADER_POLICY = "header-policy"

#: A page template of a realistic app (scripts, a stylesheet, a <style>,
#: inline handlers and style attributes), in two spellings: with nonces
#: written by hand, and without, for stamping.
TEMPLATES = Path(__file__).parent / "templates"
HANDLERS = ("return confirm('Delete this post?')", "history.back(); return false")
STYLES = ("color: rgb(1, 2, 3)", "font-weight: bold")


@dataclasses.dataclass
class Case:
    """One app under test and the headers it must send."""

    name: str
    app: Flask
    #: Header name to expected value; ``None`` accepts any value.
    expected: dict[str, str | None]
    #: What the body must be: exactly these bytes, or pass this check.
    body: bytes | cabc.Callable[[bytes, dict[str, list[str]]], str | None] = b"Hello"
    n: int = 0
    us_per_request: list[float] = dataclasses.field(default_factory=list)
    header_count: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.us_per_request)

    @property
    def best(self) -> float:
        return min(self.us_per_request)


def _hello_app(name: str) -> Flask:
    app = Flask(name)

    @app.get("/")
    def index() -> str:
        return "Hello"

    return app


def make_bare() -> Case:
    return Case(BARE, _hello_app("bare"), {})


def make_after_request() -> Case:
    app = _hello_app("after_request")

    @app.after_request
    def add_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers[name] = value
        return response

    return Case("after_request (hand-written)", app, dict(HEADERS))


def make_header_policy() -> Case:
    from flask_header_policy import HeaderPolicy

    app = _hello_app("header_policy")
    HeaderPolicy(app, headers=HEADERS)
    return Case(HEADER_POLICY, app, dict(HEADERS))


def make_talisman() -> Case:
    from flask_talisman import Talisman  # type: ignore[import-untyped]

    app = _hello_app("talisman")
    Talisman(app)
    return Case(
        "flask-talisman (defaults)", app, dict.fromkeys(TALISMAN_DEFAULT_HEADERS)
    )


def make_talisman_dropin() -> Case:
    from flask_header_policy.talisman import Talisman

    app = _hello_app("talisman_dropin")
    Talisman(app)
    return Case(
        "header-policy Talisman drop-in (defaults)",
        app,
        dict.fromkeys(TALISMAN_DEFAULT_HEADERS),
    )


def make_secure() -> Case:
    import secure

    app = _hello_app("secure")
    secure_headers = secure.Secure.with_default_headers()

    # As the package's README shows for Flask.
    @app.after_request
    def add_security_headers(response: Response) -> Response:
        secure_headers.set_headers(response)
        return response

    expected: dict[str, str | None] = dict(secure_headers.header_items())
    return Case("secure (defaults)", app, expected)


def _page_app(name: str, template: str) -> Flask:
    app = Flask(name, template_folder=str(TEMPLATES))

    @app.get("/")
    def index() -> str:
        return render_template(template, title="Posts", posts=["a", "b", "c"])

    return app


def _page_check(body: bytes, headers: dict[str, list[str]]) -> str | None:
    """The page carries the response's nonce on its 5 tags, and the CSP the
    hashes of its handlers and style attributes."""
    from flask_header_policy import hash_source

    (csp,) = headers.get("content-security-policy", [""])
    nonce = csp.partition("'nonce-")[2].partition("'")[0]
    if not nonce or body.count(f'nonce="{nonce}"'.encode()) != 5:
        return f"the page's tags do not carry the nonce of {csp!r}"
    for text in HANDLERS + STYLES:
        if hash_source(text) not in csp:
            return f"the CSP lacks the hash of {text!r}: {csp!r}"
    return None


def make_strict_by_hand() -> Case:
    from flask_header_policy import hash_source
    from flask_header_policy import HeaderPolicy
    from flask_header_policy import only_for
    from flask_header_policy.presets import HTML
    from flask_header_policy.presets import LOCKED_CSP
    from flask_header_policy.presets import STRICT_CSP

    app = _page_app("by_hand", "by_hand.html")
    csp = STRICT_CSP.with_sources(
        "script-src-attr", "'unsafe-hashes'", *map(hash_source, HANDLERS)
    ).with_sources("style-src-attr", "'unsafe-hashes'", *map(hash_source, STYLES))
    HeaderPolicy(
        app,
        preset="strict",
        stamp_nonces=False,
        headers={"Content-Security-Policy": only_for(HTML, csp, otherwise=LOCKED_CSP)},
    )
    return Case(
        "strict, nonces+hashes by hand",
        app,
        {"Content-Security-Policy": None, "X-Frame-Options": "DENY"},
        body=_page_check,
    )


def make_strict_stamped() -> Case:
    from flask_header_policy import HeaderPolicy

    app = _page_app("stamped", "stamped.html")
    HeaderPolicy(app, preset="strict")
    return Case(
        "strict, stamped template",
        app,
        {"Content-Security-Policy": None, "X-Frame-Options": "DENY"},
        body=_page_check,
    )


FACTORIES: tuple[cabc.Callable[[], Case], ...] = (
    make_bare,
    make_after_request,
    make_header_policy,
    make_talisman,
    make_talisman_dropin,
    make_secure,
    make_strict_by_hand,
    make_strict_stamped,
)


def base_environ() -> WSGIEnvironment:
    # HTTPS for every app alike: Flask-Talisman redirects plain HTTP by default.
    builder = EnvironBuilder(path="/", base_url="https://localhost/")
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _no_op_start_response(
    status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
) -> cabc.Callable[[bytes], object]:
    return _no_op_write


def _no_op_write(data: bytes) -> None:
    return None


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


def run(app: WSGIApplication, environ: WSGIEnvironment, n: int) -> float:
    """Seconds taken by ``n`` requests to ``app``."""
    start_response = _no_op_start_response
    started = time.perf_counter()
    for _ in range(n):
        body = app(dict(environ), start_response)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return time.perf_counter() - started


def calibrate(app: WSGIApplication, environ: WSGIEnvironment) -> int:
    """Requests that take about ``TARGET_SECONDS``, from the best of 3 probes."""
    n = 200
    per_request = min(run(app, environ, n) / n for _ in range(3))
    return max(100, math.ceil(TARGET_SECONDS / per_request))


def measure(
    cases: list[Case], environ: WSGIEnvironment, rounds: int, requests: int | None
) -> None:
    for case in cases:  # warm up: caches, lazy imports, first-request setup
        run(case.app, environ, 500)
    for case in cases:
        case.n = requests if requests is not None else calibrate(case.app, environ)
    for round_ in range(rounds):
        # Rotate the order so no app always runs first or after the same one.
        shift = round_ % len(cases)
        for case in cases[shift:] + cases[:shift]:
            gc.collect()
            seconds = run(case.app, environ, case.n)
            case.us_per_request.append(seconds / case.n * 1e6)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def report_json(cases: list[Case], rounds: int) -> str:
    bare = cases[0]
    return json.dumps(
        {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "versions": {
                dist: _version(dist)
                for dist in (
                    "flask",
                    "werkzeug",
                    "flask-header-policy",
                    "flask-talisman",
                    "secure",
                )
            },
            "rounds": rounds,
            "apps": [
                {
                    "app": case.name,
                    "requests_per_round": case.n,
                    "headers_sent": case.header_count,
                    "us_per_request_median": case.median,
                    "us_per_request_min": case.best,
                    "us_per_request_rounds": case.us_per_request,
                    "ratio_to_bare": case.median / bare.median,
                    "ratio_to_bare_paired": _paired_ratio(case, bare),
                }
                for case in cases
            ],
        },
        indent=2,
    )


def _paired_ratio(case: Case, bare: Case) -> float:
    """Median over rounds of this app's time over bare Flask's in that round."""
    return statistics.median(
        a / b for a, b in zip(case.us_per_request, bare.us_per_request, strict=True)
    )


def report_table(cases: list[Case], rounds: int) -> str:
    bare = cases[0]
    width = max(len(case.name) for case in cases)
    lines = [
        f"Python {platform.python_version()}, Flask {_version('flask')},"
        f" Werkzeug {_version('werkzeug')}; {rounds} rounds, apps interleaved",
        "",
        f"{'app':<{width}}  {'requests':>8}  {'µs/req median':>13}  {'min':>7}"
        f"  {'ratio':>6}  {'paired':>6}",
    ]
    for case in cases:
        lines.append(
            f"{case.name:<{width}}  {case.n:>8}  {case.median:>13.2f}"
            f"  {case.best:>7.2f}  {case.median / bare.median:>6.3f}"
            f"  {_paired_ratio(case, bare):>6.3f}"
        )
    policy = next(case for case in cases if case.name == HEADER_POLICY)
    lines += [
        "",
        "ratio: median / bare Flask's median; paired: median over rounds of"
        " (app / bare Flask in the same round)",
        "",
        f"header-policy ({len(HEADERS)} static headers): ratio"
        f" {policy.median / bare.median:.3f} to bare Flask (target <= 1.05)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Per-request overhead of Flask-Header-Policy and its peers.",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=9,
        help="rounds; each runs every app once (default: 9)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=None,
        help=(
            "requests per app per round (default: calibrated to about"
            f" {TARGET_SECONDS} s per app per round)"
        ),
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON instead of the table"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.requests is not None and args.requests < 1:
        parser.error("--requests must be at least 1")

    environ = base_environ()
    cases = [factory() for factory in FACTORIES]

    failed = False
    for case in cases:
        problems = check(case, environ)
        if not args.json:
            verdict = "OK" if not problems else "FAILED"
            print(
                f"check {case.name}: {verdict}, sends {case.header_count} headers",
                flush=True,
            )
        for problem in problems:
            print(f"  {case.name}: {problem}", file=sys.stderr, flush=True)
        failed = failed or bool(problems)
    if failed:
        print("sanity check failed: not benchmarking", file=sys.stderr)
        return 1
    if not args.json:
        print()

    measure(cases, environ, args.rounds, args.requests)
    print(
        report_json(cases, args.rounds)
        if args.json
        else report_table(cases, args.rounds)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
