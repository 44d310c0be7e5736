"""The "breaks" verdict: a page whose CSP blocks what it uses says so everywhere.

A strict CSP on templates without nonces grades A+ and breaks the page; the
audit must say "breaks" in the table, the JSON, the HTML report, the
``--min-grade`` gate, ``grade_response``, ``assert_grade`` and the
``header_audit`` fixture, in process and live.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import json
import pathlib
import threading
import typing as t

import click
import pytest
from click.testing import CliRunner
from click.testing import Result
from flask import Flask
from flask import render_template
from flask.cli import FlaskGroup
from test_pytest_plugin import plugin_args
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from flask_header_policy import HeaderPolicy
from flask_header_policy.audit import Blocked
from flask_header_policy.audit import grade_response
from flask_header_policy.audit.app import audit_app
from flask_header_policy.audit.cli import audit_command
from flask_header_policy.audit.report import print_table
from flask_header_policy.csp import hash_source
from flask_header_policy.presets import STRICT_CSP
from flask_header_policy.pytest_plugin import assert_grade

pytest_plugins = ["pytester"]

#: A page as real apps write them: CDN scripts and styles without nonces,
#: an inline script, a confirm() handler, a style attribute, a gravatar.
UNSTAMPED = """<!doctype html>
<html><head><title>{{ title }}</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5/dist/css/bootstrap.min.css">
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script>$(function () { $(".when").text("now"); });</script>
</head><body>
<img src="https://www.gravatar.com/avatar/0?s=40" alt="">
<form action="/delete" method="post">
  <button onclick="return confirm('Delete?')" style="color: red">Delete</button>
