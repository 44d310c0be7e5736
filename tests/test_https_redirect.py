"""The HTTP → HTTPS redirect: which requests, which URL, which headers."""

from __future__ import annotations

import collections.abc as cabc
import logging
import threading
import typing as t

import httpx
import pytest
from flask import Blueprint
from flask import Flask
from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler
from werkzeug.test import EnvironBuilder

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy import HTTPSRedirect
from flask_header_policy import NONCE
from flask_header_policy.audit.app import audit_app
from flask_header_policy.https_redirect import https_location
from flask_header_policy.https_redirect import is_loopback_host
from flask_header_policy.https_redirect import split_host

HOST = "app.example"
HTTPS = {"wsgi.url_scheme": "https"}
APP_HEADERS = {
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}


def make_app(
    redirect: HTTPSRedirect | bool | None = True, **config: t.Any
) -> tuple[Flask, HeaderPolicy]:
    """A production-like app (testing off) with a few routes."""
    app = Flask("redirected")
    app.config.update(config)
    policy = HeaderPolicy(app, headers=APP_HEADERS, https_redirect=redirect)

    @app.route("/echo", methods=["GET", "POST", "PUT"])
    @policy.headers({"X-View": "echo", "Content-Security-Policy": "default-src 'none'"})
    def echo() -> str:
        return f"{request.method} {request.get_data(as_text=True)}"

    @app.get("/health")
    def health() -> str:
        return "ok"

    api = Blueprint("api", __name__, url_prefix="/api")
    v1 = Blueprint("v1", __name__, url_prefix="/v1")

    @v1.get("/items")
    def items() -> dict[str, list[int]]:
        return {"items": [1]}

    api.register_blueprint(v1)
    app.register_blueprint(api)
    return app, policy


def get(app: Flask, path: str, host: str = HOST, **kwargs: t.Any) -> t.Any:
    return app.test_client().get(path, base_url=f"http://{host}/", **kwargs)


# The configuration object.


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_status_codes_accepted(status: int) -> None:
    assert HTTPSRedirect(status=status).status == status


@pytest.mark.parametrize("status", [200, 303, 300, 399, True, "308", 308.0])
def test_other_status_rejected(status: t.Any) -> None:
    with pytest.raises(ValueError, match="308"):
        HTTPSRedirect(status=status)


def test_default_is_permanent_308() -> None:
    assert HTTPSRedirect().status == 308


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"exempt_endpoints": "health"}, TypeError, "not a str"),
        ({"exempt_blueprints": "api"}, TypeError, "not a str"),
        ({"exempt_endpoints": [1]}, TypeError, "int"),
        ({"exempt_paths": "/health"}, TypeError, "not a str"),
        ({"exempt_paths": ["health"]}, ValueError, "must start with '/'"),
        ({"exempt": "yes"}, TypeError, "callable"),
        ({"port": 0}, ValueError, "TCP port"),
        ({"port": 65536}, ValueError, "TCP port"),
        ({"port": True}, ValueError, "TCP port"),
    ],
)
def test_bad_options(
    kwargs: dict[str, t.Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        HTTPSRedirect(**kwargs)


@pytest.mark.parametrize(
    ("prefix", "path", "exempt"),
    [
        ("/health", "/health", True),
        ("/health", "/health/deep", True),
        ("/health", "/healthz", False),
        ("/.well-known/acme-challenge/", "/.well-known/acme-challenge/tok", True),
        ("/.well-known/acme-challenge/", "/.well-known/acme-challenge", True),
        ("/.well-known/acme-challenge/", "/.well-known/other", False),
        ("/", "/anything", True),
    ],
)
def test_exempt_paths_match_whole_segments(
    prefix: str, path: str, exempt: bool
) -> None:
    assert HTTPSRedirect(exempt_paths=[prefix]).exempts_path(path) is exempt


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", ("example.com", None)),
        ("example.com:8080", ("example.com", 8080)),
        ("[::1]:8443", ("[::1]", 8443)),
        ("127.0.0.1", ("127.0.0.1", None)),
        ("", None),
        ("example.com:0", None),
        ("example.com:99999", None),
        ("good.example@evil.example", None),
        ("evil.example/good.example", None),
        ("evil.example#", None),
        ("example.com\r\nX-Injected: 1", None),
        ("exa mple.com", None),
        ("example.com:80:80", None),
        ("[::1", None),
    ],
)
def test_split_host(host: str, expected: tuple[str, int | None] | None) -> None:
    assert split_host(host) == expected


