"""Every preset's exact headers: they are documented promises (docs/presets.rst)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask import make_response
from flask import Response
from flask import session

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import force
from flask_header_policy import HeaderPolicy
from flask_header_policy import only_for
from flask_header_policy.audit import grade_response
from flask_header_policy.presets import Preset
from flask_header_policy.presets import PRESETS
from flask_header_policy.presets import STRICT_CSP

OWASP = json.loads(
    (Path(__file__).parents[1] / "src/flask_header_policy/owasp.json").read_text()
)
NONCE = "{nonce}"
RESTRICTIVE_PERMISSIONS = (
    "accelerometer=(), browsing-topics=(), camera=(), display-capture=(),"
    " geolocation=(), gyroscope=(), hid=(), idle-detection=(), magnetometer=(),"
    " microphone=(), midi=(), payment=(), serial=(), usb=(), xr-spatial-tracking=()"
)

EXPECTED: dict[str, dict[str, str]] = {
    "strict": {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'nonce-{NONCE}' 'strict-dynamic';"
            f" style-src 'self' 'nonce-{NONCE}'; img-src 'self' data:; font-src 'self';"
            " connect-src 'self'; manifest-src 'self'; object-src 'none';"
            " base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": RESTRICTIVE_PERMISSIONS,
    },
    "basic": {
        "Content-Security-Policy": (
            "default-src 'self'; base-uri 'self'; font-src 'self' https: data:;"
            " form-action 'self'; frame-ancestors 'self'; img-src 'self' data:;"
            " object-src 'none'; script-src 'self'; script-src-attr 'none';"
            " style-src 'self' https: 'unsafe-inline'; upgrade-insecure-requests"
        ),
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Origin-Agent-Cluster": "?1",
        "X-DNS-Prefetch-Control": "off",
        "X-Download-Options": "noopen",
        "X-Permitted-Cross-Domain-Policies": "none",
        "X-XSS-Protection": "0",
    },
    "api": {
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "Cache-Control": "no-store",
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Resource-Policy": "same-origin",
    },
    "owasp": {k: v for k, v in OWASP["add"].items() if k != "Clear-Site-Data"},
}


def page_app(preset: str | Preset, body: str = "<!doctype html><p>page</p>") -> Flask:
    app = Flask(f"preset_{preset}")
    app.testing = True
    app.secret_key = "test"
    HeaderPolicy(app, preset=preset)

    @app.get("/")
    def page() -> str:
        session["user"] = "ada"
        return body

    @app.get("/api")
    def api() -> dict[str, int]:
        return {"n": 1}

    return app


def sent(app: Flask, path: str = "/", *, https: bool = True) -> dict[str, str]:
    base = "https://localhost/" if https else "http://localhost/"
    response = app.test_client().get(path, base_url=base)
    assert response.status_code == 200
    headers = response.headers
    assert len(headers.getlist("Content-Security-Policy")) <= 1
    return dict(headers)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_preset_sends_exactly_its_documented_values(name: str) -> None:
    headers = sent(page_app(name))
    nonce = re.search(r"'nonce-([^']+)'", headers["Content-Security-Policy"])
    expected = dict(EXPECTED[name])
    if nonce is not None:
        csp = expected["Content-Security-Policy"].replace(NONCE, nonce.group(1))
        expected["Content-Security-Policy"] = csp
    policy = {k: v for k, v in headers.items() if k in expected}
    assert policy == expected
    for removed in ("Server", "X-Powered-By"):
        assert removed not in headers


def test_every_preset_is_pinned() -> None:
    assert set(PRESETS) == set(EXPECTED) == {"strict", "basic", "api", "owasp"}


def test_owasp_remove_list_is_applied() -> None:
    app = page_app("owasp")

    @app.get("/leaky")
    def leaky() -> tuple[str, dict[str, str]]:
        return "x", {name: "leak" for name in OWASP["remove"][:40]}

    headers = sent(app, "/leaky")
    assert not set(OWASP["remove"]) & set(headers)


def test_owasp_leaves_out_clear_site_data_on_every_response() -> None:
    assert "Clear-Site-Data" not in sent(page_app("owasp"))


@pytest.mark.parametrize(
    ("name", "cookie"),
    [
        ("strict", "HttpOnly; Path=/; Secure; SameSite=Lax"),
        ("api", "HttpOnly; Path=/; Secure; SameSite=Strict"),
        ("basic", "HttpOnly; Path=/"),
        ("owasp", "HttpOnly; Path=/"),
    ],
)
def test_preset_cookie_hardening(name: str, cookie: str) -> None:
    set_cookie = sent(page_app(name))["Set-Cookie"]
    assert set_cookie.split("; ", 1)[1] == cookie


def test_strict_html_page_with_session_scores_135() -> None:
    """The issue's target: the Observatory maximum without preload or scripts."""
    app = page_app("strict")
    response = app.test_client().get("/", base_url="https://localhost/")
    result = grade_response(
        response.headers.to_wsgi_list(),
        body=response.get_data(as_text=True),
        url="https://localhost/",
    )
    assert (result.score, result.grade) == (135, "A+")
    assert all(test.passed for test in result.tests)


