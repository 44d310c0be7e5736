"""``flask headers show`` and ``flask headers audit`` read well in an 80-
and a 120-column terminal and in a pipe, with plain text only."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tomllib

import pytest
from click.testing import CliRunner
from flask import Flask
from flask import make_response
from flask import Response
from flask.cli import FlaskGroup

from flask_header_policy import HeaderPolicy
from flask_header_policy._show import render
from flask_header_policy._text import wrap
from flask_header_policy.cli import route_headers

ROOT = pathlib.Path(__file__).resolve().parents[1]


def strict_app() -> Flask:
    app = Flask("strict_cli")
    policy = HeaderPolicy(app, preset="strict")

    @app.get("/")
    def index() -> str:
        return "<p>hi</p>"

    @app.get("/cached")
    @policy.headers({"Cache-Control": "no-store", "X-Request": lambda rq, rs: rq.path})
    def cached() -> Response:
        response = make_response({"n": 1})
        response.cache_control.max_age = 60
        return response

    @app.get("/user/<int:user_id>")
    def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    return app


def show(*args: str, columns: int | None = None, create: object = strict_app) -> str:
    env = {"COLUMNS": str(columns)} if columns else {}
    cli = FlaskGroup(create_app=create)  # type: ignore[arg-type]
    result = CliRunner().invoke(cli, ["headers", "show", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def _declared(app: Flask) -> tuple[set[str], set[str]]:
    """Every header name and every whitespace-separated token of a value."""
    names: set[str] = set()
    tokens: set[str] = set()
    for row in route_headers(app):
        for header in row["headers"]:
            names.add(header["name"])
            tokens.update(header["declared_value"].split())
    return names, tokens


@pytest.mark.parametrize("columns", [80, 120])
def test_show_fits_the_terminal_and_breaks_no_name_or_token(columns: int) -> None:
    output = show(columns=columns)
    lines = output.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert all(line == line.rstrip() for line in lines)
    words = {word.strip("[],") for line in lines for word in line.split()}
    names, tokens = _declared(strict_app())
    for name in names:
        assert f"{name}:" in words or name in words, name
    # Every token of every value is on one line, whole.
    missing = {tok for tok in tokens if tok not in output.replace("\n", "\n ").split()}
    assert not {t for t in missing if t.rstrip(";,") not in words}


def test_narrow_terminal_gets_one_block_per_route() -> None:
    lines = show(columns=80).splitlines()
    assert not lines[0].startswith("Endpoint")
    titles = [line for line in lines if line and not line.startswith(" ")]
    assert titles == [
        "index  GET  /",
        "cached  GET  /cached",
        "static  GET  /static/<path:filename>",
        "user  GET  /user/<int:user_id>",
        "(unmatched URL: 404/405)",
    ]
    # A header is a "Name: value" line, continued with an indent.
    assert "  X-Frame-Options: DENY  [preset:strict]" in lines
    csp = lines.index(next(x for x in lines if x.startswith("  Content-Security")))
    assert lines[csp + 1].startswith("      ")


def test_wide_terminal_gets_a_table_when_it_fits() -> None:
    def small() -> Flask:
        app = Flask("small")
        HeaderPolicy(app, headers={"X-Frame-Options": "DENY"})
        app.get("/")(lambda: "hi")
        return app

    lines = show(columns=120, create=small).splitlines()
    assert lines[0].split() == [
        "Endpoint", "Methods", "Rule", "Header", "Value", "Layer", "Mode"
    ]  # fmt: skip
    assert max(len(line) for line in lines) <= 120


def test_piped_output_has_one_line_per_header_and_no_trailing_spaces() -> None:
    output = show()
    lines = output.splitlines()
    assert all(line == line.rstrip() for line in lines)
    (csp,) = [x for x in lines if "Content-Security-Policy" in x and "cached" in x]
    assert "frame-ancestors 'none' (other types: default-src 'none';" in csp


def test_wrap_breaks_at_spaces_and_semicolons_only() -> None:
    value = "default-src 'none'; script-src 'nonce-{nonce}' 'strict-dynamic'"
    assert wrap(value, 30) == [
        "default-src 'none'; script-src",
        "'nonce-{nonce}'",
        "'strict-dynamic'",
    ]
    assert wrap("a;b;c", 3) == ["a;", "b;c"]
    assert wrap("x" * 10, 4) == ["xxxx", "xxxx", "xx"]  # wider than the column


def test_control_characters_are_shown_escaped() -> None:
    app = Flask("ctl")
    HeaderPolicy(app, headers={"X-A": "1"})
    app.add_url_rule("/x", endpoint="evil\x1b[31m\x9b", view_func=lambda: "x")
    lines = render(route_headers(app), 80) + render(route_headers(app), None)
    text = "\n".join(lines)
    assert "\x1b" not in text and "\x9b" not in text
    assert "evil\\x1b[31m\\x9b" in text


def test_help_says_it_shows_the_declared_headers() -> None:
    cli = FlaskGroup(create_app=strict_app)
    result = CliRunner().invoke(cli, ["headers", "show", "--help"])
    assert "declared" in result.output
    assert "--check" in result.output


def test_check_marks_the_headers_a_view_overrode() -> None:
    rows = json.loads(show("--check", "--json"))
    by_endpoint = {row["endpoint"]: row for row in rows}
    cached = {h["name"]: h["check"] for h in by_endpoint["cached"]["headers"]}
    assert cached["Cache-Control"] == {
        "status": "overridden",
        "sent": "max-age=60",
        "why": "",
    }
    assert cached["X-Frame-Options"]["status"] == "sent"
    assert cached["X-Request"] == {"status": "sent", "sent": "/cached", "why": ""}
    # The nonce is per response: the template matches any nonce.
    assert cached["Content-Security-Policy"]["status"] == "sent"  # other types
    index = {h["name"]: h["check"] for h in by_endpoint["index"]["headers"]}
    assert index["Content-Security-Policy"]["status"] == "sent"
    assert "'nonce-" in index["Content-Security-Policy"]["sent"]
    assert by_endpoint["index"]["checked"] == {"path": "/", "status": 200}
    assert by_endpoint["user"]["checked"] is None
    assert {h["check"]["status"] for h in by_endpoint["user"]["headers"]} == {
        "not requested"
    }
    text = show("--check", columns=80)
    assert "the response's own value won: max-age=60" in text
    assert "not requested" in text


def stamped_app() -> Flask:
    from flask import render_template_string

    app = Flask("stamped_cli")
    policy = HeaderPolicy(app, preset="strict")

    @app.get("/")
    def index() -> str:
        return render_template_string(
            '<button onclick="go()">Go</button><p style="color: red">x</p>'
        )

    @app.get("/own")
    @policy.headers({"X-Frame-Options": "DENY"})
    def own() -> Response:
        response = make_response(render_template_string('<p style="x: 1">x</p>'))
        response.headers["Content-Security-Policy"] = "default-src 'self'"
        return response

    return app


def test_check_knows_the_hashes_stamping_adds() -> None:
    """A stamped page's CSP is the declared one plus its templates' hashes:
    the policy's value, not the view's own."""
    rows = json.loads(show("--check", "--json", create=stamped_app))
    by_endpoint = {row["endpoint"]: row for row in rows}
    index = {h["name"]: h["check"] for h in by_endpoint["index"]["headers"]}
    csp = index["Content-Security-Policy"]
    assert "script-src-attr 'unsafe-hashes' 'sha256-" in csp["sent"]
    assert csp["status"] == "sent", csp
    # A view's own CSP is still told apart.
    own = {h["name"]: h["check"] for h in by_endpoint["own"]["headers"]}
    assert own["Content-Security-Policy"]["status"] == "overridden"
    assert own["Content-Security-Policy"]["sent"].startswith("default-src 'self'")
    assert "the response's own value won" not in show(
        "--check", "--endpoint", "index", create=stamped_app
    )


def test_show_without_check_requests_nothing() -> None:
    calls: list[str] = []

    def counting() -> Flask:
        app = strict_app()
        app.before_request(lambda: calls.append("request") and None)
        return app

    show(create=counting)
    assert calls == []
    show("--check", create=counting)
    assert len(calls) == 3  # /, /cached and the 404 page; no static file


# The audit's terminal output.


@pytest.mark.parametrize("columns", [80, 120])
def test_audit_fits_the_terminal(columns: int) -> None:
    cli = FlaskGroup()
    result = CliRunner().invoke(
        cli,
        ["--app", "examples.security:strict_app", "headers", "audit"],
        env={"COLUMNS": str(columns)},
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert all(line == line.rstrip() for line in lines)
    # The stylesheet is marked (the mark may wrap in the Route column).
    assert "(text/css: not" in result.stdout and "a page)" in result.stdout


def test_audit_html_title_names_the_app_as_given(tmp_path: pathlib.Path) -> None:
    report = tmp_path / "report.html"
    result = CliRunner().invoke(
        FlaskGroup(),
        ["--app", "examples.security:basic_app", "headers", "audit",
         "--html", str(report)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = report.read_text("utf-8")
    assert "<title>Header audit: examples.security:basic_app</title>" in page
    assert "not a page" in page  # the stylesheet


def test_audit_algorithm_option() -> None:
    args = ["--app", "examples.security:strict_app", "headers", "audit", "--json"]
    v5 = json.loads(CliRunner().invoke(FlaskGroup(), args).stdout)
    v6 = json.loads(
        CliRunner().invoke(FlaskGroup(), [*args, "--algorithm", "6"]).stdout
    )
    tests5 = {t["name"] for t in v5[0]["tests"]}
    tests6 = {t["name"]: t for t in v6[0]["tests"]}
    assert "cross-origin-opener-policy" not in tests5
    assert tests6["cross-origin-opener-policy"]["score_modifier"] == 10
    assert v6[0]["score"] == v5[0]["score"] + 10
    bad = CliRunner().invoke(FlaskGroup(), [*args, "--algorithm", "4"])
    assert bad.exit_code == 2


# Rich is gone: the CLI needs nothing but Click.


def test_the_cli_and_audit_import_no_rich() -> None:
    code = (
        "import sys, flask_header_policy.cli, flask_header_policy.audit.report,"
        " flask_header_policy.audit.cli; print('rich' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_runtime_dependencies_are_what_the_core_needs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    names = {dep.split(">")[0].split("[")[0] for dep in project["dependencies"]}
    assert names == {"flask", "http-sf"}
    readme = (ROOT / "README.md").read_text("utf-8")
    for name in names:
        assert f"`{name}`" in readme  # each one justified