@pytest.mark.parametrize(
    ("name", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("app.localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("[::1]", True),
        ("::1", True),
        ("[::ffff:127.0.0.1]", True),
        ("example.com", False),
        ("localhost.example.com", False),
        ("128.0.0.1", False),
        ("10.0.0.1", False),
        ("[::2]", False),
        ("mylocalhost", False),
    ],
)
def test_loopback_hosts(name: str, loopback: bool) -> None:
    assert is_loopback_host(name) is loopback


# The target URL.


def location(
    path: str, host: str = HOST, port: int | None = None, **kw: t.Any
) -> str | None:
    environ = EnvironBuilder(path, base_url=f"http://{host}/", **kw).get_environ()
    return https_location(environ, host, port=port)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "https://app.example/"),
        ("/a/b?x=1&y=2", "https://app.example/a/b?x=1&y=2"),
        # Percent-encoding survives as sent: %2F stays a slash in a segment,
        # %25 a percent sign, UTF-8 escapes stay escaped.
        ("/files/a%2Fb", "https://app.example/files/a%2Fb"),
        ("/100%25/x", "https://app.example/100%25/x"),
        ("/caf%C3%A9?q=%E2%9C%93", "https://app.example/caf%C3%A9?q=%E2%9C%93"),
        ("/p?next=%2Fhome%3Fa%3D1", "https://app.example/p?next=%2Fhome%3Fa%3D1"),
    ],
)
def test_location_keeps_path_and_query(path: str, expected: str) -> None:
    assert location(path) == expected


def test_location_of_a_path_that_looks_like_a_host() -> None:
    # "//evil.example/x" is a path here; after "https://host" it stays one.
    environ = {"PATH_INFO": "//evil.example/x", "RAW_URI": "//evil.example/x"}
    assert https_location(environ, HOST) == "https://app.example//evil.example/x"


@pytest.mark.parametrize(
    "environ",
    [
        # "OPTIONS * HTTP/1.1" (asterisk form): the dev server's PATH_INFO.
        {"PATH_INFO": "*", "RAW_URI": "*", "REQUEST_URI": "*"},
        {"PATH_INFO": "*", "SCRIPT_NAME": ""},
        {"PATH_INFO": "x.example", "SCRIPT_NAME": ""},
    ],
)
def test_location_path_always_starts_with_a_slash(environ: dict[str, str]) -> None:
    # Without it, "https://app.example*" names another host.
    location = https_location(environ, HOST)
    assert location is not None
    assert location.startswith("https://app.example/"), location


def test_location_without_raw_target_quotes_the_wsgi_path() -> None:
    environ = {
        "PATH_INFO": "/100%/caf\xc3\xa9 x",  # Latin-1 decoded bytes, PEP 3333
        "SCRIPT_NAME": "",
        "QUERY_STRING": "a=b c",
    }
    assert (
        https_location(environ, HOST)
        == "https://app.example/100%25/caf%C3%A9%20x?a=b%20c"
    )


def test_location_ignores_a_raw_target_that_does_not_match() -> None:
    environ = {"PATH_INFO": "/real", "SCRIPT_NAME": "", "RAW_URI": "/other"}
    assert https_location(environ, HOST) == "https://app.example/real"


def test_location_encodes_a_prefix_added_by_a_middleware() -> None:
    # ProxyFix(x_prefix) puts the proxy's prefix in SCRIPT_NAME only.
    environ = {
        "SCRIPT_NAME": "/my app",
        "PATH_INFO": "/a/b",
        "RAW_URI": "/a%2Fb",
        "QUERY_STRING": "",
    }
    assert https_location(environ, HOST) == "https://app.example/my%20app/a%2Fb"


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("app.example:8080", None, "https://app.example/x"),
        ("app.example:8080", 8443, "https://app.example:8443/x"),
        ("app.example", 443, "https://app.example/x"),
        ("APP.Example", None, "https://app.example/x"),
        ("[2001:db8::1]:80", None, "https://[2001:db8::1]/x"),
    ],
)
def test_location_port(host: str, port: int | None, expected: str) -> None:
    assert location("/x", host=host, port=port) == expected


@pytest.mark.parametrize(
    "host", ["", "evil.example/x", "a@b", "a\r\nb", "good.example#evil.example"]
)
def test_location_refuses_bad_hosts(host: str) -> None:
    environ = {"PATH_INFO": "/", "SCRIPT_NAME": "", "QUERY_STRING": ""}
    assert https_location(environ, host) is None


# In an app.


def test_plain_http_is_redirected_with_308() -> None:
    app, _ = make_app()
    response = get(app, "/echo?a=1")
    assert response.status_code == 308
    assert response.headers["Location"] == "https://app.example/echo?a=1"


