from __future__ import annotations

import collections.abc as cabc
import json
import pathlib

import hostile
import pytest
from click.testing import CliRunner
from click.testing import Result
from flask import Flask
from flask import Response
from flask.cli import FlaskGroup

from flask_header_policy import HeaderPolicy
from flask_header_policy.audit.app import audit_app
from flask_header_policy.audit.app import NOT_FOUND_PATH

#: The most body bytes the audit reads (docs/audit.rst, docs/live.rst).
MAX_BODY = 2_000_000
#: Enough for an A+: CSP +10, framing via CSP +5, Referrer +5, CORP +10.
GOOD = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
NOTE = "<script>alert('x')</script> & \"quotes\""


def make_app(static: pathlib.Path | None = None) -> Flask:
    app = Flask(
        "audited",
        static_folder=str(static) if static else None,
        static_url_path="/static",
    )
    policy = HeaderPolicy(app, headers=GOOD)

    @app.get("/")
    def index() -> str:
        return "<p>home</p>"

    @app.get("/weak")
    @policy.headers({"Content-Security-Policy": None})
    def weak() -> str:
        return "<p>weak</p>"

    @app.get("/note")
    @policy.headers({"X-Note": NOTE})
    def note() -> str:
        return "<p>note</p>"

    @app.get("/reused")
    def reused() -> tuple[str, dict[str, str]]:
        # Set by the view itself: the policy refuses a fixed nonce when it is
        # declared, and the audit still catches one written by hand.
        csp = "default-src 'none'; script-src 'nonce-abcdefgh123456'"
        return "<p>same nonce every time</p>", {"Content-Security-Policy": csp}

    @app.get("/user/<int:user_id>")
    def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.post("/form")
    def form() -> str:
        return "posted"

    return app


