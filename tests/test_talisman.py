"""The drop-in ``Talisman``, side by side with the real Flask-Talisman 1.1.0."""

from __future__ import annotations

import inspect
import json
import logging
import re
import types
import typing as t
import warnings

import flask_talisman
import pytest
from click.testing import CliRunner
from flask import Blueprint
from flask import Flask
from flask import render_template_string
from flask import request
from flask import session
from flask.cli import FlaskGroup
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import CookiePolicy
from flask_header_policy import DocumentPolicy
from flask_header_policy import HTTPSRedirect
from flask_header_policy import InvalidHeaderError
from flask_header_policy import StrictTransportSecurity
from flask_header_policy import talisman as ours
from flask_header_policy.audit.app import audit_app
from flask_header_policy.cli import UNMATCHED
from flask_header_policy.cookies import parse_set_cookie
from flask_header_policy.talisman import from_talisman
from flask_header_policy.talisman import Talisman
from flask_header_policy.talisman import TalismanMigrationWarning
from flask_header_policy.talisman import Verbatim

# The README app's ALLOW-FROM view warns on every translation; the tests
# that are about warnings record them explicitly.
pytestmark = pytest.mark.filterwarnings(
    "ignore::flask_header_policy.talisman.TalismanMigrationWarning"
)

HTTPS = {"wsgi.url_scheme": "https"}
NONCE_RE = re.compile(r"'nonce-[A-Za-z0-9_\-+/=]+'")
PAGE = '<script nonce="{{ csp_nonce() }}"></script>'
#: Flask's own headers, not the extension's.
OWN = {"content-type", "content-length", "set-cookie", "location"}


def build(module: types.ModuleType, options: dict[str, t.Any]) -> Flask:
    """An app as Flask-Talisman's README writes them, with ``module.Talisman``."""
    app = Flask("readme")
    app.secret_key = "not secret"
    talisman = module.Talisman(app, **options)

    @app.route("/")
    def index() -> str:
        return render_template_string(PAGE)

    @app.route("/normal")
    def normal() -> str:
        return "Normal"

    @app.route("/embeddable")
    @talisman(frame_options=module.ALLOW_FROM, frame_options_allow_from="*")
    def embeddable() -> str:
        return "Embeddable"

    @app.route("/nocsp")
    @talisman(content_security_policy=None)
    def nocsp() -> str:
        return "No CSP"

    @app.route("/login", methods=["POST"])
    def login() -> str:
        session["user"] = "me"
        return "in"

    return app


#: Talisman's README examples (and its option list), as init_app options.
README: dict[str, dict[str, t.Any]] = {
    "defaults": {},
    "csp-1": {
        "content_security_policy": {"default-src": "'self'", "object-src": "'none'"}
    },
    "csp-2": {"content_security_policy": {"default-src": ["'self'", "*.trusted.com"]}},
    "csp-3": {
        "content_security_policy": {
            "default-src": "'self'",
            "img-src": "*",
            "media-src": ["media1.com", "media2.com"],
            "script-src": "userscripts.example.com",
        }
    },
    "csp-4": {
        "content_security_policy": {
            "default-src": "https://onlinebanking.jumbobank.com"
        }
    },
    "csp-5": {
        "content_security_policy": {
            "default-src": ["'self'", "*.mailsite.com"],
            "img-src": "*",
        }
    },
    "csp-6-nonce": {
        "content_security_policy": {"default-src": "'self'", "script-src": "'self'"},
        "content_security_policy_nonce_in": ["script-src"],
    },
    "csp-7-string": {"content_security_policy": "default-src 'self'; image-src *"},
    "google": {"content_security_policy": flask_talisman.GOOGLE_CSP_POLICY},
    "report-only": {
        "content_security_policy_report_only": True,
        "content_security_policy_report_uri": "https://example.com/csp",
    },
    "feature-policy": {"feature_policy": {"geolocation": "'none'"}},
    "permissions-dict": {
        "permissions_policy": {"geolocation": "()", "microphone": "()"}
    },
    "permissions-str": {"permissions_policy": "geolocation=(), microphone=()"},
    "document-dict": {"document_policy": {"oversized-images": "?0"}},
    "document-str": {"document_policy": "oversized-images=?0"},
    "permanent": {"force_https_permanent": True},
    "hsts": {
        "strict_transport_security_preload": True,
        "strict_transport_security_max_age": 63072000,
    },
    "legacy": {
        "x_xss_protection": True,
        "force_file_save": True,
        "frame_options": flask_talisman.DENY,
        "referrer_policy": "no-referrer",
        "session_cookie_samesite": "Strict",
    },
    "off": {
        "force_https": False,
        "frame_options": None,
        "content_security_policy": False,
        "strict_transport_security": False,
        "referrer_policy": None,
        "permissions_policy": {},
        "x_content_type_options": False,
        "session_cookie_secure": False,
        "session_cookie_http_only": False,
        "session_cookie_samesite": None,
    },
}
#: The warnings each configuration gives (the README's ALLOW-FROM view always).
WARNINGS = {
    "csp-7-string": {"unknown directive 'image-src'", "ALLOW-FROM"},
}