</form>
</body></html>
"""
#: The same page written for a strict CSP: nonces, no inline attributes.
STAMPED = """<!doctype html>
<html><head><title>{{ title }}</title>
<link rel="stylesheet" href="/static/site.css" nonce="{{ csp_nonce() }}">
<script src="https://code.jquery.com/jquery.js" nonce="{{ csp_nonce() }}"></script>
<script nonce="{{ csp_nonce() }}">document.title = "ok";</script>
</head><body><img src="/static/logo.png" alt=""></body></html>
"""


def make_app(templates: pathlib.Path, *, stamp: bool = False) -> Flask:
    (templates / "unstamped.html").write_text(UNSTAMPED)
    (templates / "stamped.html").write_text(STAMPED)
    app = Flask("breaking", template_folder=str(templates), static_folder=None)
    # Stamping off: the templates are left as written, as before adopting it.
    HeaderPolicy(app, preset="strict", stamp_nonces=stamp)

    @app.get("/")
    def home() -> str:
        return render_template("unstamped.html", title="home")

    @app.get("/fine")
    def fine() -> str:
        return render_template("stamped.html", title="fine")

    return app


@pytest.fixture
def app(tmp_path: pathlib.Path) -> Flask:
    return make_app(tmp_path)


def test_the_same_templates_stamped_break_only_where_code_must_change(
    tmp_path: pathlib.Path,
) -> None:
    by_path = {a.path: a for a in audit_app(make_app(tmp_path, stamp=True))}
    home = by_path["/"]
    # Nonces reach every script and style tag, hashes every static handler
    # and style attribute: what is left is the other host's image, which a
    # declaration must allow.
    assert {b.directive for b in home.breaks} == {"img-src"}
    assert [b.url for b in home.breaks] == [
        b.url for b in home.breaks if b.url and "gravatar" in b.url
    ]
    assert by_path["/fine"].verdict == "ok"


def invoke(app: Flask, *args: str) -> Result:
    cli = FlaskGroup(create_app=lambda: app)
    return CliRunner().invoke(cli, ["headers", "audit", *args])


# -- In process -------------------------------------------------------------


def test_strict_preset_on_unstamped_templates_grades_a_plus_and_breaks(
    app: Flask,
) -> None:
    by_path = {a.path: a for a in audit_app(app)}
    home, fine = by_path["/"], by_path["/fine"]
    assert (home.grade, home.verdict) == ("A+", "breaks")
    assert (fine.grade, fine.verdict) == ("A+", "ok")
    assert fine.breaks == ()
    assert sorted({b.directive for b in home.breaks}) == [
        "img-src", "script-src-attr", "script-src-elem", "style-src-attr",
        "style-src-elem",
    ]  # fmt: skip
    jquery = next(b for b in home.breaks if "jquery" in (b.url or ""))
    assert isinstance(jquery, Blocked)
    assert (jquery.directive, jquery.kind, jquery.line, jquery.when) == (
        "script-src-elem", "script", 4, "load",
    )  # fmt: skip
    assert "stamp_nonces=True" in jquery.fix
    assert "HEADER_POLICY_STAMP_NONCES" in jquery.fix
    gravatar = next(b for b in home.breaks if b.directive == "img-src")
    assert gravatar.fix == (
        "add https://www.gravatar.com to img-src in Content-Security-Policy"
        " (declared at preset:strict)"
    )
    handler = next(b for b in home.breaks if b.directive == "script-src-attr")
    assert handler.element == "<button onclick=\"return confirm('Delete?')\">"
    assert "move the handler into a nonced <script>" in handler.fix
    assert hash_source("return confirm('Delete?')") in handler.fix
    # Findings: one per directive, with counts, lines and the fixes.
    blocks = [f for f in home.result.findings if f.code == "csp-blocks"]
    assert [f.severity for f in blocks] == ["high"] * 5
    assert home.result.findings[: len(blocks)] == tuple(blocks)  # they lead
    elem = next(f for f in blocks if f.message.startswith("script-src-elem"))
    assert elem.message == (
        "script-src-elem blocks 2 items in this page: 1 script from"
        " https://code.jquery.com (line 4); 1 inline <script> (line 5)"
    )


def test_table_shows_breaks_next_to_the_grade(app: Flask) -> None:
    result = invoke(app)
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert " A+ breaks " in rows["/"]
    assert "high: style-src-elem blocks 1 item in this page" in rows["/"]
    assert " A+ " in rows["/fine"] and "breaks" not in rows["/fine"]


def test_details_list_each_blocked_item(app: Flask) -> None:
    # One route: with details; None: a pipe, one line per row.
    lines = print_table([audit_app(app)[0]], width=None)
    text = click.unstyle("\n".join(lines))
    assert "grade A+ breaks  score 125" in text
    assert "Blocked by the CSP" in text
    line = next(row for row in text.splitlines() if "confirm('Delete?')" in row)
    assert line.split()[:2] == ["9", "script-src-attr"]


def test_json_has_the_verdict_and_the_blocked_items(app: Flask) -> None:
    result = invoke(app, "--json")
    assert result.exit_code == 0, result.output
    routes = {r["path"]: r for r in json.loads(result.stdout)}
    home = routes["/"]
    assert (home["grade"], home["verdict"]) == ("A+", "breaks")
    assert routes["/fine"]["verdict"] == "ok"
    assert set(home["blocked"][0]) == {
        "directive", "kind", "element", "line", "url", "sample", "when", "policy",
        "fix",
    }  # fmt: skip
    assert {b["directive"] for b in home["blocked"]} >= {"img-src", "style-src-attr"}
    assert home["reports"] == []


def test_html_report_shows_breaks(app: Flask, tmp_path: pathlib.Path) -> None:
    report = tmp_path / "report.html"
    result = invoke(app, "--html", str(report))
    assert result.exit_code == 0, result.output
    page = report.read_text()
    assert '<span class="breaks">breaks</span>' in page
    assert "Blocked by the CSP (" in page
    assert "1 page whose CSP blocks what the page uses" in page
    assert "confirm(&#39;Delete?&#39;)" in page and "confirm('" not in page


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((), 0),
        (("--min-grade", "A+"), 1),  # A+, but it breaks
        (("--min-grade", "A+", "--allow-breaks"), 0),
        (("--fail-on-breaks",), 1),
        (("--min-grade", "F", "--fail-on-breaks"), 1),
    ],
)
def test_min_grade_fails_on_breaks(
    app: Flask, args: tuple[str, ...], code: int
) -> None:
    result = invoke(app, *args)
    assert result.exit_code == code, result.output
    if code:
        assert result.stderr.startswith(
            "1 of 3 break (the CSP blocks what the page uses; --allow-breaks to"
            " accept):\n  A+  1"
        )
        assert "  /  " in result.stderr and "script-src-elem x2" in result.stderr
        assert "below" not in result.stderr


# -- grade_response ----------------------------------------------------------


def test_grade_response_reports_breaks_and_report_only_apart() -> None:
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", STRICT_CSP.to_header(nonce="n0nce-value")),
        ("Content-Security-Policy-Report-Only", "img-src 'none'"),
    ]
    body = '<script nonce="n0nce-value">ok()</script><img src="/logo.png"><p style="x">'
    result = grade_response(headers, body=body, url="https://example.org/")
    assert result.verdict == "breaks"
    assert [(b.directive, b.disposition, b.policy) for b in result.breaks] == [
        ("style-src-attr", "enforce", 0)
    ]
    assert [(b.directive, b.disposition, b.policy) for b in result.reports] == [
        ("img-src", "report", 1)
    ]
    (report,) = [f for f in result.findings if f.code == "csp-report-only-reports"]
    assert report.severity == "info"
    assert "would report 1 violation in this page: img-src ×1" in report.message
    # The grade does not change: the verdict sits next to it.
    plain = grade_response(headers, body="<p>x</p>", url="https://example.org/")
    assert (plain.score, plain.verdict) == (result.score, "ok")
    # with_tests keeps them.
    assert result.with_tests().breaks == result.breaks


def test_no_csp_no_body_or_not_html_means_no_breaks() -> None:
    body = "<script>x()</script>"
    assert grade_response([("Content-Type", "text/html")], body=body).breaks == ()
    csp = ("Content-Security-Policy", "script-src 'none'")
    assert grade_response([csp, ("Content-Type", "text/html")]).breaks == ()
    json_type = [csp, ("Content-Type", "application/json")]
    assert grade_response(json_type, body=body).breaks == ()
    assert (
        len(grade_response([csp, ("Content-Type", "text/html")], body=body).breaks) == 1
    )


def test_fix_names_the_directive_to_add_when_default_src_governs() -> None:
    headers = [("Content-Security-Policy", "default-src 'self'")]
    result = grade_response(
        headers,
        body='<iframe src="https://www.youtube.com/embed/x"></iframe>',
        url="https://example.org/",
        csp_source="blueprint:videos",
    )
    (item,) = result.breaks
    assert item.fix == (
        "add a frame-src directive: frame-src 'self' https://www.youtube.com"
        " (frame-src is unset, so default-src applies) in Content-Security-Policy"
        " (declared at blueprint:videos)"
    )


def test_inline_code_without_nonce_in_policy_gets_its_hash() -> None:
    headers = [("Content-Security-Policy", "script-src 'self'")]
    result = grade_response(headers, body="<script>init()</script>")
    (item,) = result.breaks
    assert item.fix.startswith("add NONCE to script-src in Content-Security-Policy")
    assert item.fix.endswith(f"or allow exactly this code with {hash_source('init()')}")
    assert item.sample == "init()"


def test_wrong_nonce_is_named() -> None:
    headers = [("Content-Security-Policy", "script-src 'nonce-abcdefgh'")]
    (item,) = grade_response(headers, body='<script nonce="old">x()</script>').breaks
    assert "its nonce is not this response's" in item.fix


# -- Live ------------------------------------------------------------------


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextlib.contextmanager
def serve(app: t.Any) -> cabc.Iterator[str]:
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_live_audit_shows_breaks(app: Flask) -> None:
    with serve(app) as url:
        result = CliRunner().invoke(audit_command, [url, "--json", "--fail-on-breaks"])
    assert result.exit_code == 1, result.output
    (route,) = json.loads(result.stdout)
    assert route["verdict"] == "breaks"
    assert (
        route["blocked"][0]["url"]
        == "https://cdn.jsdelivr.net/npm/bootstrap@5/dist/css/bootstrap.min.css"
    )
    assert "1 of 1 break" in result.stderr


# -- pytest plugin ---------------------------------------------------------


def test_assert_grade_fails_on_breaks_unless_allowed(app: Flask) -> None:
    response = app.test_client().get("/", base_url="https://localhost")
    with pytest.raises(AssertionError) as failure:
        assert_grade(response, "A+")
    message = str(failure.value)
    assert message.startswith(
        "grade A+ breaks (score 125) for https://localhost/: the CSP blocks 6"
        " items the page uses\nblocked by the CSP:\n  line 3: style-src-elem"
    )
    assert "      fix: stamp nonces into templates" in message
    assert_grade(response, "A+", allow_breaks=True)
    fine = app.test_client().get("/fine", base_url="https://localhost")
    assert_grade(fine, "A+")


def test_assert_grade_below_minimum_also_says_breaks(app: Flask) -> None:
    response = app.test_client().get("/")  # http://: no HSTS
    with pytest.raises(AssertionError) as failure:
        assert_grade(response, "A+", url="http://localhost/")
    first = str(failure.value).splitlines()[0]
    assert first == "grade B breaks (score 75) is below A+ for http://localhost/"


def test_header_audit_fixture_exposes_breaks(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        f"""
import pathlib
import pytest
from flask import Flask, render_template_string
from flask_header_policy import HeaderPolicy