def test_https_is_served() -> None:
    app, _ = make_app()
    response = app.test_client().get("/echo", base_url=f"https://{HOST}/")
    assert response.status_code == 200
    assert response.text == "GET "


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_308_keeps_method_and_body(method: str) -> None:
    app, _ = make_app()
    client = app.test_client()
    response = client.open(
        "/echo", base_url=f"http://{HOST}/", method=method, data=b"payload=1"
    )
    assert response.status_code == 308
    followed = client.open(
        "/echo",
        base_url=f"http://{HOST}/",
        method=method,
        data=b"payload=1",
        follow_redirects=True,
    )
    assert followed.request.url == "https://app.example/echo"
    assert followed.text == f"{method} payload=1"


@pytest.mark.parametrize("status", [301, 302, 307])
def test_status_is_selectable(status: int) -> None:
    app, _ = make_app(HTTPSRedirect(status=status))
    assert get(app, "/echo").status_code == status


def test_unmatched_urls_are_redirected_too() -> None:
    app, _ = make_app()
    response = get(app, "/nowhere")
    assert response.status_code == 308
    assert response.headers["Location"] == "https://app.example/nowhere"


def test_redirect_carries_the_app_layer_without_hsts() -> None:
    app, _ = make_app()
    response = get(app, "/echo")
    assert response.status_code == 308
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "X-View" not in response.headers  # the view did not answer
    assert "Content-Security-Policy" not in response.headers
    assert "Strict-Transport-Security" not in response.headers


def test_a_nonce_policy_in_the_app_layer_reaches_the_redirect() -> None:
    app = Flask("nonce")
    csp = ContentSecurityPolicy(default_src="'none'", script_src=[NONCE])
    HeaderPolicy(app, headers={"Content-Security-Policy": csp}, https_redirect=True)
    app.get("/")(lambda: "page")
    response = get(app, "/")
    assert response.status_code == 308
    assert "script-src 'nonce-" in response.headers["Content-Security-Policy"]


def test_no_redirect_without_configuration() -> None:
    app, _ = make_app(None)
    assert get(app, "/echo").status_code == 200


@pytest.mark.parametrize("flag", ["testing", "debug"])
def test_off_under_testing_and_debug_unless_asked(flag: str) -> None:
    app, _ = make_app()
    setattr(app, flag, True)
    assert get(app, "/echo").status_code == 200
    asked, _ = make_app(HTTPSRedirect(**{f"in_{flag}": True}))
    setattr(asked, flag, True)
    assert get(asked, "/echo").status_code == 308


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "127.0.0.1:5000", "[::1]:8080", "app.localhost"]
)
def test_loopback_hosts_are_not_redirected_by_default(host: str) -> None:
    app, _ = make_app()
    assert get(app, "/echo", host=host).status_code == 200
    asked, _ = make_app(HTTPSRedirect(redirect_loopback=True))
    response = get(asked, "/echo", host=host)
    assert response.status_code == 308
    assert response.headers["Location"].startswith("https://")


def test_exempt_endpoint_blueprint_path_and_predicate() -> None:
    app, _ = make_app(HTTPSRedirect(exempt_endpoints={"health"}))
    assert get(app, "/health").status_code == 200
    assert get(app, "/echo").status_code == 308

    app, _ = make_app(HTTPSRedirect(exempt_blueprints={"api"}))
    assert get(app, "/api/v1/items").status_code == 200  # nested in api
    assert get(app, "/echo").status_code == 308

    app, _ = make_app(HTTPSRedirect(exempt_paths=["/.well-known/acme-challenge"]))
    assert get(app, "/.well-known/acme-challenge/token").status_code == 404
    assert get(app, "/.well-known/other").status_code == 308

    seen: list[str] = []

    def exempt(req: t.Any) -> bool:
        seen.append(req.path)
        return bool(req.headers.get("X-Health-Check"))

    app, _ = make_app(HTTPSRedirect(exempt=exempt))
    assert get(app, "/echo", headers={"X-Health-Check": "1"}).status_code == 200
    assert get(app, "/echo").status_code == 308
    assert seen == ["/echo", "/echo"]


def test_a_raising_predicate_redirects_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def exempt(req: t.Any) -> bool:
        raise RuntimeError("boom")

    app, _ = make_app(HTTPSRedirect(exempt=exempt))
    with caplog.at_level(logging.ERROR):
        assert get(app, "/echo").status_code == 308
        assert get(app, "/echo").status_code == 308
    messages = [r.getMessage() for r in caplog.records if "predicate" in r.getMessage()]
    assert len(messages) == 1
    assert "boom" in messages[0]


