"""Every code example of the docs runs, and does what its page says.

The examples live in ``docs/examples/`` and are shown with ``literalinclude``;
the responses and outputs on the pages are made by running them at build
time (``docs/_ext``). These tests pin what the prose claims about them.
"""

from __future__ import annotations

import base64
import collections.abc as cabc
import hashlib
import os
import pathlib
import re
import shlex
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
    files = {
        path.relative_to(EXAMPLES).with_suffix("").as_posix()
        for path in EXAMPLES.rglob("*.py")
        if path.name != "__init__.py"
    }
    assert files - TESTED == set(), "examples without a test"
    assert TESTED - files == set(), "tests of examples that do not exist"
    pages = "\n".join(p.read_text("utf-8") for p in DOCS.rglob("*.rst"))
    for name in files:
        assert f"examples/{name}.py" in pages, f"{name}.py is shown on no page"
    # Every template of the examples is shown too.
    for path in EXAMPLES.rglob("*.html"):
        shown = path.relative_to(DOCS).as_posix()
        assert shown in pages, f"{shown} is shown on no page"


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
    module = example("errors")
    assert len(printed) == len(module.mistakes) + len(module.shapes) == 14
    assert "declared by blueprint 'api'" in printed[0] and "'\\r' (CR)" in printed[0]
    assert "declare force('text/plain')" in printed[1]
    assert "Invalid name for header 'X Frame Options' declared by app" in printed[2]
    assert "unquoted keyword 'self'" in printed[3]
    assert "declared by view 'index'" in printed[4]
    assert "did you mean 'no-referrer'" in printed[4] and printed[6].endswith(
        printed[4].split(": ", 1)[1]
    )
    assert "frame-ancestors" in printed[5]
    assert "'Connection'" in printed[7] and "hop-by-hop" in printed[7]
    assert "'\\x85' (U+0085)" in printed[8]
    assert "'nonce-1a2b3c' is fixed" in printed[9]
    assert "max_age=<int of" in printed[10] and "2**31" in printed[10]
    assert "has parameters" in printed[11] and "write 'text/html'" in printed[11]
    assert printed[12].endswith("write {'X-Frame-Options': 'DENY'}")
    assert printed[13].startswith("preset= must be a preset name")
    for mistake in module.mistakes:
        with pytest.raises(InvalidHeaderError):
            mistake()
    for shape in module.shapes:
        with pytest.raises(TypeError):
            shape()


@covers("strict")
def test_strict_page_scores_a_plus_with_its_nonce() -> None:
    assert "nonce" not in example("strict").PAGE  # stamped, not written
    response = get("strict", "/")
    assert_grade(response, "A+")
    nonce = re.search(r'<script nonce="([^"]+)"', response.get_data(as_text=True))
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
    document = get("builders", "/")
    assert document.headers["Document-Policy"] == (
        "document-write=?0, oversized-images=2.0, *;report-to=main"
    )
    assert document.headers["Reporting-Endpoints"] == 'main="/reports"'
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


@covers("csrf")
def test_csrf_protection_leaves_the_collector_open(tmp_path: pathlib.Path) -> None:
    import json

    database = f"sqlite:///{tmp_path}/reports.db"
    app = example("csrf").create_app(HEADER_POLICY_REPORTS_DATABASE=database)
    app.post("/form")(lambda: "posted")
    client = app.test_client()
    assert client.post("/form", base_url=HTTPS).status_code == 400  # no token
    report = {
        "csp-report": {"document-uri": "https://localhost/", "blocked-uri": "inline"}
    }
    posted = client.post(
        "/__csp-reports",
        data=json.dumps(report),
        content_type="application/csp-report",
        base_url=HTTPS,
    )
    assert posted.status_code == 204


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


def test_config_command_of_the_page_runs() -> None:
    page = (DOCS / "configuration.rst").read_text("utf-8")
    command = re.search(r"flask-command:: (--app .*)\n    :env: (.*)", page)
    assert command is not None
    env = dict(pair.partition("=")[::2] for pair in shlex.split(command.group(2)))
    assert env == {
        "FLASK_HEADER_POLICY_PRESET": "basic",
        "FLASK_HEADER_POLICY_COOKIES": '{"samesite": "Strict"}',
    }
    output = docs_extension().flask_command(command.group(1).split(), env=env)
    assert "X-XSS-Protection" in output  # from the basic preset
    assert "FLASK_HEADER_POLICY_PRESET" not in os.environ  # set for the run only


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


# Stamping, HTTPS, breaks, scoring.


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