@pytest.fixture
def app():
    app = Flask("plugged", static_folder=None)
    HeaderPolicy(app, preset="strict", stamp_nonces=False)
    page = {UNSTAMPED!r}
    app.add_url_rule("/", "home", lambda: render_template_string(page, title="t"))
    return app
"""
    )
    pytester.makepyfile(
        """
        def test_routes(header_audit):
            home = header_audit[0]
            assert (home.path, home.grade, home.verdict) == ("/", "A+", "breaks")
            assert len(home.breaks) == 6
        """
    )
    result = pytester.runpytest(*plugin_args(), "-q")
    result.assert_outcomes(passed=1)


def test_long_lists_are_cut_in_the_terminal_and_report() -> None:
    from flask_header_policy.audit.report import MAX_LISTED
    from flask_header_policy.audit.report import render_html
    from flask_header_policy.audit.results import RouteAudit

    headers = [("Content-Security-Policy", "img-src 'none'")]
    body = "".join(f"<img src=/{n}.png>" for n in range(MAX_LISTED + 7))
    result = grade_response(headers, body=body)
    assert len(result.breaks) == MAX_LISTED + 7
    audit = RouteAudit("/", "index", 200, result, headers)
    text = click.unstyle("\n".join(print_table([audit], width=None)))
    assert f"Blocked by the CSP ({MAX_LISTED + 7})" in text
    assert "(+7 more: --json lists all)" in text
    page = render_html([audit], title="t")
    assert "+7 more: <code>--json</code> lists all" in page
    assert f"/{MAX_LISTED - 1}.png" in page and f"/{MAX_LISTED}.png" not in page
