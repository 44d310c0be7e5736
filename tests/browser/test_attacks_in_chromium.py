"""An attacker against stamping, in Chromium: injected scripts never run.

Each attack of ``tests/apps/attacks.py`` is loaded under ``strict`` with
stamping: the template's own scripts run as many times as the attack says,
the payload's never does, and where the payload holds something the browser
would run, Chromium reports it blocked (so the test sees a blocked script,
not a payload that happened to be inert).
"""

from __future__ import annotations

import typing as t
import urllib.parse

import pytest
from flask import Flask
from flask import render_template_string
from flask import request
from tests.apps.attacks import ATTACKS
from tests.apps.attacks import create_app
from tests.apps.attacks import OWN
from tests.apps.attacks import PWN
from violations import violations
from violations import watch_violations

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy import NONCE
from flask_header_policy import STRICT_DYNAMIC

if t.TYPE_CHECKING:
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


class Serve(t.Protocol):
    def __call__(self, app: Flask, *, tls: bool = False) -> str: ...


@pytest.fixture
def base(serve: Serve, context: BrowserContext) -> str:
    watch_violations(context)
    return serve(create_app())


@pytest.mark.parametrize("name", ATTACKS)
def test_injected_script_does_not_run(base: str, page: Page, name: str) -> None:
    attack = ATTACKS[name]
    query = urllib.parse.urlencode({"q": attack.payload})
    response = page.goto(f"{base}/attack/{name}?{query}")
    assert response is not None and response.ok
    # Scripts run (or are blocked) while the page loads: no grace period.
    seen = violations(page, at_least=1 if attack.blocked else 0, grace_ms=0)
    assert page.evaluate("window.pwned") is None, seen
    assert page.evaluate("window.own || 0") == attack.own, seen
    if attack.blocked:
        assert {v["directive"] for v in seen} <= {"script-src-elem", "script-src-attr"}


def test_the_attacks_run_without_the_policy(serve: Serve, page: Page) -> None:
    """The control: without a CSP, each payload reported above runs, so the
    test above shows the CSP and stamping holding, not a dud payload."""
    base = serve(create_app(policy=False))
    for name, attack in ATTACKS.items():
        if attack.blocked:
            query = urllib.parse.urlencode({"q": attack.payload})
            page.goto(f"{base}/attack/{name}?{query}")
            page.wait_for_function("() => window.pwned === true")


# What a nonce cannot do: vouch for what a trusted script puts in the page,
# or for a value put into a script's code.


TEMPLATE_CLONE = (
    "<!doctype html><body><template id=t><p>{{ q|safe }}</p>"
    f"<script>{OWN}</script></template><script>"
    "document.body.append(document.getElementById('t').content.cloneNode(true))"
    "</script>"
)


@pytest.mark.parametrize("strict_dynamic", [False, True])
def test_template_content_a_trusted_script_clones(
    serve: Serve, context: BrowserContext, page: Page, strict_dynamic: bool
) -> None:
    """A stamped script clones a ``<template>`` that holds the attacker's
    markup. The clone of the template's own script keeps its nonce and
    runs; the injected one has none: a nonce-only policy blocks it. Under
    ``'strict-dynamic'`` (the strict preset) a script that a trusted script
    inserts runs without one: stamping cannot help there, the README says
    so (sanitize HTML that scripts insert)."""
    watch_violations(context)
    app = Flask("template_clone")
    app.testing = True
    sources = [NONCE, STRICT_DYNAMIC] if strict_dynamic else [NONCE]
    csp = ContentSecurityPolicy({"script-src": sources})
    HeaderPolicy(app, headers={"Content-Security-Policy": csp}, stamp_nonces=True)

    @app.get("/")
    def index() -> str:
        return render_template_string(TEMPLATE_CLONE, q=request.args["q"])

    query = urllib.parse.urlencode({"q": f"<script>{PWN}</script>"})
    page.goto(f"{serve(app)}/?{query}")
    page.wait_for_function("() => window.own === 1")
    if strict_dynamic:
        page.wait_for_function("() => window.pwned === true")
    else:
        assert violations(page, at_least=1)
        assert page.evaluate("window.pwned") is None


SVG_STRING = (
    "<!doctype html><div>{{ bio|safe }}"
    "<script>var name = {{ name }}; window.ran = true;</script></div>"
)


@pytest.mark.parametrize(
    ("name", "runs"), [('"{{ name }}"', True), ("{{ name|tojson }}", False)]
)
def test_a_value_in_script_text_needs_tojson_not_html_escaping(
    serve: Serve, context: BrowserContext, page: Page, name: str, runs: bool
) -> None:
    """HTML escaping protects a string in a <script> only while entities are
    not decoded there. After an injected ``<svg>`` the stamped script is an
    SVG script: ``&#34;`` is a ``"`` again, the value ends the string, and
    the nonce vouches for the attacker's code. ``|tojson`` escapes for
    JavaScript and holds (the README says to use it)."""
    watch_violations(context)
    app = Flask("svg_string")
    app.testing = True
    HeaderPolicy(app, preset="strict")
    source = SVG_STRING.replace("{{ name }}", name)

    @app.get("/")
    def index() -> str:
        return render_template_string(
            source, bio=request.args["bio"], name=request.args["name"]
        )

    base = serve(app)
    for bio in ("", "<svg>"):
        query = urllib.parse.urlencode({"bio": bio, "name": f'"; {PWN}; "'})
        page.goto(f"{base}/?{query}")
        assert page.evaluate("window.ran") is True
        pwned = page.evaluate("window.pwned") is True
        assert pwned == (runs and bio == "<svg>"), (name, bio)