@covers("stamping")
def test_stamping_nonces_template_source_and_hashes_its_attributes() -> None:
    response = get("stamping", "/", query_string={"q": "<script>alert(1)</script>"})
    body = response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce is not None
    stamped = f'nonce="{nonce.group(1)}"'
    # Every tag of the template's source, and the trusted helper's, has it.
    assert f'<link {stamped} rel="stylesheet"' in body
    assert f'<script {stamped} src="https://cdn.example/jquery.js">' in body
    assert f'<script {stamped} src="https://cdn.example/charts.js">' in body
    # The injected script has none, and the csp_hash block is allowed by hash.
    assert "You searched for <script>alert(1)</script>" in body
    assert body.count("nonce=") == 3
    inline = 'document.documentElement.classList.add("js")'
    assert f"<script>{inline}</script>" in body
    assert (
        f"script-src 'nonce-{nonce.group(1)}' 'strict-dynamic' {_sha256(inline)}" in csp
    )
    handler = _sha256("return confirm('Delete?')")
    assert f"script-src-attr 'unsafe-hashes' {handler}" in csp
    assert f"style-src-attr 'unsafe-hashes' {_sha256('color: green')}" in csp
    # The browser blocks the injected script, and nothing of the template's.
    from flask_header_policy.audit import grade_response

    result = grade_response(response.headers.to_wsgi_list(), body=body)
    assert [item.element for item in result.breaks] == ["<script>alert(1)</script>"]
    assert_grade(get("stamping", "/"), "A+")


@covers("https")
def test_https_redirect_and_hsts() -> None:
    module = example("https")
    app: Flask = module.app
    plain = app.test_client().get(
        "/orders?page=2",
        base_url="http://shop.example/",
        headers={"X-Forwarded-Proto": "https"},
    )
    assert plain.status_code == 308
    assert plain.headers["Location"] == "https://shop.example/orders?page=2"
    assert "Strict-Transport-Security" not in plain.headers
    health = app.test_client().get("/health", base_url="http://shop.example/")
    assert (
        health.status_code == 200 and "Strict-Transport-Security" not in health.headers
    )
    acme = app.test_client().get(
        "/.well-known/acme-challenge/token", base_url="http://shop.example/"
    )
    assert acme.status_code == 404  # exempt: served (no such file), not redirected
    secure = app.test_client().get("/orders", base_url="https://shop.example/")
    assert secure.headers["Strict-Transport-Security"] == (
        "max-age=63072000; includeSubDomains"
    )
    proxied = module.behind_proxy.test_client().get(
        "/orders",
        base_url="http://shop.example/",
        headers={"X-Forwarded-Proto": "https"},
    )
    assert proxied.status_code == 200
    assert "Strict-Transport-Security" in proxied.headers
    forged = app.test_client().get(
        "/orders", base_url="http://shop.example/", headers={"Host": "good@evil"}
    )
    assert forged.status_code == 400 and "Location" not in forged.headers


@covers("breaks")
def test_breaks_page_lists_every_kind_it_names() -> None:
    printed = docs_extension().script_output("docs/examples/breaks.py").splitlines()
    assert printed[0] == "A+ breaks"
    directives = [line.split(": ")[1].split()[0] for line in printed[1::2]]
    assert directives == [
        "style-src-elem",
        "script-src-elem",
        "script-src-elem",
        "img-src",
        "style-src-attr",
        "script-src-attr",
    ]
    output = docs_extension().flask_command(
        ["--app", "docs/examples/breaks.py", "headers", "audit", "--min-grade", "A+"],
        exit_code=1,
        stderr=True,
    )
    assert "A+ breaks" in output and "1 of 2 break" in output
    allowed = docs_extension().flask_command(
        [
            "--app",
            "docs/examples/breaks.py",
            "headers",
            "audit",
            "--min-grade",
            "A+",
            "--allow-breaks",
        ],
    )
    assert "A+ breaks" in allowed


@covers("algorithms")
def test_algorithm_6_scores_coop_and_coep() -> None:
    printed = docs_extension().script_output("docs/examples/algorithms.py")
    assert "algorithm 5: 135 A+" in printed
    assert "algorithm 6: 155 A+" in printed
    assert "+10  cross-origin-embedder-policy: coep-implemented-with-require-corp" in (
        printed
    )


def test_live_audit_errors_are_one_line() -> None:
    page = (DOCS / "live.rst").read_text("utf-8")
    urls = re.findall(r"flask-command:: headers audit (\S+)", page)
    assert len(urls) == 2
    for url in urls:
        output = docs_extension().flask_command(
            ["headers", "audit", url], exit_code=1, stderr=True
        )
        # The URL as given, and what is wrong with it.
        assert re.fullmatch(
            rf"Error: {re.escape(url)}: not a valid (http:// or https:// )?URL",
            output,
        ), output


