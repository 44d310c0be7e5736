from __future__ import annotations

import importlib.metadata
import os

import httpx
import pytest
from werkzeug.wrappers import Response

from flask_header_policy.pytest_plugin import assert_grade
from flask_header_policy.pytest_plugin import assert_headers

pytest_plugins = ["pytester"]
PLUGIN = "flask_header_policy.pytest_plugin"

GOOD = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=63072000",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}

CONFTEST = f"""
import pytest
from flask import Flask
from flask_header_policy import HeaderPolicy

GOOD = {GOOD!r}


@pytest.fixture
def app():
    app = Flask("plugged")
    HeaderPolicy(app, headers=GOOD)
    app.add_url_rule("/", "index", lambda: "<p>hi</p>")
    app.add_url_rule("/bare", "bare", lambda: ("<p>bare</p>", {{"Server": "x/1"}}))
    app.add_url_rule("/user/<int:n>", "user", lambda n: str(n))
    return app
"""


def plugin_args() -> list[str]:
    """``-p`` for the plugin, unless its entry point loads it already.

    Loading it by module path while an entry point of another name registered
    it fails ("Plugin already registered under a different name").
    """
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return ["-p", PLUGIN]
    for entry in importlib.metadata.entry_points(group="pytest11"):
        if entry.value == PLUGIN and entry.name != PLUGIN:
            return []
    return ["-p", PLUGIN]


def run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(source)
    # In process, this module has imported the plugin already: not rewritable.
    return pytester.runpytest(
        *plugin_args(), "-q", "-W", "ignore::pytest.PytestAssertRewriteWarning"
    )


def test_assert_headers_passes_and_fails(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        from flask_header_policy.pytest_plugin import assert_headers

        def test_ok(app):
            response = app.test_client().get("/")
            assert_headers(response, {"referrer-policy": "no-referrer", "Server": None})

        def test_bad(app):
            response = app.test_client().get("/bare")
            assert_headers(response, {
                "Referrer-Policy": "same-origin",
                "X-Missing": "1",
                "Server": None,
                "X-Content-Type-Options": "nosniff",
            })
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: 3 headers differ from expected:",
            "E         Referrer-Policy:",
            "E           - expected: 'same-origin'",
            "E           + actual:   'no-referrer'",
            "E         X-Missing: missing (expected '1')",
            "E         Server: should be absent, but is 'x/1'",
        ]
    )


def test_assert_grade_passes_and_fails(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        from flask_header_policy.pytest_plugin import assert_grade

        def test_ok(app):
            assert_grade(app.test_client().get("/", base_url="https://localhost"), "A+")

        def test_lower_bar(app):
            assert_grade(app.test_client().get("/"), "B")

        def test_bad(app):
            assert_grade(app.test_client().get("/"), "A+", url="http://localhost/")
        """,
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: grade B+ (score 80) is below A+"
            " for http://localhost/",
            "E       tests that cost points:",
            "E          -20  strict-transport-security:"
            " hsts-not-implemented-no-https (*)",
            "E       top findings:",
            "E         [[]info[]] csp-no-reporting: *",
            "E             fix: *",
        ]
    )


def test_header_audit_fixture(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        def test_routes(header_audit):
            assert [(a.path, a.grade) for a in header_audit] == [
                ("/", "A+"),
                ("/bare", "A+"),
                ("/__header_policy_audit_404__", "A+"),
            ]

        @pytest.mark.header_audit(paths=["/user/5"])
        def test_paths(header_audit):
            assert (header_audit[-1].path, header_audit[-1].endpoint) == (
                "/user/5", "user"
            )
        """,
    )
    result.assert_outcomes(passed=2)


def test_header_audit_fixture_bounds_bodies_and_reports_view_errors(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        import pytest
        from flask import Response

        @pytest.fixture
        def app(app):
            app.testing = True
            sent = app.config["SENT"] = [0]

            def endless():
                while sent[0] < 64 << 20:  # far past the cap, but finite
                    sent[0] += 65536
                    yield "<p>" + "x" * 65533

            app.add_url_rule(
                "/endless", "endless", lambda: Response(endless(), mimetype="text/html")
            )

            def boom():
                raise KeyError("gone")

            app.add_url_rule("/boom", "boom", boom)
            return app

        def test_rows(app, header_audit):
            rows = {a.path: a for a in header_audit}
            assert rows["/boom"].error == "KeyError: 'gone'"
            assert rows["/boom"].grade == "F"
            codes = [f.code for f in rows["/endless"].result.findings]
            assert "body-truncated" in codes
            assert app.config["SENT"][0] <= 2_000_000 + 65536
        """,
    )
    result.assert_outcomes(passed=1)
    assert "Traceback" not in result.stdout.str()


def test_assert_headers_on_werkzeug_and_httpx() -> None:
    werkzeug = Response("x", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert_headers(werkzeug, {"set-cookie": ["a=1", "b=2"], "X-Nope": None})
    assert_headers(werkzeug, {"Set-Cookie": "a=1, b=2"})
    remote = httpx.Response(200, headers=[("X-Frame-Options", "DENY")])
    assert_headers(remote, {"x-frame-options": "DENY", "Server": None})
    with pytest.raises(AssertionError, match=r"- expected: \['a=1'\]"):
        assert_headers(werkzeug, {"Set-Cookie": ["a=1"]})


def test_assert_grade_on_httpx() -> None:
    remote = httpx.Response(200, headers=GOOD, html="<p>hi</p>")
    assert_grade(remote, "A+")
    with pytest.raises(AssertionError, match="grade D"):
        assert_grade(httpx.Response(200, html="<p>hi</p>"), "A")
    with pytest.raises(ValueError, match="unknown grade 'Z'"):
        assert_grade(remote, "Z")


def test_assert_grade_uses_the_url_the_response_was_served_at() -> None:
    served = httpx.Response(
        200,
        headers=GOOD,
        html="<p>hi</p>",
        request=httpx.Request("GET", "http://example.test/"),
    )
    # Over plain HTTP, HSTS is "not implemented, no HTTPS": the grade drops.
    with pytest.raises(AssertionError, match="for http://example.test/"):
        assert_grade(served, "A+")
    assert_grade(served, "A+", url="https://example.test/")
