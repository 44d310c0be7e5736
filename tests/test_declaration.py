"""A new user's mistakes fail where they are made, with a message that teaches.

Plain-text values of the headers the package has a grammar for are read by
the builder's strict reader; wrong shapes raise a TypeError that shows the
right one; config values from the environment are read as the strings they
are; ``csp_nonce()`` under a policy without NONCE says so.
"""

from __future__ import annotations

import logging
import typing as t

import pytest
from flask import Blueprint
from flask import Flask
from flask import render_template_string

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import CrossOriginEmbedderPolicy
from flask_header_policy import CrossOriginOpenerPolicy
from flask_header_policy import CrossOriginResourcePolicy
from flask_header_policy import csp_nonce
from flask_header_policy import force
from flask_header_policy import HeaderPolicy
from flask_header_policy import InvalidHeaderError
from flask_header_policy import NONCE
from flask_header_policy import NonceUnavailableError
from flask_header_policy import only_for
from flask_header_policy import ReferrerPolicy
from flask_header_policy import UnknownConfigKeyWarning
from flask_header_policy import UnknownFeatureWarning
from flask_header_policy import XContentTypeOptions
from flask_header_policy import XFrameOptions
from flask_header_policy._config import CONFIG_KEYS

# (header, bad plain-text value, words the builder's message must contain)
BAD_VALUES = [
    ("Content-Security-Policy", "script-src self", "unquoted keyword 'self'"),
    ("Content-Security-Policy-Report-Only", "img-src data", '"data:"'),
    ("Content-Security-Policy", "default-src 'self', scrip-src 'none'", "scrip-src"),
    ("Referrer-Policy", "no-referer", "did you mean 'no-referrer'"),
    ("X-Frame-Options", "ALLOW-FROM https://x", "frame-ancestors"),
    ("X-Frame-Options", "DENYY", "write DENY or SAMEORIGIN"),
    ("X-Content-Type-Options", "no-sniff", "nosniff"),
    ("Strict-Transport-Security", "max-age=1y", "digits only"),
    ("Strict-Transport-Security", "includeSubDomains", "max-age is missing"),
    ("Permissions-Policy", "camera 'none'", "structured-field"),
    ("Permissions-Policy", "camera=none", "empty allowlist"),
    ("Cross-Origin-Opener-Policy", "same-orgin", "did you mean same-origin"),
    ("Cross-Origin-Embedder-Policy", "require_corp", "the policies are"),
    ("Cross-Origin-Resource-Policy", "Same-Origin", "'same-origin'"),
    ("Reporting-Endpoints", "csp=/reports", "structured-field dictionary"),
    ("Cache-Control", "max-age=one hour", "number of seconds"),
    ("Cache-Control", "nostore", "did you mean 'no-store'"),
]


def _app_layer(headers: dict[str, t.Any]) -> None:
    HeaderPolicy(Flask("t"), headers=headers)


def _config_layer(headers: dict[str, t.Any]) -> None:
    app = Flask("t")
    app.config["HEADER_POLICY_HEADERS"] = headers
    HeaderPolicy(app)


def _blueprint_layer(headers: dict[str, t.Any]) -> None:
    HeaderPolicy(Flask("t")).add_blueprint_headers(Blueprint("api", "t"), headers)


def _view_layer(headers: dict[str, t.Any]) -> None:
    policy = HeaderPolicy(Flask("t"))

    @policy.headers(headers)
    def index() -> str:
        return ""


def _otherwise(headers: dict[str, t.Any]) -> None:
    ((name, value),) = headers.items()
    html = only_for("text/html", "no-referrer", otherwise=value)
    HeaderPolicy(Flask("t"), headers={name: html})


LAYERS = [
    (_app_layer, "declared by app:"),
    (_config_layer, "declared by app (HEADER_POLICY_HEADERS):"),
    (_blueprint_layer, "declared by blueprint 'api':"),
    (_view_layer, "declared by view 'index':"),
    (_otherwise, "declared by app:"),
]


@pytest.mark.parametrize(("header", "value", "teaches"), BAD_VALUES)
def test_plain_text_values_are_read_by_the_builders_grammar(
    header: str, value: str, teaches: str
) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        HeaderPolicy(Flask("t"), headers={header: value})
    assert teaches in str(info.value)
    assert "declared by app:" in str(info.value)


@pytest.mark.parametrize(("declare", "where"), LAYERS)
def test_the_error_names_the_layer_that_declared_it(
    declare: t.Callable[[dict[str, t.Any]], None], where: str
) -> None:
    with pytest.raises(InvalidHeaderError, match="did you mean 'no-referrer'") as info:
        declare({"Referrer-Policy": "no-referer"})
    assert where in str(info.value)