def test_a_raising_predicate_raises_under_testing() -> None:
    def exempt(req: t.Any) -> bool:
        raise RuntimeError("boom")

    app, _ = make_app(HTTPSRedirect(exempt=exempt, in_testing=True))
    app.testing = True
    with pytest.raises(RuntimeError, match="boom"):
        get(app, "/echo")


def test_x_forwarded_proto_alone_is_not_trusted() -> None:
    app, _ = make_app()
    response = get(app, "/echo", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 308
    assert "Strict-Transport-Security" not in response.headers


def test_proxy_fix_makes_a_forwarded_request_secure() -> None:
    app, _ = make_app()
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]
    response = get(app, "/echo", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers
    # The proxy's own host and prefix are where the redirect points.
    response = get(
        app,
        "/echo?a=%2F",
        host="internal:8000",
        headers={
            "X-Forwarded-Proto": "http",
            "X-Forwarded-Host": "public.example",
            "X-Forwarded-Prefix": "/shop",
        },
    )
    assert response.status_code == 308
    assert response.headers["Location"] == "https://public.example/shop/echo?a=%2F"


@pytest.mark.parametrize(
    "host",
    [
        "evil.example@app.example",
        "app.example/evil",
        "app.example#evil",
        "app.example\r\nX-A: 1",
        "app.example:99999",
        "",
    ],
)
def test_a_bad_host_gets_400_not_a_redirect(host: str) -> None:
    app, _ = make_app()
    response = app.test_client().get(
        "/echo", base_url="http://app.example/", environ_overrides={"HTTP_HOST": host}
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"  # still the policy's


def test_trusted_hosts_apply() -> None:
    # Without them, a well-formed Host of another site is redirected there,
    # as the docs say: the request itself named that site.
    app, _ = make_app()
    response = get(app, "/echo", host="other.example")
    assert response.headers["Location"] == "https://other.example/echo"
    app, _ = make_app(TRUSTED_HOSTS=["app.example"])
    assert get(app, "/echo").status_code == 308
    response = get(app, "/echo", host="other.example")
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_proxy_fix_applied_before_the_policy() -> None:
    # ProxyFix inside the policy's wrapper: it has set the scheme by the time
    # the app asks, as it has when it wraps the policy (the test above).
    app = Flask("proxied")
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    HeaderPolicy(app, headers=APP_HEADERS, https_redirect=True)
    app.get("/")(lambda: "page")
    response = get(app, "/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers
    response = get(app, "/", headers={"X-Forwarded-Proto": "http"})
    assert response.status_code == 308
    assert response.headers["Location"] == "https://app.example/"
    assert "Strict-Transport-Security" not in response.headers
    assert get(app, "/").status_code == 308
    # An HTTPS request that a proxy says came over plain HTTP is redirected.
    response = app.test_client().get(
        "/",
        base_url="https://app.example/",
        headers={"X-Forwarded-Proto": "http"},
    )
    assert response.status_code == 308


def test_installs_no_before_request_function() -> None:
    # Flask pays for every before_request function on every request; the
    # redirect wraps app.preprocess_request instead.
    app, _ = make_app()
    assert app.before_request_funcs == {}


def test_runs_before_url_value_preprocessors_too() -> None:
    app = Flask("lang")
    HeaderPolicy(app, https_redirect=True)
    pulled: list[str] = []

    @app.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        pulled.append((values or {}).pop("lang", ""))

    @app.get("/<lang>/")
    def home() -> str:
        return "home"

    assert get(app, "/en/").status_code == 308
    assert pulled == []
    response = app.test_client().get("/en/", base_url="https://app.example/")
    assert (response.status_code, pulled) == (200, ["en"])


def test_runs_before_other_before_request_functions() -> None:
    app = Flask("login")

    @app.before_request
    def login_required() -> t.Any:
        return "log in first", 401

    HeaderPolicy(app, https_redirect=True)
    app.get("/")(lambda: "page")
    assert get(app, "/").status_code == 308


# Configuration keys.


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (True, 308),
        ({"status": 301}, 301),
        (HTTPSRedirect(status=307), 307),
        (False, 200),
        (None, 200),
    ],
)
def test_config_key(value: t.Any, status: int) -> None:
    app, _ = make_app(None, HEADER_POLICY_HTTPS_REDIRECT=value)
    assert get(app, "/echo").status_code == status


def test_argument_wins_over_config() -> None:
    app, _ = make_app(False, HEADER_POLICY_HTTPS_REDIRECT=True)
    assert get(app, "/echo").status_code == 200
    app, _ = make_app(HTTPSRedirect(status=302), HEADER_POLICY_HTTPS_REDIRECT=True)
    assert get(app, "/echo").status_code == 302


@pytest.mark.parametrize("value", [308, ["/x"]])
def test_config_key_type_is_checked(value: t.Any) -> None:
    with pytest.raises(TypeError, match="HEADER_POLICY_HTTPS_REDIRECT"):
        make_app(None, HEADER_POLICY_HTTPS_REDIRECT=value)


@pytest.mark.parametrize(("value", "status"), [("yes", 308), ("False", 200)])
def test_config_key_takes_boolean_words(value: str, status: int) -> None:
    # As app.config.from_prefixed_env() gives them: text that is no JSON.
    app, _ = make_app(None, HEADER_POLICY_HTTPS_REDIRECT=value)
    assert get(app, "/echo").status_code == status


def test_config_key_refuses_other_words() -> None:
    with pytest.raises(ValueError, match="HEADER_POLICY_HTTPS_REDIRECT='maybe'"):
        make_app(None, HEADER_POLICY_HTTPS_REDIRECT="maybe")


def test_argument_is_no_word() -> None:
    with pytest.raises(TypeError, match="https_redirect"):
        HeaderPolicy(https_redirect="yes")  # type: ignore[arg-type]


def test_config_mapping_is_validated() -> None:
    with pytest.raises(ValueError, match="308"):
        make_app(None, HEADER_POLICY_HTTPS_REDIRECT={"status": 200})


# The in-process audit grades the redirect.


def results_of(audit: t.Any) -> dict[str, str]:
    return {test.name: test.result for test in audit.result.tests}


def test_audit_grades_redirection_when_a_redirect_is_configured() -> None:
    app, _ = make_app(HTTPSRedirect(exempt_endpoints={"health"}))
    app.testing = True  # the audit judges the redirect as production serves it
    audits = {audit.path: audit for audit in audit_app(app)}
    assert results_of(audits["/echo"])["redirection"] == "redirection-to-https"
    assert results_of(audits["/health"])["redirection"] == "redirection-missing"
    to_https = audits["/echo"].result
    missing = audits["/health"].result
    assert {t.name: t.score_modifier for t in missing.tests}["redirection"] == -20
    assert {t.name: t.score_modifier for t in to_https.tests}["redirection"] == 0


def test_audit_leaves_redirection_out_without_a_redirect() -> None:
    app, _ = make_app(None)
    for audit in audit_app(app):
        assert "redirection" not in results_of(audit)


def test_audit_sees_a_redirect_off_the_host() -> None:
    app, _ = make_app(HTTPSRedirect(exempt=lambda request: True))

    @app.before_request
    def elsewhere() -> t.Any:
        if not request.is_secure:
            return app.redirect("https://www.other.example/", 301)
        return None

    audits = {audit.path: audit for audit in audit_app(app)}
    assert (
        results_of(audits["/echo"])["redirection"] == "redirection-off-host-from-http"
    )


# A real server, a real client, a non-loopback host name.


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture
def server() -> cabc.Iterator[tuple[Flask, str]]:
    app, _ = make_app()
    # A proxy terminating TLS in front: the follow-up request says https.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}
    )
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def test_real_server_post_gets_308_and_the_body_survives(
    server: tuple[Flask, str],
) -> None:
    _, base = server
    body = "name=Zoë&note=" + "x" * 10_000
    with httpx.Client() as client:
        response = client.post(
            f"{base}/echo/../echo?next=%2Fhome&q=%E2%9C%93",
            headers={"Host": HOST, "Content-Type": "application/x-www-form-urlencoded"},
            content=body.encode(),
        )
        assert response.status_code == 308
        location = response.headers["Location"]
        assert location == "https://app.example/echo?next=%2Fhome&q=%E2%9C%93"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in response.headers
        # What a browser does with a 308: the same method and body, to the
        # new URL (here through the TLS-terminating proxy).
        again = client.post(
            f"{base}/echo?next=%2Fhome&q=%E2%9C%93",
            headers={
                "Host": HOST,
                "X-Forwarded-Proto": "https",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            content=body.encode(),
        )
    assert again.status_code == 200
    assert again.text == f"POST {body}"
    assert again.headers["Strict-Transport-Security"].startswith("max-age=")


def test_real_server_keeps_percent_encoding(server: tuple[Flask, str]) -> None:
    _, base = server
    with httpx.Client() as client:
        response = client.get(
            f"{base}/files/a%2Fb%25c", headers={"Host": f"{HOST}:8080"}
        )
    assert response.status_code == 308
    assert response.headers["Location"] == "https://app.example/files/a%2Fb%25c"
