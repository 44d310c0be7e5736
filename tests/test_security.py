"""The per-request security parts: nonce, report-only, HSTS, cookies, scoping."""

from __future__ import annotations

import base64
import logging
import re

import pytest
from flask import Blueprint
from flask import Flask
from flask import render_template_string
from flask import request
from flask import Response
from flask import stream_with_context
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_header_policy import append
from flask_header_policy import csp_nonce
from flask_header_policy import force
from flask_header_policy import HeaderPolicy
from flask_header_policy import InvalidHeaderError
from flask_header_policy import NonceUnavailableError
from flask_header_policy import only_for
from flask_header_policy import remove
from flask_header_policy.cache_control import CacheControl
from flask_header_policy.content_disposition import ContentDisposition
from flask_header_policy.cookies import CookiePolicy
from flask_header_policy.cross_origin import CrossOriginEmbedderPolicy
from flask_header_policy.cross_origin import CrossOriginOpenerPolicy
from flask_header_policy.cross_origin import CrossOriginResourcePolicy
from flask_header_policy.csp import ContentSecurityPolicy
from flask_header_policy.csp import NONCE
from flask_header_policy.csp import NONE
from flask_header_policy.csp import SELF
from flask_header_policy.csp import STRICT_DYNAMIC
from flask_header_policy.framing import XContentTypeOptions
from flask_header_policy.framing import XFrameOptions
from flask_header_policy.hsts import StrictTransportSecurity
from flask_header_policy.nonce import NONCE_KEY
from flask_header_policy.permissions import PermissionsPolicy
from flask_header_policy.referrer import ReferrerPolicy
from flask_header_policy.reporting import ReportingEndpoints

ENFORCED = ContentSecurityPolicy(
    {"default-src": [NONE], "script-src": [NONCE, STRICT_DYNAMIC]}, report_to="csp"
)
REPORT_ONLY = ContentSecurityPolicy(
    {"default-src": [SELF], "script-src": [NONCE]}, report_uri=["/csp-report"]
)
NONCE_RE = re.compile(r"'nonce-([^']+)'")


def nonces(value: str) -> set[str]:
    return set(NONCE_RE.findall(value))


@pytest.fixture
def app() -> Flask:
    app = Flask("security")
    app.testing = True
    HeaderPolicy(
        app,
        headers={
            "Content-Security-Policy": only_for("text/html", ENFORCED),
            "Content-Security-Policy-Report-Only": only_for("text/html", REPORT_ONLY),
            "Reporting-Endpoints": ReportingEndpoints({"csp": "/csp-reports"}),
        },
    )

    @app.get("/")
    def page() -> str:
        return render_template_string(
            '<script nonce="{{ csp_nonce() }}">1</script>'
            '<script nonce="{{ csp_nonce() }}">2</script>'
        )

    @app.get("/unused")
    def unused() -> str:
        return "<p>no script</p>"

    @app.get("/json")
    def json() -> dict[str, bool]:
        return {"nonce_made": False}

    return app


def test_one_nonce_per_response_in_both_policies_and_the_page(app: Flask) -> None:
    response = app.test_client().get("/")
    enforced = nonces(response.headers["Content-Security-Policy"])
    report_only = nonces(response.headers["Content-Security-Policy-Report-Only"])
    in_page = set(re.findall(r'nonce="([^"]+)"', response.get_data(as_text=True)))
    assert len(enforced) == 1
    assert enforced == report_only == in_page
    assert response.headers["Reporting-Endpoints"] == 'csp="/csp-reports"'
    (nonce,) = enforced
    assert len(base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))) >= 16


def test_nonce_changes_per_request(app: Flask) -> None:
    client = app.test_client()
    seen = {
        nonces(client.get("/").headers["Content-Security-Policy"]).pop()
        for _ in range(50)
    }
    assert len(seen) == 50


def test_a_nonce_policy_carries_a_nonce_even_if_the_page_used_none(app: Flask) -> None:
    headers = app.test_client().get("/unused").headers
    assert len(nonces(headers["Content-Security-Policy"])) == 1