def test_strict_non_html_gets_a_locked_csp_without_nonce() -> None:
    app = page_app("strict")
    headers = sent(app, "/api")
    assert headers["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    response = app.test_client().get("/api", base_url="https://localhost/")
    result = grade_response(response.headers.to_wsgi_list(), url="https://localhost/")
    # 135 less the cookie bonus: this response sets no cookie.
    assert (result.score, result.grade) == (130, "A+")
    assert result["cookies"].result == "cookies-not-found"


def test_hsts_of_a_preset_is_only_sent_over_https() -> None:
    assert "Strict-Transport-Security" not in sent(page_app("strict"), https=False)


def test_preset_is_overridable_per_layer() -> None:
    app = Flask("override")
    app.testing = True
    policy = HeaderPolicy(
        app,
        preset="strict",
        headers={"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": None},
    )

    @app.get("/")
    def index() -> str:
        return "x"

    @app.get("/embed")
    @policy.headers({"Cross-Origin-Resource-Policy": force("cross-origin")})
    def embed() -> str:
        return "x"

    index_headers = sent(app)
    assert index_headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Referrer-Policy" not in index_headers
    assert sent(app, "/embed")["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_preset_replace_makes_a_new_preset() -> None:
    strict = PRESETS["strict"]
    mine = strict.replace({"x-frame-options": None, "X-Extra": "1"}, name="mine")
    assert mine.name == "mine"
    assert "X-Frame-Options" not in mine.headers
    assert mine.headers["X-Extra"] == "1"
    assert "X-Frame-Options" in strict.headers
    headers = sent(page_app(mine))
    assert headers["X-Extra"] == "1"
    assert "X-Frame-Options" not in headers


def test_preset_from_config() -> None:
    app = Flask("configured")
    app.config["HEADER_POLICY_PRESET"] = "api"
    HeaderPolicy(app)

    @app.get("/")
    def index() -> dict[str, int]:
        return {}

    assert sent(app)["Cache-Control"] == "no-store"


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="choose one of strict, basic, api, owasp"):
        HeaderPolicy(preset="stricter")


def test_strict_csp_has_no_evaluator_finding_of_medium_maybe_or_worse() -> None:
    """CSP Evaluator's MEDIUM_MAYBE and worse map to low, medium and high."""
    from flask_header_policy.audit._csp_checks import csp_findings

    csp = sent(page_app("strict"))["Content-Security-Policy"]
    findings = csp_findings([csp], [], report_only=False)
    assert [(f.severity, f.code) for f in findings] == [("info", "csp-no-reporting")]
    # The same check does flag a weaker policy, so it can fail.
    weak = csp_findings(["script-src 'self' 'unsafe-inline'"], [], report_only=False)
    assert {f.severity for f in weak} & {"high", "medium", "low"}


# A view's own header wins, presets included.


@pytest.mark.parametrize("name", ["api", "owasp"])
def test_a_views_own_caching_wins_over_the_preset(name: str) -> None:
    app = page_app(name)

    @app.get("/cached")
    def cached() -> Response:
        response = make_response({"n": 1})
        response.cache_control.max_age = 60
        return response

    assert sent(app, "/cached")["Cache-Control"] == "max-age=60"
    assert sent(app, "/api")["Cache-Control"] == EXPECTED[name]["Cache-Control"]


@pytest.mark.parametrize("name", ["basic", "owasp"])
def test_upgrade_insecure_requests_is_sent_over_https_only(name: str) -> None:
    app = page_app(name)
    over_https = sent(app)["Content-Security-Policy"]
    over_http = sent(app, https=False)["Content-Security-Policy"]
    assert over_https == EXPECTED[name]["Content-Security-Policy"]
    assert over_https.endswith("; upgrade-insecure-requests")
    # The same policy, less the directive: the page keeps its CSS and JS.
    assert over_http == over_https.removesuffix("; upgrade-insecure-requests")


def test_upgrade_insecure_requests_of_any_csp_is_https_only() -> None:
    app = Flask("t")
    policy = HeaderPolicy(
        app,
        headers={
            "Content-Security-Policy": "upgrade-insecure-requests, img-src 'self'"
        },
    )

    @app.get("/")
    def index() -> str:
        return "<p>x</p>"

    @app.get("/only")
    @policy.headers({"Content-Security-Policy": "upgrade-insecure-requests"})
    def only() -> str:
        return "<p>x</p>"

    client = app.test_client()
    https = "https://localhost/"
    assert client.get("/").headers["Content-Security-Policy"] == "img-src 'self'"
    assert client.get("/", base_url=https).headers["Content-Security-Policy"] == (
        "upgrade-insecure-requests, img-src 'self'"
    )
    assert "Content-Security-Policy" not in client.get("/only").headers
    alone = client.get("/only", base_url=https).headers["Content-Security-Policy"]
    assert alone == "upgrade-insecure-requests"


def test_upgrade_insecure_requests_everywhere_when_hsts_is_sent_everywhere() -> None:
    app = Flask("t")
    app.config["HEADER_POLICY_HSTS_ONLY_SECURE"] = False
    HeaderPolicy(app, preset="basic")
    app.get("/")(lambda: "<p>x</p>")
    csp = app.test_client().get("/").headers["Content-Security-Policy"]
    assert csp.endswith("; upgrade-insecure-requests")


# Customising a preset.


def test_presets_are_importable_from_the_package() -> None:
    from flask_header_policy import PRESETS as exported

    assert exported is PRESETS
    assert exported["strict"].name == "strict"


def test_a_presets_csp_is_a_builder() -> None:
    assert PRESETS["strict"].csp is STRICT_CSP
    assert PRESETS["api"].csp == ContentSecurityPolicy.from_header(
        "default-src 'none'; frame-ancestors 'none'"
    )
    owasp = PRESETS["owasp"].csp
    assert owasp.to_header() == OWASP["add"]["Content-Security-Policy"]
    with pytest.raises(KeyError, match="preset 'bare' has no static"):
        Preset("bare", {"X-A": "1"}).csp  # noqa: B018


def test_a_view_derives_the_presets_csp_in_one_line() -> None:
    app = Flask("t")
    policy = HeaderPolicy(app, preset="strict")

    @app.get("/chart")
    @policy.headers(
        {
            "Content-Security-Policy": only_for(
                "text/html", PRESETS["strict"].csp.with_sources("img-src", "data:")
            )
        }
    )
    def chart() -> str:
        return "<p>chart</p>"

    @app.get("/chart.json")
    @policy.headers(
        {
            "Content-Security-Policy": only_for(
                "text/html", PRESETS["strict"].csp.with_sources("img-src", "data:")
            )
        }
    )
    def chart_data() -> dict[str, int]:
        return {"n": 1}

    client = app.test_client()
    page = client.get("/chart").headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in page
    assert "'nonce-" in page
    # Non-HTML responses keep the preset's fallback, not "no CSP at all".
    data = client.get("/chart.json").headers["Content-Security-Policy"]
    assert data == "default-src 'none'; frame-ancestors 'none'"