# The strict CSP tutorial.


def shop(step: str) -> Flask:
    app: Flask = example(f"shop/{step}").app
    return app


def breaks_of(app: Flask) -> list[tuple[str, int, str]]:
    from flask_header_policy.audit.app import audit_app

    return [
        (item.directive, item.line, item.element)
        for audit in audit_app(app)
        for item in audit.breaks
    ]


@covers("shop/app")
def test_shop_has_no_policy() -> None:
    response = shop("app").test_client().get("/", base_url=HTTPS)
    assert "Content-Security-Policy" not in response.headers
    body = response.get_data(as_text=True)
    for needed in ('onclick="track(17)"', "moment.min.js", "gravatar", 'style="'):
        assert needed in body


@covers("shop/stamped", "shop/blocked")
def test_stamped_shop_breaks_where_the_tutorial_says() -> None:
    blocked = breaks_of(shop("stamped"))
    assert [(d, line) for d, line, _ in blocked] == [
        ("script-src-elem", 9),
        ("script-src-elem", 10),
        ("img-src", 14),
        ("script-src-attr", 24),
        ("script-src-attr", 31),
    ]
    # Lines 9 and 10 are the helper's tags (the page says so).
    assert "moment.min.js" in blocked[0][2] and "moment.locale" in blocked[1][2]
    # Stamping handled the rest: the CDN tags carry the nonce.
    body = shop("stamped").test_client().get("/", base_url=HTTPS).get_data(True)
    assert '<script nonce="' in body and '<link nonce="' in body
    printed = docs_extension().script_output("docs/examples/shop/blocked.py")
    assert printed.count("\n    fix: ") == 5
    assert "add https://www.gravatar.com to img-src" in printed


@covers("shop/fixed")
def test_fixed_shop_breaks_nothing() -> None:
    app = shop("fixed")
    assert breaks_of(app) == []
    response = app.test_client().get("/", base_url=HTTPS)
    assert_grade(response, "A+")
    csp = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://www.gravatar.com;" in csp
    body = response.get_data(as_text=True)
    assert re.search(
        r'<script nonce="[^"]+" src="https://cdn.jsdelivr.net/npm/moment', body
    )
    assert 'data-order="17"' in body and "onclick" not in body


@covers("shop/trial", "shop/browsers")
def test_trial_reports_what_the_audit_cannot_see() -> None:
    from click.testing import CliRunner
    from flask.cli import FlaskGroup

    response = shop("trial").test_client().get("/", base_url=HTTPS)
    assert "Content-Security-Policy" not in response.headers
    trial = response.headers["Content-Security-Policy-Report-Only"]
    assert "; report-uri /__csp-reports; report-to header-policy" in trial
    assert "script-src-attr 'unsafe-hashes' 'sha256-" in trial  # stamped
    assert response.headers["Reporting-Endpoints"] == 'header-policy="/__csp-reports"'
    app = example("shop/browsers").reported()
    cli = FlaskGroup(create_app=lambda: app)
    reports = CliRunner().invoke(cli, ["headers", "reports", "--json"])
    assert reports.exit_code == 0, reports.output
    import json

    data = json.loads(reports.stdout)
    seen = {
        (r["endpoint"], r["directive"], r["blocked"], r["browser"]): r["count"]
        for r in data["reports"]
    }
    assert seen == {
        ("orders", "font-src", "https://cdn.jsdelivr.net", "Chrome"): 40,
        ("orders", "connect-src", "https://api.shop.example", "Chrome"): 40,
        ("orders", "connect-src", "https://api.shop.example", "Firefox"): 12,
    }
    # Stamped pages' reports are the app's: only the extension is noise.
    assert data["counters"].get("noise:foreign-policy", 0) == 0
    assert data["counters"]["noise:extension"] == 1
    suggested = CliRunner().invoke(cli, ["headers", "suggest"]).stdout
    assert (
        'csp.with_sources("connect-src", "https://api.shop.example")'
        '.with_sources("font-src", "https://cdn.jsdelivr.net")'
    ) in suggested
    assert "not ready" in suggested
    assert "unsafe" not in suggested


@covers("shop/enforced")
def test_enforced_shop_sends_what_suggest_proposed() -> None:
    app = shop("enforced")
    response = app.test_client().get("/", base_url=HTTPS)
    csp = response.headers["Content-Security-Policy"]
    assert "font-src 'self' https://cdn.jsdelivr.net;" in csp
    assert "connect-src 'self' https://api.shop.example;" in csp
    assert "report-uri /__csp-reports" in csp
    assert breaks_of(app) == []
    assert_grade(response, "A+")