def normalized(headers: t.Iterable[tuple[str, str]]) -> dict[str, str]:
    """The extension's headers, nonces replaced by ``'nonce-{nonce}'``."""
    return {
        name.lower(): NONCE_RE.sub("'nonce-{nonce}'", value)
        for name, value in headers
        if name.lower() not in OWN
    }


def snapshot(app: Flask, path: str, *, https: bool, method: str = "GET") -> t.Any:
    response = app.test_client().open(
        path,
        method=method,
        base_url=f"{'https' if https else 'http'}://localhost/",
    )
    cookies = [parse_set_cookie(v) for v in response.headers.getlist("Set-Cookie")]
    return types.SimpleNamespace(
        status=response.status_code,
        location=response.headers.get("Location"),
        headers=normalized(response.headers.items()),
        cookies={
            (c.name, frozenset((k, (v or "").lower()) for k, v in c.attributes))
            for c in cookies
            if c is not None
        },
        body=response.get_data(as_text=True),
        raw=response.headers,
    )


def build_both(options: dict[str, t.Any]) -> tuple[Flask, Flask, set[str]]:
    theirs = build(flask_talisman, options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mine = build(ours, options)
        for path in ("/", "/embeddable"):  # the options are applied by now
            snapshot(mine, path, https=True)
    said = {str(w.message) for w in caught if w.category is TalismanMigrationWarning}
    return theirs, mine, said


def documented(theirs: dict[str, str], mine: dict[str, str]) -> dict[str, str]:
    """Talisman's headers, adjusted by the documented differences: no
    ``Referrer-Policy: None`` for ``referrer_policy=None``, and a nonce in the
    CSP of a redirect when the app's policy has one."""
    expected = {
        k: v for k, v in theirs.items() if (k, v) != ("referrer-policy", "None")
    }
    for name in ("content-security-policy", "content-security-policy-report-only"):
        if name in expected and "'nonce-{nonce}'" in mine.get(name, ""):
            if mine[name].replace(" 'nonce-{nonce}'", "") == expected[name]:
                expected[name] = mine[name]
    return expected


def embeddable(theirs: dict[str, str], options: dict[str, t.Any]) -> dict[str, str]:
    """Talisman's headers for the ALLOW-FROM view, plus the CSP
    ``frame-ancestors`` the drop-in adds (to an enforced policy: a report-only
    one stays as it is, and an enforced one is added beside it)."""
    expected = documented(theirs, {})
    csp = expected.get("content-security-policy")
    if options.get("content_security_policy_report_only") or not csp:
        expected["content-security-policy"] = "frame-ancestors *"
    else:
        expected["content-security-policy"] = f"{csp}; frame-ancestors *"
    return expected


@pytest.mark.parametrize("name", list(README))
def test_same_headers_as_talisman_over_https(name: str) -> None:
    theirs, mine, said = build_both(README[name])
    expected_warnings = WARNINGS.get(name, {"ALLOW-FROM"})
    assert {
        w for w in expected_warnings if any(w in s for s in said)
    } == expected_warnings
    assert len(said) == len(expected_warnings)
    for path in ("/", "/normal", "/nocsp", "/missing"):
        a, b = snapshot(theirs, path, https=True), snapshot(mine, path, https=True)
        assert (b.status, b.headers) == (a.status, documented(a.headers, {})), path
    a, b = (
        snapshot(theirs, "/embeddable", https=True),
        snapshot(mine, "/embeddable", https=True),
    )
    assert b.headers == embeddable(a.headers, README[name])


@pytest.mark.parametrize("name", list(README))
def test_same_redirects_as_talisman_over_http(name: str) -> None:
    theirs, mine, _ = build_both(README[name])
    for path in ("/", "/normal", "/missing", "/nocsp", "/embeddable"):
        a, b = snapshot(theirs, path, https=False), snapshot(mine, path, https=False)
        assert (b.status, b.location) == (a.status, a.location), path
        if path in ("/nocsp", "/embeddable") and a.status != 200:
            # Documented: the redirect carries the app layer, not the view's
            # options (the view does not answer it).
            a = snapshot(theirs, "/normal", https=False)
        elif path == "/embeddable":
            a.headers = embeddable(a.headers, README[name])
        assert b.headers == documented(a.headers, b.headers), path


@pytest.mark.parametrize("name", ["defaults", "legacy", "off"])
def test_session_cookie_as_talisman_without_writing_config(name: str) -> None:
    theirs, mine, _ = build_both(README[name])
    before = {k: v for k, v in mine.config.items() if k.startswith("SESSION_")}
    for https in (True, False):
        a = snapshot(theirs, "/login", https=https, method="POST")
        b = snapshot(mine, "/login", https=https, method="POST")
        if https:
            assert b.cookies == a.cookies
        elif a.cookies:
            # Talisman marks the cookie Secure over plain HTTP too, where the
            # browser drops it; the drop-in adds Secure on HTTPS only.
            ((_, attributes),) = a.cookies
            assert b.cookies == {("session", attributes - {("secure", "")})}
    after = {k: v for k, v in mine.config.items() if k.startswith("SESSION_")}
    assert after == before
    assert mine.config["SESSION_COOKIE_SECURE"] is False
    assert mine.config["SESSION_COOKIE_SAMESITE"] is None


def test_other_cookies_are_left_alone() -> None:
    app = Flask("cookies")
    Talisman(app)

    @app.get("/")
    def index() -> t.Any:
        response = app.make_response("x")
        response.set_cookie("theme", "dark")
        return response

    response = app.test_client().get("/", environ_overrides=HTTPS)
    assert response.headers["Set-Cookie"] == "theme=dark; Path=/"


def test_show_prints_the_headers_talisman_sent() -> None:
    for name in ("defaults", "csp-6-nonce", "legacy", "report-only"):
        theirs, mine, _ = build_both(README[name])
        runner = CliRunner()
        result = runner.invoke(
            FlaskGroup(create_app=lambda mine=mine: mine),  # type: ignore[misc]
            ["headers", "show", "--json"],
        )
        assert result.exit_code == 0, result.output
        rows = {row["endpoint"]: row for row in json.loads(result.output)}
        paths = {"index": "/", "normal": "/normal", "nocsp": "/nocsp", UNMATCHED: "/x"}
        for endpoint, path in paths.items():
            shown = {h["name"].lower(): h["value"] for h in rows[endpoint]["headers"]}
            sent = documented(snapshot(theirs, path, https=True).headers, {})
            assert shown == sent, (name, endpoint)
            insecure = {
                h["name"].lower(): h["value"]
                for h in rows[endpoint]["headers"]
                if not h["secure_only"]
            }
            assert insecure == {
                k: v for k, v in sent.items() if k != "strict-transport-security"
            }


def test_nonce_as_talisman_makes_it() -> None:
    app = build(ours, README["csp-6-nonce"])
    with app.test_client() as client:
        response = client.get("/", environ_overrides=HTTPS)
        nonce = request.csp_nonce  # type: ignore[attr-defined]
        assert len(nonce) == ours.NONCE_LENGTH == 32
        csp = response.headers["Content-Security-Policy"]
        assert csp == f"default-src 'self'; script-src 'self' 'nonce-{nonce}'"
        assert response.text == f'<script nonce="{nonce}"></script>'
        other = client.get("/", environ_overrides=HTTPS)
        assert request.csp_nonce != nonce  # type: ignore[attr-defined]
        assert other.headers["Content-Security-Policy"] != csp


def test_no_nonce_where_no_policy_uses_one() -> None:
    app = build(ours, README["csp-6-nonce"])
    with app.test_client() as client:
        client.get("/nocsp", environ_overrides=HTTPS)
        assert not hasattr(request, "csp_nonce")
        response = client.get("/normal", environ_overrides=HTTPS)
        assert hasattr(request, "csp_nonce")  # Talisman makes one per policy
        assert "'nonce-" in response.headers["Content-Security-Policy"]


# The API is Talisman's.


def test_signatures_match_flask_talisman() -> None:
    theirs = inspect.signature(flask_talisman.Talisman.init_app).parameters
    mine = inspect.signature(Talisman.init_app).parameters
    assert list(mine) == list(theirs)
    for name, parameter in theirs.items():
        assert mine[name].default == parameter.default, name
        assert mine[name].kind == parameter.kind, name
    init = inspect.signature(Talisman.__init__).parameters
    assert [(p.name, p.kind) for p in init.values()] == [
        (p.name, p.kind)
        for p in inspect.signature(flask_talisman.Talisman.__init__).parameters.values()
    ]


def test_constants_match_flask_talisman() -> None:
    for name in flask_talisman.__all__:
        if name != "Talisman":
            assert getattr(ours, name) == getattr(flask_talisman, name), name
    for name in (
        "ONE_YEAR_IN_SECS",
        "DEFAULT_REFERRER_POLICY",
        "DEFAULT_SESSION_COOKIE_SAMESITE",
    ):
        assert getattr(ours, name) == getattr(flask_talisman.talisman, name), name


def test_options_are_attributes_that_take_effect() -> None:
    app = Flask("mutable")
    talisman = Talisman(app)
    app.get("/")(lambda: "x")
    client = app.test_client()
    talisman.frame_options = ours.DENY
    talisman.content_security_policy["img-src"] = ["'self'", "data:"]
    talisman.permissions_policy.update({"camera": "()"})
    response = client.get("/", environ_overrides=HTTPS)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'self'; object-src 'none'; img-src 'self' data:"
    )
    assert response.headers["Permissions-Policy"] == "browsing-topics=(), camera=()"
    del talisman.content_security_policy["img-src"]
    talisman.content_security_policy.setdefault("script-src", "'self'")
    talisman.content_security_policy_nonce_in = ["default-src"]
    talisman.content_security_policy_nonce_in.append("script-src")
    csp = client.get("/", environ_overrides=HTTPS).headers["Content-Security-Policy"]
    assert NONCE_RE.sub("N", csp) == (
        "default-src 'self' N; object-src 'none'; script-src 'self' N"
    )
    # The module's defaults are copies: another app starts from Talisman's.
    assert ours.DEFAULT_CSP_POLICY == {"default-src": "'self'", "object-src": "'none'"}
    assert ours.DEFAULT_PERMISSIONS_POLICY == {"browsing-topics": "()"}