def test_the_builders_message_is_the_same_as_from_header() -> None:
    with pytest.raises(InvalidHeaderError) as builder:
        XFrameOptions.from_header("ALLOW-FROM https://x")
    with pytest.raises(InvalidHeaderError) as declared:
        _view_layer({"X-Frame-Options": "ALLOW-FROM https://x"})
    assert declared.value.reason == builder.value.reason


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:"),
        ("Content-Security-Policy", "default-src 'self', frame-ancestors 'none'"),
        ("Referrer-Policy", "no-referrer, strict-origin-when-cross-origin"),
        ("X-Frame-Options", "sameorigin"),
        ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
        ("Permissions-Policy", 'camera=(), geolocation=(self "https://a.example")'),
        ("Cross-Origin-Opener-Policy", 'same-origin; report-to="coop"'),
        ("Reporting-Endpoints", 'csp="/reports"'),
        ("Cache-Control", "no-store, max-age=0"),
        ("X-Custom", "anything; goes, here"),
    ],
)
def test_valid_plain_text_values_are_accepted_and_sent_unchanged(
    header: str, value: str
) -> None:
    app = Flask("t")
    HeaderPolicy(app, headers={header: value})
    app.get("/")(lambda: "<p>hi</p>")
    response = app.test_client().get("/", base_url="https://localhost/")
    assert response.headers[header] == value


def test_unknown_permissions_feature_in_text_warns_like_the_builder() -> None:
    with pytest.warns(UnknownFeatureWarning, match="did you mean 'geolocation'"):
        HeaderPolicy(Flask("t"), headers={"Permissions-Policy": "geolocaton=()"})


def test_a_per_request_value_is_checked_by_the_same_grammar() -> None:
    app = Flask("t")
    app.testing = True
    HeaderPolicy(
        app, headers={"Referrer-Policy": lambda request, response: "no-referer"}
    )
    app.get("/")(lambda: "hi")
    with pytest.raises(InvalidHeaderError, match="did you mean 'no-referrer'"):
        app.test_client().get("/")


def test_a_bad_per_request_value_is_omitted_and_logged_in_production(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Flask("t")
    HeaderPolicy(app, headers={"X-Frame-Options": lambda request, response: "ALLOW"})
    app.get("/")(lambda: "hi")
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert "write DENY or SAMEORIGIN" in caplog.text


@pytest.mark.parametrize(
    "policy",
    [
        ContentSecurityPolicy(script_src=["'nonce-abc123'"]),
        ContentSecurityPolicy.from_header("script-src 'nonce-abc123'"),
        "script-src 'nonce-abc123'",
    ],
)
def test_a_fixed_nonce_in_a_static_policy_is_an_error(policy: object) -> None:
    with pytest.raises(InvalidHeaderError, match="'nonce-abc123' is fixed.*NONCE"):
        HeaderPolicy(Flask("t"), headers={"Content-Security-Policy": policy})


def test_a_nonce_per_request_is_fine() -> None:
    app = Flask("t")
    app.testing = True

    def csp(request: object, response: object) -> ContentSecurityPolicy:
        return ContentSecurityPolicy(script_src=[f"'nonce-{csp_nonce()}'"])

    HeaderPolicy(app, headers={"Content-Security-Policy": csp})
    app.get("/")(lambda: render_template_string("<script nonce='{{ csp_nonce() }}'>"))
    response = app.test_client().get("/")
    nonce = response.text.split("'")[1]
    assert response.headers["Content-Security-Policy"] == f"script-src 'nonce-{nonce}'"


@pytest.mark.parametrize("scheme", ["data", "https", "blob", "wss"])
def test_a_scheme_without_its_colon_is_an_error(scheme: str) -> None:
    with pytest.raises(InvalidHeaderError, match=f'host named {scheme!r}.*"{scheme}:"'):
        ContentSecurityPolicy(img_src=[scheme])


# Wrong shapes.


@pytest.mark.parametrize(
    ("declare", "shows"),
    [
        (
            lambda: HeaderPolicy(Flask("t"), headers=[("X-A", "1")]),  # type: ignore[arg-type]
            "write {'X-A': '1'}",
        ),
        (
            lambda: _config_layer("X-Frame-Options: DENY"),  # type: ignore[arg-type]
            "HEADER_POLICY_HEADERS) must be a mapping",
        ),
        (
            lambda: _config_layer("X-Frame-Options: DENY"),  # type: ignore[arg-type]
            "write {'X-Frame-Options': 'DENY'}",
        ),
        (
            lambda: HeaderPolicy(Flask("t")).headers("X-Custom: 1"),  # type: ignore[arg-type]
            "write {'X-Custom': '1'}",
        ),
        (
            lambda: HeaderPolicy(Flask("t")).add_blueprint_headers("api", "X: 1"),  # type: ignore[arg-type]
            "blueprint 'api' must be a mapping",
        ),
    ],
)
def test_wrong_shapes_raise_a_type_error_that_shows_the_mapping(
    declare: t.Callable[[], object], shows: str
) -> None:
    with pytest.raises(TypeError) as info:
        declare()
    assert "must be a mapping of header name to value" in str(info.value)
    assert shows in str(info.value)


def test_a_bare_decorator_fails_when_the_view_is_decorated() -> None:
    app = Flask("t")
    policy = HeaderPolicy(app)
    with pytest.raises(TypeError, match=r"write @policy.headers\(\{"):

        @app.get("/")
        @policy.headers  # type: ignore[arg-type]
        def index() -> str:
            return "hi"


@pytest.mark.parametrize("preset", [123, 1.5, ["strict"]])
def test_a_preset_of_the_wrong_type_is_a_type_error(preset: object) -> None:
    app = Flask("t")
    app.config["HEADER_POLICY_PRESET"] = preset
    with pytest.raises(TypeError, match="HEADER_POLICY_PRESET must be a preset name"):
        HeaderPolicy(app)
    with pytest.raises(TypeError, match="preset= must be a preset name"):
        HeaderPolicy(preset=preset)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("enum", "value", "teaches"),
    [
        (ReferrerPolicy, "no-referer", "did you mean 'no-referrer'"),
        (ReferrerPolicy, "No-Referrer", "must be lowercase"),
        (XFrameOptions, "bad", "write DENY or SAMEORIGIN"),
        (XFrameOptions, "ALLOW-FROM https://x", "frame-ancestors"),
        (XContentTypeOptions, "nosnif", "nosniff"),
        (CrossOriginOpenerPolicy, "same-orgin", "did you mean same-origin"),
        (CrossOriginEmbedderPolicy, "require_corp", "the policies are"),
        (CrossOriginResourcePolicy, "Same-Origin", "write 'same-origin'"),
        (ReferrerPolicy, 3, "is not a str"),
    ],
)
def test_enum_lookup_by_value_teaches(enum: t.Any, value: object, teaches: str) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        enum(value)
    assert teaches in str(info.value)
    assert isinstance(info.value, ValueError)  # what enum lookups raise