def test_no_nonce_and_no_csp_for_json(app: Flask) -> None:
    made: list[object] = []

    @app.after_request
    def record(response: Response) -> Response:
        made.append(request.environ.get(NONCE_KEY))
        return response

    headers = app.test_client().get("/json").headers
    assert "Content-Security-Policy" not in headers
    assert "Content-Security-Policy-Report-Only" not in headers
    assert made == [None]


def test_nonce_after_headers_without_one_raises(app: Flask) -> None:
    errors: list[Exception] = []

    @app.get("/stream")
    def stream() -> Response:
        def body() -> object:
            yield "start "
            try:
                csp_nonce()
            except NonceUnavailableError as error:
                errors.append(error)
                yield "refused"

        return Response(stream_with_context(body()), mimetype="text/plain")

    assert app.test_client().get("/stream").get_data(as_text=True) == "start refused"
    assert "after the response headers were built" in str(errors[0])


def test_nonce_read_after_headers_is_the_one_sent(app: Flask) -> None:
    """A streamed HTML page may read the nonce the headers already carry."""

    @app.get("/stream-html")
    def stream_html() -> Response:
        def body() -> object:
            yield f'<script nonce="{csp_nonce()}"></script>'

        return Response(stream_with_context(body()), mimetype="text/html")

    response = app.test_client().get("/stream-html")
    sent = nonces(response.headers["Content-Security-Policy"])
    assert set(re.findall(r'nonce="([^"]+)"', response.get_data(as_text=True))) == sent


def test_nonce_is_per_request_inside_an_outer_app_context(app: Flask) -> None:
    """Flask reuses a pushed app context (and its g) for requests made in it."""
    client = app.test_client()
    with app.app_context():
        first = nonces(client.get("/").headers["Content-Security-Policy"])
        second = nonces(client.get("/").headers["Content-Security-Policy"])
    assert len(first) == len(second) == 1
    assert first != second


def test_csp_nonce_is_a_jinja_global(app: Flask) -> None:
    assert app.jinja_env.globals["csp_nonce"] is csp_nonce


def test_report_to_without_an_endpoint_fails_in_tests() -> None:
    app = Flask("missing_endpoint")
    app.testing = True
    HeaderPolicy(app, headers={"Content-Security-Policy": ENFORCED})

    @app.get("/")
    def index() -> str:
        return "x"

    with pytest.raises(InvalidHeaderError, match="report-to 'csp' names no endpoint"):
        app.test_client().get("/")