def test_a_change_inside_a_nested_list_or_dict_takes_effect() -> None:
    """Flask-Talisman reads its options on every request, so appending to
    the list of one directive works there; it must here too."""
    app = Flask("nested")
    talisman = Talisman(
        app, content_security_policy={"default-src": ["'self'"], "object-src": "'none'"}
    )
    app.get("/")(lambda: "x")
    client = app.test_client()
    client.get("/", environ_overrides=HTTPS)
    talisman.content_security_policy["default-src"].append("https://cdn.example")
    assert client.get("/", environ_overrides=HTTPS).headers[
        "Content-Security-Policy"
    ] == ("default-src 'self' https://cdn.example; object-src 'none'")
    # A list set later, then changed in place, is tracked as well.
    talisman.content_security_policy["img-src"] = ["'self'"]
    client.get("/", environ_overrides=HTTPS)
    talisman.content_security_policy["img-src"] += ["data:"]
    talisman.content_security_policy.update({"font-src": ["'self'"]})
    client.get("/", environ_overrides=HTTPS)
    talisman.content_security_policy["font-src"].insert(0, "https://fonts.example")
    talisman.content_security_policy.setdefault("media-src", []).append("'self'")
    assert client.get("/", environ_overrides=HTTPS).headers[
        "Content-Security-Policy"
    ] == (
        "default-src 'self' https://cdn.example; object-src 'none';"
        " img-src 'self' data:; font-src https://fonts.example 'self';"
        " media-src 'self'"
    )


