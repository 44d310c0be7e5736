"""Every code example of the docs runs, and does what its page says.

The examples live in ``docs/examples/`` and are shown with ``literalinclude``;
the responses and outputs on the pages are made by running them at build
time (``docs/_ext``). These tests pin what the prose claims about them.
"""

from __future__ import annotations

import base64
import collections.abc as cabc
import hashlib
import pathlib
import re
import types
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_docs import docs_extension
from werkzeug.test import TestResponse

from flask_header_policy import InvalidHeaderError
from flask_header_policy.pytest_plugin import assert_grade
from flask_header_policy.pytest_plugin import assert_headers

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
HTTPS = "https://localhost/"

pytest_plugins = ["pytester"]
F = t.TypeVar("F", bound=cabc.Callable[..., t.Any])


def example(name: str) -> types.ModuleType:
    module: types.ModuleType = docs_extension().load_example(f"docs/examples/{name}.py")
    return module


def client(name: str) -> FlaskClient:
    app: Flask = example(name).app
    return app.test_client()


def get(name: str, path: str, **kwargs: object) -> TestResponse:
    response: TestResponse = client(name).get(path, base_url=HTTPS, **kwargs)
    return response


#: Every example file and the test that covers it.
TESTED: set[str] = set()


def covers(*names: str) -> cabc.Callable[[F], F]:
    """Mark a test as the one for these example files."""
    TESTED.update(names)
    return lambda f: f


def test_every_example_is_tested_and_shown() -> None:
    files = {path.stem for path in EXAMPLES.glob("*.py")}
    assert files - TESTED == set(), "examples without a test"
    assert TESTED - files == set(), "tests of examples that do not exist"
    pages = "\n".join(p.read_text("utf-8") for p in DOCS.rglob("*.rst"))
    for name in files:
        assert f"examples/{name}.py" in pages, f"{name}.py is shown on no page"