def test_enum_lookup_accepts_what_the_header_accepts() -> None:
    assert XFrameOptions("deny") is XFrameOptions.DENY
    assert ReferrerPolicy("no-referrer") is ReferrerPolicy.NO_REFERRER
    with pytest.raises(InvalidHeaderError, match="write 'no-referrer'"):
        ReferrerPolicy("bogus, no-referrer")


# Config from the environment.


@pytest.mark.parametrize(
    ("text", "sent_over_http"),
    [
        ("false", True),
        ("FALSE", True),
        ("0", True),
        ("no", True),
        ("No", True),
        ("true", False),
        ("True", False),
        ("1", False),
        ("YES", False),
    ],
)
def test_boolean_config_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, text: str, sent_over_http: bool
) -> None:
    monkeypatch.setenv("FLASK_HEADER_POLICY_HSTS_ONLY_SECURE", text)
    app = Flask("t")
    app.config.from_prefixed_env()
    HeaderPolicy(app, headers={"Strict-Transport-Security": "max-age=63072000"})
    app.get("/")(lambda: "hi")
    sent = "Strict-Transport-Security" in app.test_client().get("/").headers
    assert sent is sent_over_http


@pytest.mark.parametrize("text", ["maybe", "2", "off"])
def test_a_boolean_config_that_is_no_boolean_raises(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("FLASK_HEADER_POLICY_HSTS_ONLY_SECURE", text)
    app = Flask("t")
    app.config.from_prefixed_env()
    with pytest.raises(ValueError, match="HEADER_POLICY_HSTS_ONLY_SECURE.*yes/no"):
        HeaderPolicy(app)


@pytest.mark.parametrize(("text", "hardened"), [("yes", True), ("No", False)])
def test_cookie_config_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, text: str, hardened: bool
) -> None:
    monkeypatch.setenv("FLASK_HEADER_POLICY_COOKIES", text)
    app = Flask("t")
    app.config.from_prefixed_env()
    HeaderPolicy(app)

    @app.get("/")
    def index() -> tuple[str, dict[str, str]]:
        return "hi", {"Set-Cookie": "a=1"}

    cookie = app.test_client().get("/").headers["Set-Cookie"]
    assert ("HttpOnly" in cookie) is hardened


def test_cookie_config_that_is_no_boolean_raises() -> None:
    app = Flask("t")
    app.config["HEADER_POLICY_COOKIES"] = "sometimes"
    with pytest.raises(ValueError, match="HEADER_POLICY_COOKIES='sometimes'"):
        HeaderPolicy(app)