def test_a_changed_option_is_translated_once_not_per_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Flask("once")
    talisman = Talisman(app)
    app.get("/")(lambda: "x")
    calls: list[int] = []
    sync = Talisman._sync

    def counting(self: Talisman) -> None:
        calls.append(1)
        sync(self)

    monkeypatch.setattr(Talisman, "_sync", counting)
    client = app.test_client()
    for _ in range(3):
        client.get("/", environ_overrides=HTTPS)
    assert calls == []
    talisman.referrer_policy = "no-referrer"
    talisman.frame_options = ours.DENY
    for _ in range(3):
        response = client.get("/", environ_overrides=HTTPS)
    assert calls == [1]
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_unsendable_change_keeps_the_last_headers_in_production(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Flask("prod")
    talisman = Talisman(app)
    app.get("/")(lambda: "x")
    talisman.referrer_policy = "no-referrer\r\nX-Injected: 1"
    with caplog.at_level(logging.ERROR):
        for _ in range(2):
            response = app.test_client().get("/", environ_overrides=HTTPS)
            assert response.status_code == 200
            assert (
                response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
            )
            assert "X-Injected" not in response.headers
    assert len([r for r in caplog.records if "cannot be sent" in r.getMessage()]) == 1
    app.testing = True
    talisman.referrer_policy = "bad\nvalue"
    with pytest.raises(InvalidHeaderError, match="Referrer-Policy"):
        app.test_client().get("/", environ_overrides=HTTPS)


def test_bad_values_fail_at_init_and_install_nothing() -> None:
    app = Flask("bad")
    before = dict(app.before_request_funcs)
    with pytest.raises(ValueError, match="report_uri"):
        Talisman(app, content_security_policy_report_only=True)
    with pytest.raises(InvalidHeaderError, match="control character"):
        Talisman(app, referrer_policy="no-referrer\r\nX-Evil: 1")
    with pytest.raises(InvalidHeaderError, match="control character"):
        Talisman(app, content_security_policy={"default-src": "'self'\x00"})
    with pytest.raises(InvalidHeaderError, match="control character"):
        Talisman(app, permissions_policy={"camera": "()\r\nX-Evil: 1"})
    with pytest.raises(InvalidHeaderError, match="frame_options_allow_from"):
        Talisman(app, frame_options=ours.ALLOW_FROM)
    with pytest.raises(InvalidHeaderError, match="not an origin"):
        Talisman(app, frame_options=ours.ALLOW_FROM, frame_options_allow_from="a; b")
    with pytest.raises(InvalidHeaderError, match="SameSite"):
        Talisman(app, session_cookie_samesite="sometimes")
    with pytest.raises(TypeError, match="force_http"):
        Talisman(app, force_http=True)
    assert "header_policy" not in app.extensions
    assert dict(app.before_request_funcs) == before


def test_nonce_in_as_a_str_is_a_type_error() -> None:
    # Silently no nonce before (the letters of "script-src" matched nothing).
    with pytest.raises(TypeError, match=r"\['script-src'\]"):
        Talisman(Flask("nonce_in"), content_security_policy_nonce_in="script-src")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        # A report URI that smuggles a directive in: Flask-Talisman sends
        # "report-uri /r; script-src 'unsafe-inline' *", which browsers enforce.
        ({"content_security_policy_report_uri": "/r; script-src 'unsafe-inline' *"},
         "content_security_policy_report_uri"),
        ({"content_security_policy_report_uri": "/r, script-src *"},
         "content_security_policy_report_uri"),
        ({"content_security_policy_report_uri": "/r x"},
         "content_security_policy_report_uri"),
        # A source or a name of a dict policy that ends its directive.
        ({"content_security_policy": {"default-src": "'self'; script-src *"}},
         "would end the directive"),
        ({"content_security_policy": {"default-src": ["'self'", "x; script-src *"]}},
         "would end the directive"),
        ({"content_security_policy": {"default-src": "'self', script-src *"}},
         "would end the policy"),
        ({"content_security_policy": {"default-src 'self'; script-src": "*"}},
         "not a directive name"),
        ({"feature_policy": {"geolocation": "'none'; camera *"}},
         "would end the directive"),
        # CR and LF are not separators between sources: they would split the
        # response, so they fail as in every other value.
        ({"content_security_policy": {"default-src": "'self'\r\nX-Evil: 1"}},
         "control character"),
        ({"content_security_policy": "default-src 'self'\nX-Evil: 1"},
         "control character"),
        ({"feature_policy": {"camera": "'none'\x85x"}}, "control character"),
    ],
)  # fmt: skip
def test_values_that_would_inject_a_directive_fail_at_init(
    options: dict[str, t.Any], match: str
) -> None:
    app = Flask("inject")
    with pytest.raises(InvalidHeaderError, match=match):
        Talisman(app, **options)
    assert "header_policy" not in app.extensions
    with pytest.raises(InvalidHeaderError, match=match):
        from_talisman(**options)