# Coming from Flask-Talisman.


@covers("from_talisman")
def test_from_talisman_prints_the_declarations() -> None:
    printed = docs_extension().script_output("docs/examples/from_talisman.py")
    assert "'Content-Security-Policy': ContentSecurityPolicy(" in printed
    assert "samesite='Strict'" in printed and "only=frozenset({'session'})" in printed
    assert "HTTPSRedirect(status=301" in printed


def _talisman_pair(row: t.Any) -> tuple[Flask, Flask]:
    import flask_talisman
    from flask import render_template_string
    from flask import session

    from flask_header_policy import HeaderPolicy

    page = '<script nonce="{{ csp_nonce() }}"></script>'

    def build(install: cabc.Callable[[Flask], object]) -> Flask:
        app = Flask("rewrite")
        app.secret_key = "docs"
        install(app)

        @app.get("/")
        def index() -> str:
            session["seen"] = True
            return render_template_string(page)

        return app

    theirs = build(lambda app: flask_talisman.Talisman(app, **row.talisman))
    ours = build(lambda app: HeaderPolicy(app, **row.ours))
    return theirs, ours


def _cookie(response: TestResponse) -> set[str]:
    value = response.headers.get("Set-Cookie", "")
    return {part.strip().lower() for part in value.split(";")[1:]}


def _nonce_free(value: str | None) -> str | None:
    return None if value is None else re.sub(r"'nonce-[^']+'", "'nonce'", value)


@covers("talisman_options")
@pytest.mark.parametrize("index", range(17))
@pytest.mark.filterwarnings(
    "ignore::flask_header_policy.talisman.TalismanMigrationWarning"
)
def test_each_rewrite_sends_what_the_talisman_option_sent(index: int) -> None:
    rows = example("talisman_options").ROWS
    assert len(rows) == 17
    row = rows[index]
    theirs, ours = _talisman_pair(row)
    https = {"base_url": "https://app.example/"}
    a = theirs.test_client().get("/", **https)
    b = ours.test_client().get("/", **https)
    compared: list[bool] = []
    for name, value in row.ours.get("headers", {}).items():
        if value is None:
            assert name not in b.headers
            continue
        compared.append(
            _nonce_free(a.headers.get(name)) == _nonce_free(b.headers[name])
        )
    if "cookies" in row.ours:
        compared.append(_cookie(a) == _cookie(b))
    if "https_redirect" in row.ours:
        plain = {"base_url": "http://app.example/"}
        ra = theirs.test_client().get("/", **plain)
        rb = ours.test_client().get("/", **plain)
        assert ra.headers["Location"] == rb.headers["Location"]
        compared.append(ra.status_code == rb.status_code)
    assert compared, "a row that compares nothing"
    # A row says when it differs, and then its note says how.
    assert all(compared) is row.same, (row, a.headers, b.headers)
    assert row.same or row.note


def test_rewrite_table_rows_are_the_files() -> None:
    rows = docs_extension().rewrite_rows("docs/examples/talisman_options.py")
    module = example("talisman_options")
    assert len(rows) == len(module.ROWS)
    for (before, after, note), row in zip(rows, module.ROWS, strict=True):
        assert [item.split("=")[0] for item in before] == list(row.talisman)
        assert note == row.note
        names = [item.split(":")[0].strip('"') for item in after if ":" in item]
        assert set(names) <= set(row.ours.get("headers", {}))


# The README's quick start.


def test_readme_quick_start_does_what_it_says() -> None:
    from click.testing import CliRunner
    from flask.cli import FlaskGroup

    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Quick start") :]
    start = section.index("```python\n") + len("```python\n")
    code = section[start : section.index("\n```", start)]
    assert 12 <= len(code.splitlines()) <= 20
    namespace: dict[str, t.Any] = {"__name__": "readme_quick_start"}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our README
    app: Flask = namespace["app"]
    page = app.test_client().get("/", base_url=HTTPS)
    nonce = re.search(r'<script nonce="([^"]+)">', page.get_data(as_text=True))
    assert nonce is not None
    assert f"'nonce-{nonce.group(1)}'" in page.headers["Content-Security-Policy"]
    export = app.test_client().get("/export.csv", base_url=HTTPS)
    assert export.headers["Cache-Control"] == "no-store"
    cli = FlaskGroup(create_app=lambda: app)
    audit = CliRunner().invoke(cli, ["headers", "audit", "--min-grade", "A+"])
    assert audit.exit_code == 0, audit.output
    assert "breaks" not in audit.output
    shown = CliRunner().invoke(cli, ["headers", "show"])
    assert "Cache-Control" in shown.stdout and "preset:strict" in shown.stdout