def test_a_misspelled_key_warns_with_the_closest_one() -> None:
    app = Flask("t")
    app.config["HEADER_POLICY_PRESETS"] = "strict"
    with pytest.warns(UnknownConfigKeyWarning) as record:
        HeaderPolicy(app)
    (warning,) = record
    assert "did you mean HEADER_POLICY_PRESET?" in str(warning.message)
    assert warning.filename == __file__  # points at the app's line


def test_known_keys_do_not_warn() -> None:
    app = Flask("t")
    app.config.update(
        HEADER_POLICY_HEADERS={},
        HEADER_POLICY_PRESET="api",
        HEADER_POLICY_HSTS_ONLY_SECURE="yes",
        HEADER_POLICY_COOKIES=False,
        HEADER_POLICY_HTTPS_REDIRECT="no",
        HEADER_POLICY_REPORTS_RATE=2.0,  # read by policy.collect_reports()
    )
    HeaderPolicy(app)  # filterwarnings=error: any warning fails


def test_every_key_the_source_reads_is_known() -> None:
    """A key added to the source but not to CONFIG_KEYS would warn."""
    from test_docs import config_keys_in_source

    assert config_keys_in_source() == CONFIG_KEYS


# csp_nonce() under a policy that sends no nonce.


def _nonce_app(csp: object, *, testing: bool) -> Flask:
    app = Flask("t")
    app.testing = testing
    HeaderPolicy(app, headers={"Content-Security-Policy": csp})

    @app.get("/")
    def index() -> str:
        return render_template_string("<script nonce='{{ csp_nonce() }}'></script>")

    return app


def test_csp_nonce_without_nonce_in_the_policy_raises_under_testing() -> None:
    app = _nonce_app("default-src 'self'", testing=True)
    with pytest.raises(NonceUnavailableError, match="endpoint 'index'.*NONCE"):
        app.test_client().get("/")


def test_csp_nonce_without_nonce_in_the_policy_raises_under_debug() -> None:
    app = _nonce_app("default-src 'self'", testing=False)
    app.debug = True
    with pytest.raises(NonceUnavailableError):
        app.test_client().get("/")


def test_csp_nonce_without_nonce_warns_once_in_production(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = _nonce_app("default-src 'self'", testing=False)
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        first = client.get("/")
        second = client.get("/")
    assert first.status_code == second.status_code == 200
    warnings = [r for r in caplog.records if "csp_nonce()" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


def test_csp_nonce_with_nonce_in_the_policy_is_quiet() -> None:
    app = _nonce_app(ContentSecurityPolicy(script_src=[NONCE]), testing=True)
    response = app.test_client().get("/")
    nonce = response.text.split("'")[1]
    assert response.headers["Content-Security-Policy"] == f"script-src 'nonce-{nonce}'"


def test_csp_nonce_with_a_dynamic_csp_is_quiet() -> None:
    """A per-request CSP may carry the nonce: it cannot be known in advance."""
    app = _nonce_app(
        lambda request, response: f"script-src 'nonce-{csp_nonce()}'", testing=True
    )
    assert app.test_client().get("/").status_code == 200


def test_csp_nonce_without_a_header_policy_raises() -> None:
    app = Flask("t")
    app.get("/")(lambda: csp_nonce())
    app.testing = True
    with pytest.raises(NonceUnavailableError, match="install HeaderPolicy"):
        app.test_client().get("/")


def test_only_for_keeps_the_lower_layers_fallback() -> None:
    """Tested with the presets in test_presets.py; here for plain layers."""
    app = Flask("t")
    policy = HeaderPolicy(
        app,
        headers={
            "Content-Security-Policy": only_for(
                "text/html", "default-src 'self'", otherwise="default-src 'none'"
            )
        },
    )

    @app.get("/page")
    @policy.headers(
        {"Content-Security-Policy": only_for("text/html", "img-src 'self'")}
    )
    def page() -> str:
        return "<p>hi</p>"

    @app.get("/data")
    @policy.headers(
        {"Content-Security-Policy": only_for("text/html", "img-src 'self'")}
    )
    def data() -> dict[str, int]:
        return {"a": 1}

    @app.get("/bare")
    @policy.headers(
        {
            "Content-Security-Policy": only_for(
                "text/html", "img-src 'self'", otherwise=None
            )
        }
    )
    def bare() -> dict[str, int]:
        return {"a": 1}

    @app.get("/forced")
    @policy.headers({"Content-Security-Policy": force("img-src 'self'")})
    def forced() -> dict[str, int]:
        return {"a": 1}

    client = app.test_client()
    assert client.get("/page").headers["Content-Security-Policy"] == "img-src 'self'"
    assert (
        client.get("/data").headers["Content-Security-Policy"] == "default-src 'none'"
    )
    assert "Content-Security-Policy" not in client.get("/bare").headers
    assert client.get("/forced").headers["Content-Security-Policy"] == "img-src 'self'"