def test_options_without_an_app_are_ignored_as_talisman_does() -> None:
    with pytest.warns(TalismanMigrationWarning, match="ignores the options"):
        talisman = Talisman(frame_options=ours.DENY)
    app = Flask("factory")
    talisman.init_app(app)
    app.get("/")(lambda: "x")
    response = app.test_client().get("/", environ_overrides=HTTPS)
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_decorator_checks_its_options() -> None:
    app = Flask("decorated")
    talisman = Talisman(app)
    with pytest.raises(TypeError, match="frame_option"):
        talisman(frame_option=ours.DENY)
    with pytest.warns(TalismanMigrationWarning, match="referrer_policy"):

        @app.get("/ignored")
        @talisman(referrer_policy="no-referrer", frame_options=ours.DENY)
        def ignored() -> str:
            return "x"

    response = app.test_client().get("/ignored", environ_overrides=HTTPS)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_it_is_a_header_policy() -> None:
    app = Flask("layers")
    talisman = Talisman(app, force_https=False)
    admin = Blueprint("admin", __name__, url_prefix="/admin")

    @admin.get("/")
    def dashboard() -> str:
        return "admin"

    talisman.add_blueprint_headers(admin, {"Cache-Control": "no-store"})
    app.register_blueprint(admin)

    @app.get("/both")
    @talisman.headers({"X-Frame-Options": "DENY", "X-Own": "1"})
    @talisman(frame_options=ours.SAMEORIGIN, content_security_policy=None)
    def both() -> str:
        return "x"

    client = app.test_client()
    response = client.get("/both", environ_overrides=HTTPS)
    assert response.headers["X-Frame-Options"] == "DENY"  # native view layer wins
    assert response.headers["X-Own"] == "1"
    assert "Content-Security-Policy" not in response.headers
    response = client.get("/admin/", environ_overrides=HTTPS)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_a_views_own_header_wins() -> None:
    # Flask-Talisman overwrites it; a HeaderPolicy default leaves it.
    app = Flask("own")
    Talisman(app)

    @app.get("/")
    def index() -> tuple[str, dict[str, str]]:
        return "x", {"X-Frame-Options": "DENY"}

    response = app.test_client().get("/", environ_overrides=HTTPS)
    assert response.headers["X-Frame-Options"] == "DENY"


