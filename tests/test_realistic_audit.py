"""``flask headers audit`` and ``assert_grade`` on the realistic app.

``tests/apps/realistic.py`` mimics what breaks real apps under a strict CSP.
With stamping on, every page it has (the blueprint's too) grades A+ and
nothing "breaks", except what docs/tutorials/strict-csp.rst lists as needing
a code change (a helper's Markup through ``| trust_scripts``, the image host in
``img-src``): without those two, exactly their items break; with them,
nothing. No browser is needed: the audit reads the HTML in process. (What
Chromium blocks on the same app is compared in
``tests/browser/test_realistic_breaks.py``.)
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from click.testing import Result
from flask import Flask
from flask.cli import FlaskGroup
from tests.apps.realistic import create_app

from flask_header_policy.pytest_plugin import assert_grade

#: A CDN over https, as real ones are (the audit fetches nothing from it).
CDN = "https://cdn.example.test"
NOT_FOUND = "/__header_policy_audit_404__"
#: Every page the audit grades: the app's, the admin blueprint's, the 404.
PAGES = ["/", "/admin/", NOT_FOUND]


def audit(app: Flask, *args: str) -> Result:
    cli = FlaskGroup(create_app=lambda: app)
    return CliRunner().invoke(cli, ["headers", "audit", *args])


def grades(output: str) -> dict[str, str]:
    """Route -> its "Grade" cell in the table (``"A+"``, ``"A+ breaks"``)."""
    header, *lines = output.splitlines()
    start, end = header.index("Grade"), header.index("Score")
    return {
        line.split()[0]: line[start:end].strip()
        for line in lines
        if line.startswith("/")
    }


def test_stamped_app_grades_a_plus_and_nothing_breaks() -> None:
    app = create_app(CDN)
    result = audit(app, "--json", "--min-grade", "A+")
    assert result.exit_code == 0, result.output
    routes = json.loads(result.output)
    assert [route["path"] for route in routes] == PAGES
    for route in routes:
        assert route["document"], route["path"]
        assert (route["grade"], route["verdict"]) == ("A+", "ok"), route["path"]
        assert route["blocked"] == [], route["path"]
        assert not [f for f in route["findings"] if f["code"] == "csp-blocks"]

    table = audit(app, "--min-grade", "A+")
    assert table.exit_code == 0, table.output
    assert "breaks" not in table.output
    assert grades(table.output) == dict.fromkeys(PAGES, "A+")

    client = app.test_client()
    for path in PAGES:
        response = client.get(path, base_url="https://localhost")
        assert "nonce=" in response.get_data(as_text=True) or path == NOT_FOUND
        assert_grade(response, "A+")


def test_without_the_documented_fixes_only_they_break() -> None:
    """The app before its two code changes: the helper's scripts (Python
    Markup, which stamping never touches) and the other host's image."""
    app = create_app(CDN, fixes=False)
    result = audit(app, "--json")
    assert result.exit_code == 0, result.output  # no --min-grade: report only
    routes = {route["path"]: route for route in json.loads(result.output)}
    assert list(routes) == PAGES
    assert {path: route["grade"] for path, route in routes.items()} == dict.fromkeys(
        PAGES, "A+"
    )
    assert {path: route["verdict"] for path, route in routes.items()} == {
        "/": "breaks", "/admin/": "ok", NOT_FOUND: "ok",
    }  # fmt: skip
    blocked = [
        (item["directive"], item["kind"], item["url"] or item["sample"][:24])
        for item in routes["/"]["blocked"]
    ]
    assert blocked == [
        ("script-src-elem", "script", f"{CDN}/moment.js"),
        ("script-src-elem", "inline-script", "\nfunction flask_moment_r"),
        ("img-src", "image", f"{CDN}/avatar.svg"),
    ]
    fixes = [item["fix"] for item in routes["/"]["blocked"]]
    assert all("| trust_scripts" in fix for fix in fixes[:2])
    # The app stamps already: the fix says what stamping can't reach, and
    # does not tell to turn it on.
    assert all(fix.startswith("stamping is on, so this is not") for fix in fixes[:2])
    assert not any("stamp_nonces=True" in fix for fix in fixes)
    assert fixes[2] == (
        f"add {CDN} to img-src in Content-Security-Policy (declared at app)"
    )

    table = audit(app, "--min-grade", "A+")
    assert table.exit_code == 1
    assert grades(table.stdout) == {"/": "A+ breaks", "/admin/": "A+", NOT_FOUND: "A+"}
    assert "1 of 3 break" in table.stderr
    assert "  /  script-src-elem x2, img-src x1" in table.stderr

    response = app.test_client().get("/", base_url="https://localhost")
    with pytest.raises(AssertionError) as failure:
        assert_grade(response, "A+")
    message = str(failure.value)
    assert message.startswith("grade A+ breaks (score 125) for https://localhost/")
    assert f'img-src <img src="{CDN}/avatar.svg">' in message
    assert f'script-src-elem <script src="{CDN}/moment.js">' in message
    assert_grade(response, "A+", allow_breaks=True)
    admin = app.test_client().get("/admin/", base_url="https://localhost")
    assert_grade(admin, "A+")


def test_without_stamping_every_page_with_markup_breaks() -> None:
    """The same app with stamping off: the audit's breaks, whose counts
    ``tests/browser/test_realistic_breaks.py`` checks against Chromium."""
    app = create_app(CDN, stamp_nonces=False)
    result = audit(app, "--json")
    routes = {route["path"]: route for route in json.loads(result.output)}
    assert {path: route["verdict"] for path, route in routes.items()} == {
        "/": "breaks", "/admin/": "breaks", NOT_FOUND: "ok",
    }  # fmt: skip
    assert {path: route["grade"] for path, route in routes.items()} == dict.fromkeys(
        PAGES, "A+"
    )
