"""HTTPS only: plain-HTTP requests are redirected, HSTS is sent over HTTPS."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_header_policy import HeaderPolicy
from flask_header_policy import HTTPSRedirect
from flask_header_policy import StrictTransportSecurity


def create_app() -> Flask:
    app = Flask(__name__)
    HeaderPolicy(
        app,
        headers={"Strict-Transport-Security": StrictTransportSecurity()},
        https_redirect=HTTPSRedirect(
            exempt_paths=["/.well-known/acme-challenge"],  # certificate renewal
            exempt_endpoints={"health"},  # the load balancer's probe
        ),
    )

    @app.get("/orders")
    def orders() -> str:
        return "Your orders"

    @app.get("/health")
    def health() -> str:
        return "ok"

    return app


app = create_app()

# [proxy]
# Behind a proxy that terminates TLS: trust its X-Forwarded-Proto, and only
# its (one proxy in front).
behind_proxy = create_app()
behind_proxy.wsgi_app = ProxyFix(behind_proxy.wsgi_app, x_proto=1)  # type: ignore[method-assign]
# [/proxy]