# The redirect, and what differs on purpose.


def test_force_https_codes_and_switches() -> None:
    app = build(ours, {})
    client = app.test_client()
    response = client.get("/normal")
    assert (response.status_code, response.headers["Location"]) == (
        302,
        "https://localhost/normal",
    )
    talisman = app.extensions["header_policy"].policy
    talisman.force_https_permanent = True
    assert client.get("/normal").status_code == 301
    talisman.force_https = False
    assert client.get("/normal").status_code == 200


def test_per_view_force_https_both_ways() -> None:
    app = Flask("views")
    talisman = Talisman(app, force_https=False)

    @app.get("/secure")
    @talisman(force_https=True)
    def secure() -> str:
        return "x"

    @app.get("/plain")
    def plain() -> str:
        return "x"

    client = app.test_client()
    assert client.get("/secure").status_code == 302
    assert client.get("/plain").status_code == 200
    app2 = Flask("views2")
    talisman2 = Talisman(app2)

    @app2.get("/open")
    @talisman2(force_https=False)
    def open_() -> str:
        return "x"

    assert app2.test_client().get("/open").status_code == 200


def test_off_in_debug_on_in_testing_as_talisman() -> None:
    app = build(ours, {})
    app.testing = True
    assert app.test_client().get("/normal").status_code == 302
    app.debug = True
    assert app.test_client().get("/normal").status_code == 200


def test_redirect_drops_the_port() -> None:
    theirs, mine, _ = build_both({})
    a = theirs.test_client().get("/normal", base_url="http://example.com:8080/")
    b = mine.test_client().get("/normal", base_url="http://example.com:8080/")
    assert a.headers["Location"] == "https://example.com:8080/normal"
    assert b.headers["Location"] == "https://example.com/normal"


def test_forwarded_proto_is_not_trusted_and_warns_once() -> None:
    app = build(ours, {})
    client = app.test_client()
    with pytest.warns(TalismanMigrationWarning, match="ProxyFix") as caught:
        for _ in range(3):
            response = client.get("/normal", headers={"X-Forwarded-Proto": "https"})
            assert response.status_code == 302
    assert len([w for w in caught if "ProxyFix" in str(w.message)]) == 1


def test_talismans_proxy_tests_pass_behind_proxy_fix() -> None:
    """What testForceSslOptionOptions, testHstsOptions and testBadEndpoint
    check through X-Forwarded-Proto holds once ProxyFix trusts the proxy."""
    app = build(ours, {})
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https"}
    assert client.get("/normal", headers=forwarded).status_code == 200
    response = client.get("/normal", headers=forwarded)
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31556926; includeSubDomains"
    )
    assert client.get("/bad_endpoint").status_code == 302
    assert client.get("/bad_endpoint", headers=forwarded).status_code == 404
    assert "Strict-Transport-Security" not in client.get("/bad_endpoint").headers


def test_allow_from_warns_and_adds_frame_ancestors() -> None:
    app = Flask("frames")
    with pytest.warns(
        TalismanMigrationWarning, match="ALLOW-FROM is ignored"
    ) as caught:
        Talisman(
            app,
            frame_options=ours.ALLOW_FROM,
            frame_options_allow_from="https://partner.example",
        )
    assert [w.filename for w in caught] == [__file__]  # points at the caller
    app.get("/")(lambda: "x")
    response = app.test_client().get("/", environ_overrides=HTTPS)
    assert response.headers["X-Frame-Options"] == "ALLOW-FROM https://partner.example"
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'self'; object-src 'none'; frame-ancestors https://partner.example"
    )


