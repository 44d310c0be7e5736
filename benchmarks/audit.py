"""How long ``flask headers audit`` takes on a 10-route app, in process.

The app has the ``strict``-like headers of the README on every route, a CSP
nonce (so every route is fetched twice), HTML bodies with a script, and a
static file; the audit covers the 10 routes, the 404 page and the static file
(12 responses graded). The figure is the median over rounds of the wall time
of one :func:`~flask_header_policy.audit.app.audit_app` call.

Run it with ``.venv/bin/python benchmarks/audit.py``.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time

from flask import Flask

from flask_header_policy import HeaderPolicy
from flask_header_policy.audit.app import audit_app

PAGE = "<!doctype html><title>x</title><script src='/static/app.js'></script>"


def make_app(static: str, routes: int = 10) -> Flask:
    """An app with ``routes`` HTML routes, a per-response nonce and a static file."""
    app = Flask("bench", static_folder=static, static_url_path="/static")

    def csp(request: object, response: object) -> str:
        return f"default-src 'none'; script-src 'nonce-{secrets.token_urlsafe(16)}'"

    HeaderPolicy(
        app,
        headers={
            "Content-Security-Policy": csp,
            "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Resource-Policy": "same-origin",
        },
    )
    for n in range(routes):
        app.add_url_rule(f"/page/{n}", f"page{n}", lambda: PAGE)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--routes", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as static:
        with open(f"{static}/app.js", "w") as f:
            f.write("console.log(1)")
        app = make_app(static, args.routes)
        audits = audit_app(app)  # warm up: imports, url map, Jinja
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            audit_app(app)
            times.append(time.perf_counter() - start)
    grades = sorted({audit.grade for audit in audits})
    print(
        f"{len(audits)} responses ({args.routes} routes + 404 + static),"
        f" grades {', '.join(grades)}:"
        f" median {statistics.median(times) * 1000:.1f} ms,"
        f" min {min(times) * 1000:.1f} ms over {args.rounds} rounds"
    )


if __name__ == "__main__":
    main()