@covers("index")
def test_index() -> None:
    response = get("index", "/report")
    assert_headers(response, {"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


@covers("pitfalls")
def test_pitfalls_lose_and_clobber_headers() -> None:
    assert "X-Success" not in get("pitfalls", "/string").headers
    assert (
        get("pitfalls", "/data").headers["Content-Type"] == "text/plain; charset=utf-8"
    )
    assert "X-Success" not in get("pitfalls", "/forgot").headers


@covers("pitfalls_fixed")
def test_pitfalls_fixed() -> None:
    assert_headers(
        get("pitfalls_fixed", "/string"),
        {"X-Success": "Works", "Cache-Control": "no-store"},
    )
    assert_headers(
        get("pitfalls_fixed", "/text"), {"Content-Type": "text/plain; charset=utf-8"}
    )
    assert_headers(
        get("pitfalls_fixed", "/data"),
        {"Content-Type": "application/json", "Cache-Control": "max-age=60"},
    )


@covers("layers")
def test_layers() -> None:
    assert_headers(
        get("layers", "/api/v1/items"),
        {
            "X-Frame-Options": None,  # cancelled by the api blueprint
            "Cache-Control": "no-store",
            "Deprecation": "@1767225600",
            "Referrer-Policy": "no-referrer",
        },
    )
    assert_headers(
        get("layers", "/legacy"),
        {"X-Frame-Options": "SAMEORIGIN", "X-Powered-By": None},
    )
    assert_headers(
        get("layers", "/"),
        {"Vary": "Cookie", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"},
    )
    unmatched = get("layers", "/api/nothing-here")
    assert unmatched.status_code == 404
    assert_headers(unmatched, {"X-Frame-Options": "DENY", "Cache-Control": None})


def test_show_output_names_layers_and_modes() -> None:
    output = docs_extension().flask_command(
        ["--app", "docs/examples/layers.py", "headers", "show"]
    )
    assert re.search(r"Cache-Control\s+no-store\s+blueprint:api\s+force", output)
    assert re.search(r"Deprecation\s+@1767225600\s+blueprint:api\.v1", output)
    assert "(unmatched URL: 404/405)" in output


@covers("values")
def test_values() -> None:
    page = get("values", "/", headers={"X-Request-Id": "abc123"})
    assert_headers(
        page,
        {
            "X-Request-Id": "abc123",
            "Access-Control-Max-Age": "600",
            "X-Frame-Options": "DENY",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
        },
    )
    data = get("values", "/data.json")
    assert_headers(
        data,
        {
            "X-Request-Id": None,  # the callable returned None
            "X-Frame-Options": None,
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


@covers("errors")
def test_errors_are_raised_with_the_messages_the_page_shows() -> None:
    printed = docs_extension().script_output("docs/examples/errors.py").splitlines()
    assert len(printed) == len(example("errors").mistakes) + 1 == 8
    assert "declared by blueprint 'api'" in printed[0] and "'\\r' (CR)" in printed[0]
    assert "declare force('text/plain')" in printed[1]
    assert "Invalid name for header 'X Frame Options' declared by app" in printed[2]
    assert "unquoted keyword 'self'" in printed[3]
    assert "declared by view 'index'" in printed[4]
    assert "did you mean 'no-referrer'" in printed[4] and printed[6].endswith(
        printed[4].split(": ", 1)[1]
    )
    assert "frame-ancestors" in printed[5]
    assert printed[7].endswith("write {'X-Frame-Options': 'DENY'}")
    for mistake in example("errors").mistakes:
        with pytest.raises(InvalidHeaderError):
            mistake()


@covers("strict")
def test_strict_page_scores_a_plus_with_its_nonce() -> None:
    response = get("strict", "/")
    assert_grade(response, "A+")
    nonce = re.search(r'nonce="([^"]+)"', response.get_data(as_text=True))
    assert nonce is not None
    assert f"'nonce-{nonce.group(1)}'" in response.headers["Content-Security-Policy"]
    assert "Secure" in response.headers["Set-Cookie"]


@covers("csp")
def test_csp() -> None:
    page = get("csp", "/").headers["Content-Security-Policy"]
    assert page.startswith("default-src 'none'; script-src 'nonce-")
    chart = get("csp", "/chart").headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in chart
    digest = hashlib.sha256(example("csp").ANALYTICS.encode()).digest()
    expected = f"script-src 'sha256-{base64.b64encode(digest).decode()}'"
    assert expected in get("csp", "/static-page").headers["Content-Security-Policy"]
    assert "Content-Security-Policy" not in get("csp", "/api/status").headers


@covers("nonces")
def test_nonces_one_per_response_in_every_header_and_the_page() -> None:
    first, second = get("nonces", "/"), get("nonces", "/")
    body = first.get_data(as_text=True)
    nonces = set(re.findall(r'nonce="([^"]+)"', body))
    assert len(nonces) == 1
    nonce = nonces.pop()
    for header in ("Content-Security-Policy", "Content-Security-Policy-Report-Only"):
        assert f"'nonce-{nonce}'" in first.headers[header]
        assert f"'nonce-{nonce}'" not in second.headers[header]
    data = get("nonces", "/data.json")
    assert "Content-Security-Policy" not in data.headers


@covers("builders")
def test_builders() -> None:
    assert_headers(
        get("builders", "/"),
        {
            "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
            "Permissions-Policy": (
                'camera=(), geolocation=(self "https://maps.example"), fullscreen=*'
            ),
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Resource-Policy": "same-site",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
            "Cross-Origin-Embedder-Policy": None,
        },
    )
    isolated = get("builders", "/isolated")
    assert isolated.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert_headers(
        get("builders", "/cv"),
        {
            "Content-Disposition": (
                "attachment; filename=resume.pdf; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
            ),
            "Cache-Control": "private, max-age=600",
        },
    )


@covers("reporting")
def test_reporting() -> None:
    assert_headers(
        get("reporting", "/"),
        {
            "Reporting-Endpoints": (
                'csp="/csp-reports", permissions="/permissions-reports"'
            ),
            "Content-Security-Policy": "default-src 'self'; object-src 'none'",
            "Content-Security-Policy-Report-Only": (
                "default-src 'none'; script-src 'self'; img-src 'self';"
                " report-to csp; report-uri /csp-reports"
            ),
        },
    )


@covers("reports")
def test_reports(tmp_path: pathlib.Path) -> None:
    """The reports page: the wired header, and one report through the loop."""
    import json

    from click.testing import CliRunner
    from flask.cli import FlaskGroup

    app = example("reports").create_app(str(tmp_path))
    page = app.test_client().get("/gallery", base_url=HTTPS)
    policy = page.headers["Content-Security-Policy-Report-Only"]
    assert policy.endswith("; report-uri /__csp-reports; report-to header-policy")
    assert page.headers["Reporting-Endpoints"] == 'header-policy="/__csp-reports"'
    report = {
        "csp-report": {
            "document-uri": "https://localhost/gallery",
            "blocked-uri": "https://www.gravatar.com/avatar/0",
            "effective-directive": "img-src",
            "original-policy": policy,
            "disposition": "report",
        }
    }
    posted = app.test_client().post(
        "/__csp-reports",
        data=json.dumps(report),
        content_type="application/csp-report",
        base_url=HTTPS,
    )
    assert posted.status_code == 204
    cli = FlaskGroup(create_app=lambda: app)
    suggested = CliRunner().invoke(cli, ["headers", "suggest"]).output
    assert 'csp.with_sources("img-src", "https://www.gravatar.com")' in suggested
    assert (tmp_path / "header-policy-reports.sqlite3").is_file()


@covers("cookies")
def test_cookies() -> None:
    cookies = get("cookies", "/").headers.getlist("Set-Cookie")
    by_name = {value.partition("=")[0]: value for value in cookies}
    assert by_name["tracking_opt_out"].endswith("; Secure; HttpOnly; SameSite=Lax")
    assert by_name["ui_theme"] == "ui_theme=dark; Path=/"  # exempt
    assert "SameSite=None" in by_name["embed"]
    assert "SameSite=Lax" not in by_name["embed"]
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= set(by_name["session"].split("; "))
    plain = client("cookies").get("/").headers.getlist("Set-Cookie")
    assert not any("Secure" in value for value in plain if "tracking" in value)


@covers("presets")
def test_presets() -> None:
    page = get("presets", "/")
    assert_headers(page, {"X-Frame-Options": "SAMEORIGIN", "Permissions-Policy": None})
    assert "'nonce-" in page.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in get("presets", "/embed").headers
    chart = get("presets", "/chart").headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in chart and "'nonce-" in chart
    # A non-HTML response of that view keeps the preset's fallback.
    app = example("presets").app
    with app.test_request_context():
        declared = {
            d.key: d
            for d in app.extensions["header_policy"].policy.effective(app, "chart")
        }
    assert declared["content-security-policy"].otherwise == (
        "default-src 'none'; frame-ancestors 'none'"
    )


@covers("config")
def test_config_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_HEADER_POLICY_PRESET", "basic")
    monkeypatch.setenv("FLASK_HEADER_POLICY_COOKIES", '{"samesite": "Strict"}')
    app = example("config").create_app()
    assert app.config["HEADER_POLICY_PRESET"] == "basic"
    response = app.test_client().get("/", base_url=HTTPS)
    assert_headers(response, {"X-Frame-Options": "DENY", "X-XSS-Protection": "0"})


def test_config_command_of_the_page_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_HEADER_POLICY_PRESET", "basic")
    page = (DOCS / "configuration.rst").read_text("utf-8")
    command = re.search(r"\$ flask (--app .*)", page)
    assert command is not None
    output = docs_extension().flask_command(command.group(1).split())
    assert "X-XSS-Protection" in output  # from the basic preset


@covers("grader")
def test_grader_script() -> None:
    printed = docs_extension().script_output("docs/examples/grader.py")
    first = printed.splitlines()[0]
    assert first == "105 A+"
    assert "hsts-implemented-max-age-less-than-six-months" in printed
    assert "[low] hsts-short:" in printed


@covers("audit_demo")
def test_audit_demo_has_several_grades() -> None:
    from flask_header_policy.audit.app import audit_app

    audits = {a.path: a for a in audit_app(example("audit_demo").app)}
    assert audits["/"].grade == "A+"
    assert audits["/legacy"].grade == "C"
    assert any(
        f.code == "csp-script-allowlist" for f in audits["/maps"].result.findings
    )


@covers("test_app_headers")
def test_pytest_plugin_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_app_headers=(EXAMPLES / "test_app_headers.py").read_text("utf-8")
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_assert_headers_message_on_the_testing_page() -> None:
    from werkzeug.wrappers import Response

    response = Response(headers={"X-Frame-Options": "SAMEORIGIN", "Server": "gunicorn"})
    with pytest.raises(AssertionError) as error:
        assert_headers(response, {"X-Frame-Options": "DENY", "Server": None})
    page = (DOCS / "testing.rst").read_text("utf-8")
    shown = "\n".join(
        line[8:] for line in page.splitlines() if line.startswith("        ")
    )
    assert f"AssertionError: {error.value}" in shown


def test_screenshots_exist() -> None:
    for name in ("audit-report.png", "headers-show.png"):
        data = (DOCS / "_static" / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