def test_the_audit_grades_the_redirect() -> None:
    app = build(ours, {})
    audits = {audit.path: audit for audit in audit_app(app)}
    for path in ("/", "/normal", "/nocsp"):
        tests = {test.name: test.result for test in audits[path].result.tests}
        assert tests["redirection"] == "redirection-to-https"


# from_talisman: the same declarations, for an idiomatic rewrite.


def test_from_talisman_defaults() -> None:
    equivalent = from_talisman()
    headers = equivalent.headers
    assert list(headers) == [
        "Permissions-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Content-Security-Policy",
        "Strict-Transport-Security",
        "Referrer-Policy",
    ]
    assert headers["Content-Security-Policy"] == ContentSecurityPolicy(
        default_src="'self'", object_src="'none'"
    )
    assert headers["Strict-Transport-Security"] == StrictTransportSecurity(
        31556926, True
    )
    assert equivalent.cookies == CookiePolicy(
        secure=True, httponly=True, samesite="Lax", only=frozenset({"session"})
    )
    assert equivalent.https_redirect == HTTPSRedirect(
        status=302, redirect_loopback=True, in_testing=True
    )


def test_from_talisman_typed_where_possible() -> None:
    with pytest.warns(TalismanMigrationWarning, match="image-src") as caught:
        headers = from_talisman(
            document_policy={"document-write": "?0"},
            content_security_policy="default-src 'self'; image-src *",
            strict_transport_security_include_subdomains=False,
            strict_transport_security_preload=True,
            force_https=False,
            session_cookie_secure=False,
            session_cookie_http_only=False,
            session_cookie_samesite=None,
        )
    assert any("preload needs include_subdomains" in str(w.message) for w in caught)
    assert headers.headers["Document-Policy"] == DocumentPolicy(
        {"document-write": False}
    )
    assert headers.headers["Content-Security-Policy"] == Verbatim(
        "Content-Security-Policy", "default-src 'self'; image-src *"
    )
    # Our HSTS grammar refuses preload without includeSubDomains (the preload
    # list would reject it); Flask-Talisman sent it, so the drop-in does.
    assert headers.headers["Strict-Transport-Security"] == Verbatim(
        "Strict-Transport-Security", "max-age=31556926; preload"
    )
    assert headers.https_redirect is None
    assert headers.cookies is None


def test_from_talisman_builds_the_same_app() -> None:
    options = README["csp-6-nonce"] | {"referrer_policy": "no-referrer"}
    talisman_app = build(flask_talisman, options)
    app = Flask("rewritten")
    from_talisman(**options).header_policy(app)
    app.get("/")(lambda: render_template_string(PAGE))
    for https in (True, False):
        a = snapshot(talisman_app, "/", https=https)
        b = snapshot(app, "/", https=https)
        expected = documented(a.headers, b.headers)
        assert (b.status, b.location, b.headers) == (a.status, a.location, expected)


def test_from_talisman_checks_its_options() -> None:
    with pytest.raises(TypeError, match="csp"):
        from_talisman(csp={})
    with pytest.raises(ValueError, match="report_uri"):
        from_talisman(content_security_policy_report_only=True)
    kwargs = from_talisman(
        force_https=False,
        session_cookie_secure=False,
        session_cookie_http_only=False,
        session_cookie_samesite=None,
    ).kwargs()
    assert kwargs["https_redirect"] is False and kwargs["cookies"] is False


# The README's migration example (examples/talisman_migration.py).