def test_report_to_without_an_endpoint_is_logged_in_production(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Flask("missing_endpoint_prod")
    HeaderPolicy(app, headers={"Content-Security-Policy": ENFORCED})

    @app.get("/")
    def index() -> str:
        return "x"

    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            assert app.test_client().get("/").status_code == 200
    assert [r.getMessage().count("names no endpoint") for r in caplog.records] == [1]


def hsts_app(**config: object) -> Flask:
    app = Flask("hsts")
    app.config.update(config)
    HeaderPolicy(app, headers={"Strict-Transport-Security": StrictTransportSecurity()})

    @app.get("/")
    def index() -> str:
        return "x"

    return app


@pytest.mark.parametrize(
    ("base_url", "environ", "proxy_fix", "sent"),
    [
        ("https://localhost/", {}, False, True),
        ("http://localhost/", {}, False, False),
        # X-Forwarded-Proto is trusted only through ProxyFix.
        ("http://localhost/", {"HTTP_X_FORWARDED_PROTO": "https"}, False, False),
        ("http://localhost/", {"HTTP_X_FORWARDED_PROTO": "https"}, True, True),
    ],
)
def test_hsts_only_on_secure_requests(
    base_url: str, environ: dict[str, str], proxy_fix: bool, sent: bool
) -> None:
    app = hsts_app()
    if proxy_fix:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    response = app.test_client().get("/", base_url=base_url, environ_base=environ)
    assert ("Strict-Transport-Security" in response.headers) is sent


def test_hsts_on_plain_http_when_configured() -> None:
    app = hsts_app(HEADER_POLICY_HSTS_ONLY_SECURE=False)
    headers = app.test_client().get("/").headers
    assert headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"


def cookie_app(**kwargs: object) -> Flask:
    app = Flask("cookies")
    app.config.update(kwargs.pop("config", {}))  # type: ignore[call-overload]
    HeaderPolicy(app, **kwargs)  # type: ignore[arg-type]

    @app.get("/")
    def index() -> Response:
        response = Response("x")
        response.set_cookie("plain", "1")
        response.set_cookie("cross", "2", samesite="None", secure=True)
        response.set_cookie("ui_theme", "dark")
        return response

    return app


def set_cookies(app: Flask, base_url: str = "https://localhost/") -> dict[str, str]:
    response = app.test_client().get("/", base_url=base_url)
    return {
        value.split("=", 1)[0]: value
        for value in response.headers.getlist("Set-Cookie")
    }


def test_cookie_hardening_adds_only_what_is_missing() -> None:
    policy = CookiePolicy(samesite="Strict", exempt={"ui_theme"})
    cookies = set_cookies(cookie_app(cookies=policy))
    assert cookies["plain"] == "plain=1; Path=/; Secure; HttpOnly; SameSite=Strict"
    # An explicit SameSite=None is the app's choice: kept.
    assert cookies["cross"] == "cross=2; Secure; Path=/; SameSite=None; HttpOnly"
    assert cookies["ui_theme"] == "ui_theme=dark; Path=/"


def test_cookie_hardening_adds_secure_only_over_https() -> None:
    cookies = set_cookies(cookie_app(cookies=CookiePolicy()), "http://localhost/")
    assert cookies["plain"] == "plain=1; Path=/; HttpOnly; SameSite=Lax"


def test_cookie_hardening_from_config_and_turned_off() -> None:
    configured = cookie_app(config={"HEADER_POLICY_COOKIES": {"samesite": "Lax"}})
    assert set_cookies(configured)["plain"].endswith("Secure; HttpOnly; SameSite=Lax")
    off = cookie_app(preset="strict", cookies=False)
    assert set_cookies(off)["plain"] == "plain=1; Path=/"


def test_cookie_hardening_leaves_app_config_alone() -> None:
    app = cookie_app(preset="strict")
    set_cookies(app)
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_SAMESITE"] is None


def test_mimetype_scoping() -> None:
    app = Flask("scoped")
    HeaderPolicy(
        app,
        headers={
            "X-Html-Only": only_for("text/html", "1"),
            "X-Json-Only": only_for(["application/json"], "1"),
        },
    )

    @app.get("/page")
    def page() -> str:
        return "<p>x</p>"

    @app.get("/data")
    def data() -> dict[str, int]:
        return {}

    client = app.test_client()
    page_headers, data_headers = (
        client.get("/page").headers,
        client.get("/data").headers,
    )
    assert ("X-Html-Only" in page_headers, "X-Json-Only" in page_headers) == (
        True,
        False,
    )
    assert ("X-Html-Only" in data_headers, "X-Json-Only" in data_headers) == (
        False,
        True,
    )


def test_only_for_otherwise_sends_a_static_value_to_other_types() -> None:
    app = Flask("otherwise")
    page_csp = ContentSecurityPolicy({"script-src": [NONCE, STRICT_DYNAMIC]})
    HeaderPolicy(
        app,
        headers={
            "Content-Security-Policy": only_for(
                "text/html", page_csp, otherwise="default-src 'none'"
            )
        },
    )

    @app.get("/page")
    def page() -> str:
        return "<p>x</p>"

    @app.get("/data")
    def data() -> dict[str, int]:
        return {}

    client = app.test_client()
    assert len(nonces(client.get("/page").headers["Content-Security-Policy"])) == 1
    assert (
        client.get("/data").headers["Content-Security-Policy"] == "default-src 'none'"
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (only_for("text/html", "a", otherwise="b\r\n"), "control character"),
        (
            only_for(
                "text/html",
                "a",
                otherwise=ContentSecurityPolicy({"script-src": [NONCE]}),
            ),
            "takes a static value",
        ),
    ],
)
def test_only_for_otherwise_is_validated(header: object, message: str) -> None:
    with pytest.raises(InvalidHeaderError, match=message):
        HeaderPolicy(headers={"X-Thing": header})  # type: ignore[dict-item]


