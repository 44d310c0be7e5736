"""The audit's "breaks" on the realistic app equal what Chromium blocks.

``tests/apps/realistic.py`` (a CDN on another 127.0.0.1 port, served over
https as real CDNs are; handlers, ``style`` attributes, an admin blueprint
with its own templates) is served to Chromium under ``strict``, with
stamping off and on, with and without the two code changes the README
documents. For every page ``flask headers audit`` grades (run in process on
the same app object), :func:`csp_compare.compare` loads it, clicks its
``javascript:`` link and submits its forms, and:

- the violations the audit predicts for the response Chromium received
  equal the ``securitypolicyviolation`` events Chromium fires, per
  disposition and effective directive;
- the CLI's "breaks" (``--json`` and the ``--min-grade`` summary) list the
  same directives with the same counts.

Nothing is ignored: images and fonts that stylesheets load are the one thing
the audit cannot predict (README, "Limits"), and on this app there is none
Chromium blocks (the CDN's CSS draws a ``data:`` icon, which ``strict``
allows; without stamping the CSS itself is blocked).
"""

from __future__ import annotations

import collections
import json
import re
import typing as t

import pytest
from click.testing import CliRunner
from click.testing import Result
from csp_compare import compare
from csp_compare import install
from flask import Flask
from flask.cli import FlaskGroup
from tests.apps.realistic import create_app
from tests.apps.realistic import create_cdn

if t.TYPE_CHECKING:
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

NOT_FOUND = "/__header_policy_audit_404__"
PAGES = ["/", "/admin/", NOT_FOUND]
#: "  A+  125  /  script-src-elem x4, ..." in the --min-grade summary.
SUMMARY = re.compile(r"^  \S+ +\d+  (\S+)  (.+)$")

Counts = dict[str, dict[str, int]]
#: What Chromium blocks, page -> directive -> count, derived from the
#: templates by hand. Without stamping: on "/", jq.js, bs.js, the inline
#: script and the javascript: link (script-src-elem); two onsubmit and one
#: onclick; bs.css and the <style> block; three style attributes. On
#: "/admin/": admin.js and the inline script ('strict-dynamic' ignores
#: 'self'), the macro's onclick and its style attribute.
UNSTAMPED = {
    "/": {"script-src-elem": 4, "script-src-attr": 3, "style-src-elem": 2,
          "style-src-attr": 3},
    "/admin/": {"script-src-elem": 2, "script-src-attr": 1, "style-src-attr": 1},
    NOT_FOUND: {},
}  # fmt: skip
#: Without the two code changes, the helper's moment.js and inline script
#: lose their nonce and the CDN's image is not in img-src.
UNFIXED = {"script-src-elem": 2, "img-src": 1}
EXPECTED: dict[tuple[bool, bool], Counts] = {
    # (stamping, fixes): what Chromium blocks on each page
    (False, True): UNSTAMPED,
    (False, False): {**UNSTAMPED, "/": {
        **UNSTAMPED["/"], "script-src-elem": 6, "img-src": 1}},
    (True, True): dict.fromkeys(PAGES, {}),
    (True, False): {"/": UNFIXED, "/admin/": {}, NOT_FOUND: {}},
}  # fmt: skip


class Serve(t.Protocol):
    def __call__(self, app: Flask, *, tls: bool = False) -> str: ...


def audit(app: Flask, *args: str) -> Result:
    cli = FlaskGroup(create_app=lambda: app)
    return CliRunner().invoke(cli, ["headers", "audit", *args])


@pytest.mark.parametrize(
    ("stamp", "fixes"),
    list(EXPECTED),
    ids=["unstamped", "unstamped-unfixed", "stamped", "stamped-unfixed"],
)
def test_audit_breaks_equal_what_chromium_blocks_on_every_page(
    serve: Serve, context: BrowserContext, stamp: bool, fixes: bool
) -> None:
    install(context)
    page: Page = context.new_page()
    cdn = serve(create_cdn(), tls=True)
    app = create_app(cdn, stamp_nonces=stamp, fixes=fixes, TESTING=True)
    base = serve(app)

    result = audit(app, "--json")
    assert result.exit_code == 0, result.output
    routes = {route["path"]: route for route in json.loads(result.output)}
    assert list(routes) == PAGES  # every page, the blueprint's included
    summary = audit(app, "--min-grade", "A+")
    listed = {}
    for line in summary.stderr.splitlines():
        match = SUMMARY.match(line)
        if match:
            counts = (part.split(" x") for part in match[2].split(", "))
            listed[match[1]] = {directive: int(n) for directive, n in counts}

    chromium: Counts = {}
    for path in PAGES:
        outcome = compare(page, base + path)
        assert outcome.equal, outcome.explain()
        chromium[path] = {
            directive: count
            for (disposition, directive), count in outcome.observed.items()
            if disposition == "enforce"
        }
        route = routes[path]
        breaks = collections.Counter(item["directive"] for item in route["blocked"])
        assert dict(breaks) == chromium[path], (path, route["blocked"])
        assert (route["verdict"] == "breaks") == bool(chromium[path])
        assert listed.get(path, {}) == chromium[path], summary.stderr
        if stamp and fixes:
            assert route["grade"] == "A+", route["findings"]
    assert chromium == EXPECTED[stamp, fixes]
    assert summary.exit_code == (0 if stamp and fixes else 1), summary.output