@pytest.fixture
def static(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("body { color: red }")
    (tmp_path / ".hidden").write_text("ignored")
    return tmp_path


def invoke(static: pathlib.Path, *args: str) -> Result:
    cli = FlaskGroup(create_app=lambda: make_app(static))
    return CliRunner().invoke(cli, ["headers", "audit", *args])


def test_audit_app_routes(static: pathlib.Path) -> None:
    audits = audit_app(make_app(static))
    assert [(a.path, a.endpoint, a.status) for a in audits] == [
        ("/", "index", 200),
        ("/note", "note", 200),
        ("/reused", "reused", 200),
        ("/weak", "weak", 200),
        (NOT_FOUND_PATH, None, 404),
        ("/static/css/site.css", "static", 200),
    ]
    by_path = {a.path: a for a in audits}
    assert by_path["/"].grade == "A+"
    assert by_path["/"].url == "https://localhost/"
    assert by_path["/weak"].result["content-security-policy"].score_modifier == -25
    assert ("X-Note", NOTE) in by_path["/note"].headers
    codes = [f.code for f in by_path["/reused"].result.findings]
    assert codes.count("csp-nonce-reused") == 1
    assert "csp-nonce-reused" not in [f.code for f in by_path["/"].result.findings]


def test_audit_app_extra_paths_and_progress(static: pathlib.Path) -> None:
    calls: list[tuple[int, int, str]] = []
    audits = audit_app(
        make_app(static),
        paths=["/user/7", "missing-slash"],
        on_progress=lambda done, total, path: calls.append((done, total, path)),
    )
    extra = [(a.path, a.endpoint, a.status) for a in audits[-2:]]
    assert extra == [("/user/7", "user", 200), ("/missing-slash", None, 404)]
    assert calls[0] == (0, 8, "/")
    assert calls[-1] == (8, 8, "")


def test_audit_app_without_extension_or_static() -> None:
    app = Flask("bare", static_folder=None)
    app.add_url_rule("/", "index", lambda: "hi")
    app.add_url_rule("/page/", "page", lambda n: str(n), defaults={"n": 1})
    audits = audit_app(app)
    assert [a.path for a in audits] == ["/", "/page/", NOT_FOUND_PATH]
    assert {(a.grade, a.score) for a in audits} == {("D", 30)}


def test_audit_app_uses_server_name() -> None:
    app = Flask("named")
    app.config["SERVER_NAME"] = "example.test"
    app.add_url_rule("/", "index", lambda: "hi")
    audits = audit_app(app, paths=["/"])
    assert [(a.url, a.endpoint, a.status) for a in audits] == [
        ("https://example.test/", "index", 200),
        (f"https://example.test{NOT_FOUND_PATH}", None, 404),
    ]


def raising_app(testing: bool) -> Flask:
    app = Flask("broken")
    app.testing = testing
    HeaderPolicy(app, headers=GOOD)

    @app.get("/")
    def index() -> str:
        return "<p>fine</p>"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("kaput\nsecond line")

    @app.get("/stream-boom")
    def stream_boom() -> Response:
        def body() -> cabc.Iterator[str]:
            yield "<p>"
            raise LookupError("mid-stream")

        return Response(body(), mimetype="text/html")

    return app


@pytest.mark.parametrize("testing", [True, False])
def test_audit_app_view_error_is_a_row(
    testing: bool, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    app = raising_app(testing)
    by_path = {a.path: a for a in audit_app(app)}
    boom = by_path["/boom"]
    assert (boom.endpoint, boom.status, boom.error) == (
        "boom",
        500,
        "RuntimeError: kaput",
    )
    assert (boom.grade, boom.score, boom.headers) == ("F", 0, [])
    (finding,) = boom.result.findings
    assert (finding.severity, finding.code) == ("high", "view-raised")
    assert "GET /boom raised RuntimeError: kaput" in finding.message
    assert by_path["/stream-boom"].error == "LookupError: mid-stream"
    assert by_path["/"].error is None and by_path["/"].grade == "A+"
    # Not Flask's 500 page graded A+, and no traceback logged.
    assert capsys.readouterr().err == ""
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert app.config["PROPAGATE_EXCEPTIONS"] is None  # restored


def test_cli_shows_view_error_everywhere(tmp_path: pathlib.Path) -> None:
    report = tmp_path / "report.html"
    cli = FlaskGroup(create_app=lambda: raising_app(False))
    args = ["headers", "audit", "--html", str(report), "--min-grade", "F"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output  # an error fails even --min-grade F
    assert "Traceback" not in result.output
    row = next(line for line in result.stdout.splitlines() if line.startswith("/boom "))
    assert row.split()[:5] == ["/boom", "boom", "error", "F", "0"]
    assert "high: GET /boom raised RuntimeError: kaput" in row
    assert "  error  /boom\n" in result.stderr
    assert 'The view raised</strong> <span class="mono">RuntimeError: kaput' in (
        report.read_text("utf-8")
    )
    data = json.loads(CliRunner().invoke(cli, ["headers", "audit", "--json"]).stdout)
    boom = next(route for route in data if route["path"] == "/boom")
    assert (boom["error"], boom["grade"], boom["status"]) == (
        "RuntimeError: kaput",
        "F",
        500,
    )
    assert boom["findings"][0]["code"] == "view-raised"


def test_audit_app_reads_a_streamed_body_up_to_the_cap() -> None:
    app = Flask("endless")
    sent = 0
    closed = []

    @app.get("/")
    def endless() -> Response:
        def body() -> cabc.Iterator[bytes]:
            nonlocal sent
            try:
                # "Endless": 64 MiB, so that reading it all fails, not hangs.
                while sent < 64 << 20:
                    sent += 65536
                    yield b"<p>" + b"x" * 65533
            finally:
                closed.append(True)

        return Response(body(), mimetype="text/html")

    (audit, *_) = audit_app(app)
    assert sent <= MAX_BODY + 65536
    assert closed == [True]
    (finding,) = [f for f in audit.result.findings if f.code == "body-truncated"]
    assert f"after {MAX_BODY:,} bytes" in finding.message


def test_audit_app_decodes_with_the_same_bounds() -> None:
    app = Flask("compressed")
    bomb = hostile.gzip_bytes(hostile.gzip_zeros(64 << 20))
    app.add_url_rule(
        "/",
        "bomb",
        lambda: Response(
            bomb, mimetype="text/html", headers={"Content-Encoding": "gzip, gzip"}
        ),
    )
    app.add_url_rule(
        "/zstd",
        "zstd",
        lambda: Response(
            b"x", mimetype="text/html", headers={"Content-Encoding": "zstd"}
        ),
    )
    by_path = {a.path: a for a in audit_app(app)}
    codes = [f.code for f in by_path["/"].result.findings]
    assert "body-truncated" in codes
    (unread,) = [
        f for f in by_path["/zstd"].result.findings if f.code == "body-not-decoded"
    ]
    assert "Content-Encoding 'zstd' is not supported" in unread.message


def test_cli_table(static: pathlib.Path) -> None:
    result = invoke(static)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "Route", "Endpoint", "Status", "Grade", "Score", "Top", "findings"
    ]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines[1:] if line[:1] == "/"}
    assert rows["/"][1:5] == ["index", "200", "A+", "130"]
    assert rows["/weak"][1:4] == ["weak", "200", "C"]
    assert rows[NOT_FOUND_PATH][1:6] == ["(no", "route:", "404)", "404", "A+"]
    assert rows["/static/css/site.css"][1:7] == [
        "(text/css:", "not", "a", "page)", "static", "200"
    ]  # fmt: skip
    assert "csp-nonce-reused" not in result.stdout  # the table shows messages
    assert "is the same on two responses" in result.stdout


def test_cli_progress_on_stderr(static: pathlib.Path) -> None:
    result = invoke(static, "--json")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "auditing 1/6 /",
        "auditing 2/6 /note",
        "auditing 3/6 /reused",
        "auditing 4/6 /weak",
        f"auditing 5/6 {NOT_FOUND_PATH}",
        "auditing 6/6 /static/css/site.css",
    ]
    json.loads(result.stdout)  # stdout stays machine-readable