BUILDERS = [
    ContentSecurityPolicy({"default-src": [SELF]}),
    StrictTransportSecurity(max_age=600, include_subdomains=False),
    PermissionsPolicy({"camera": []}),
    ReportingEndpoints({"default": "https://reports.example/"}),
    ReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
    CrossOriginOpenerPolicy.SAME_ORIGIN,
    CrossOriginEmbedderPolicy.REQUIRE_CORP,
    CrossOriginResourcePolicy.SAME_SITE,
    XContentTypeOptions.NOSNIFF,
    XFrameOptions.SAMEORIGIN,
    CacheControl(no_store=True),
    ContentDisposition("attachment", filename="résumé.pdf"),
]


@pytest.mark.parametrize("layer", ["app", "blueprint", "view"])
@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: type(b).__name__)
def test_every_builder_at_every_layer(builder: object, layer: str) -> None:
    name = type(builder).header_name  # type: ignore[attr-defined]
    declared = {name: builder}
    app = Flask("builders")
    policy = HeaderPolicy(app, headers=declared if layer == "app" else None)
    bp = Blueprint("bp", __name__)

    @bp.get("/")
    def index() -> str:
        return "x"

    if layer == "blueprint":
        policy.add_blueprint_headers(bp, declared)
    elif layer == "view":
        policy.add_view_headers("bp.index", declared)
    app.register_blueprint(bp)
    response = app.test_client().get("/", base_url="https://localhost/")
    assert response.headers.getlist(name) == [builder.to_header()]  # type: ignore[attr-defined]


def test_only_for_keeps_its_scope_with_remove() -> None:
    app = Flask("scoped_remove")
    HeaderPolicy(app, headers={"X-Powered-By": only_for("text/html", remove())})

    @app.get("/page")
    def page() -> tuple[str, dict[str, str]]:
        return "<p>x</p>", {"X-Powered-By": "PHP"}

    @app.get("/data")
    def data() -> tuple[dict[str, int], dict[str, str]]:
        return {}, {"X-Powered-By": "PHP"}

    client = app.test_client()
    assert "X-Powered-By" not in client.get("/page").headers
    assert client.get("/data").headers["X-Powered-By"] == "PHP"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (append(lambda request, response: ","), "needs at least one member"),
        (force(lambda request, response: "text/html"), "has no charset"),
    ],
)
def test_per_request_values_get_the_static_checks(header: object, message: str) -> None:
    app = Flask("dynamic_checks")
    name = "Vary" if header.mode.value == "append" else "Content-Type"  # type: ignore[attr-defined]
    HeaderPolicy(app, headers={name: header})  # type: ignore[dict-item]

    @app.get("/")
    def index() -> str:
        return "x"

    response = app.test_client().get("/")  # production: omitted, not sent empty
    assert response.status_code == 200
    assert response.headers.getlist(name) in ([], ["text/html; charset=utf-8"])
    app.testing = True
    with pytest.raises(InvalidHeaderError, match=message):
        app.test_client().get("/")


def test_per_request_builder_with_nonce_gets_the_request_nonce() -> None:
    app = Flask("dynamic_nonce")
    csp = ContentSecurityPolicy({"script-src": [NONCE]})
    app.testing = True
    HeaderPolicy(
        app, headers={"Content-Security-Policy": lambda request, response: csp}
    )

    @app.get("/")
    def index() -> str:
        return csp_nonce()

    response = app.test_client().get("/")
    assert nonces(response.headers["Content-Security-Policy"]) == {response.text}