def test_migration_example_matches_talisman() -> None:
    from examples import talisman_migration as example  # warns: ALLOW-FROM

    talisman_app = Flask("original")
    original = flask_talisman.Talisman(
        talisman_app,
        content_security_policy={"default-src": "'self'", "script-src": "'self'"},
        content_security_policy_nonce_in=["script-src"],
    )
    talisman_app.route("/", endpoint="index")(
        lambda: render_template_string(example.PAGE)
    )
    talisman_app.route("/embeddable", endpoint="embeddable")(
        original(
            frame_options=flask_talisman.ALLOW_FROM,
            frame_options_allow_from=example.PARTNER,
        )(lambda: "Embeddable")
    )
    talisman_app.route("/health", endpoint="health")(
        original(force_https=False)(lambda: "ok")
    )
    for path in ("/", "/health"):
        a = snapshot(talisman_app, path, https=True)
        for app in (example.dropin_app, example.idiomatic_app):
            assert snapshot(app, path, https=True).headers == a.headers, (app, path)
    a = snapshot(talisman_app, "/embeddable", https=True).headers
    framed = "; frame-ancestors https://partner.example"
    dropin = snapshot(example.dropin_app, "/embeddable", https=True).headers
    assert dropin == a | {
        "content-security-policy": a["content-security-policy"] + framed
    }
    idiomatic = snapshot(example.idiomatic_app, "/embeddable", https=True).headers
    expected = {k: v for k, v in dropin.items() if k != "x-frame-options"}
    assert idiomatic == expected
    # Over plain HTTP, at a public host name: the same redirects, but the
    # rewrite uses 308 (method and body kept) where Talisman uses 302.
    for path, status in (("/", 302), ("/health", 200)):
        for app, code in (
            (talisman_app, status),
            (example.dropin_app, status),
            (example.idiomatic_app, 308 if status == 302 else status),
        ):
            response = app.test_client().get(path, base_url="http://app.example/")
            assert response.status_code == code, (app, path)


@pytest.mark.parametrize(
    ("options", "header", "value", "warning"),
    [
        ({"feature_policy": {"geolocation": "'none'",
                             "camera": ["'self'", "a.example"]}},
         "Feature-Policy", "geolocation 'none'; camera 'self' a.example", None),
        ({"feature_policy": "vibrate 'none';; fullscreen  *"},
         "Feature-Policy", "vibrate 'none'; fullscreen *", None),
        ({"permissions_policy": {"fullscreen": '(self "https://a.example")'}},
         "Permissions-Policy", 'fullscreen=(self "https://a.example")', None),
        ({"permissions_policy": {"fullscreen": '(self, "https://a.example")'}},
         "Permissions-Policy", 'fullscreen=(self, "https://a.example")',
         "not a structured-field dictionary"),
        ({"document_policy": {"document-write": "?1"}},
         "Document-Policy", "document-write=?1", None),
        ({"document_policy": "oversized-images=(1, 2)"},
         "Document-Policy", "oversized-images=(1, 2)", "not a structured-field"),
        ({"content_security_policy": {"default-src": "'self'",
                                      "upgrade-insecure-requests": ""}},
         "Content-Security-Policy",
         "default-src 'self'; upgrade-insecure-requests", None),
        ({"content_security_policy": "script-src 'self'; report-uri /r",
          "content_security_policy_report_uri": "/other"},
         "Content-Security-Policy", "script-src 'self'; report-uri /r", None),
        ({"content_security_policy": {"script-src": "self"}},
         "Content-Security-Policy", "script-src self", "unquoted keyword"),
        ({"strict_transport_security_max_age": 600,
          "strict_transport_security_include_subdomains": False},
         "Strict-Transport-Security", "max-age=600", None),
        ({"x_xss_protection": True}, "X-XSS-Protection", "1; mode=block", None),
        ({"force_file_save": True}, "X-Download-Options", "noopen", None),
    ],
)  # fmt: skip
def test_each_option_translates(
    options: dict[str, t.Any], header: str, value: str, warning: str | None
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        headers = from_talisman(**options).headers
    assert str(headers[header]) == value
    said = [str(w.message) for w in caught if w.category is TalismanMigrationWarning]
    if warning is None:
        assert said == []
    else:
        assert len(said) == 1 and warning in said[0], said
    # What the real Flask-Talisman sends for the same options (it keeps the
    # empty directives and double spaces of a string policy; we drop them).
    app = build(flask_talisman, options)
    sent = app.test_client().get("/normal", environ_overrides=HTTPS).headers

    def canonical(text: str) -> str:
        return "; ".join(" ".join(p.split()) for p in text.split(";") if p.strip())

    assert canonical(sent[header]) == canonical(value)
    assert canonical(value) == value


@pytest.mark.parametrize(
    "option", ["content_security_policy", "feature_policy", "permissions_policy"]
)
def test_a_policy_of_the_wrong_type_is_a_type_error(option: str) -> None:
    with pytest.raises(TypeError, match=f"{option} takes a dict or a str, not list"):
        from_talisman(**{option: ["default-src 'self'"]})


def test_an_empty_policy_sends_no_header() -> None:
    headers = from_talisman(
        content_security_policy={"default-src": None},
        permissions_policy="  ",
        feature_policy=";",
    ).headers
    assert not {
        "Content-Security-Policy",
        "Permissions-Policy",
        "Feature-Policy",
    } & set(headers)