def test_cli_json_is_exact(static: pathlib.Path) -> None:
    result = invoke(static, "--json", "--url", "/user/3")
    assert result.exit_code == 0, result.output
    routes = json.loads(result.stdout)
    assert [r["path"] for r in routes][-1] == "/user/3"
    home = routes[0]
    assert set(home) == {
        "path", "endpoint", "document", "url", "status", "error", "grade",
        "score", "verdict", "tests", "findings", "blocked", "reports", "headers",
        "redirects",
    }  # fmt: skip
    assert (home["verdict"], home["blocked"], home["reports"]) == ("ok", [], [])
    assert home["document"] is True
    (css,) = [r for r in routes if r["path"].endswith(".css")]
    assert css["document"] is False  # a stylesheet, not a page
    assert {k: home[k] for k in ("path", "endpoint", "url", "status")} == {
        "path": "/",
        "endpoint": "index",
        "url": "https://localhost/",
        "status": 200,
    }
    assert (home["grade"], home["score"], home["redirects"]) == ("A+", 130, [])
    tests = {t["name"]: t for t in home["tests"]}
    assert tests["content-security-policy"] == {
        "name": "content-security-policy",
        "result": "csp-implemented-with-no-unsafe-default-src-none",
        "score_modifier": 10,
    }
    assert "redirection" not in tests  # needs a live scan
    assert ["Referrer-Policy", "no-referrer"] in home["headers"]
    user = routes[-1]
    assert (user["endpoint"], user["status"]) == ("user", 200)
    (reused,) = [f for f in routes[2]["findings"] if f["code"] == "csp-nonce-reused"]
    assert set(reused) == {"severity", "code", "message", "fix"}
    assert reused["severity"] == "high"


def test_cli_html_report(static: pathlib.Path, tmp_path: pathlib.Path) -> None:
    report = tmp_path / "report.html"
    result = invoke(static, "--html", str(report))
    assert result.exit_code == 0, result.output
    assert f"wrote {report}" in result.stderr
    page = report.read_text("utf-8")
    assert page.startswith("<!doctype html>")
    assert "<style>" in page and "<link" not in page and "src=" not in page
    assert ">A+</span>" in page and ">C</span>" in page
    assert "alert(&#39;x&#39;)" in page and "&lt;script&gt;" in page
    assert "&amp; &#34;quotes&#34;" in page
    assert "<script>" not in page
    assert "csp-implemented-with-no-unsafe-default-src-none" in page
    assert "Fix:" in page


@pytest.mark.parametrize(("minimum", "code"), [("F", 0), ("c", 0), ("A", 1), ("A+", 1)])
def test_cli_min_grade(static: pathlib.Path, minimum: str, code: int) -> None:
    result = invoke(static, "--min-grade", minimum)
    assert result.exit_code == code, result.output
    if code:
        failures = result.stderr.split(f"below {minimum.upper()}:\n")[1]
        assert "/weak" in failures
        assert "/static" not in failures


def test_cli_min_grade_rejects_unknown_grade(static: pathlib.Path) -> None:
    result = invoke(static, "--min-grade", "E")
    assert result.exit_code == 2
    assert "'E' is not a grade: use one of A+, A, A-, B+," in result.output
