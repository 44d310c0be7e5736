"""What Chromium blocks on a page, as ``securitypolicyviolation`` events.

``watch_violations(context)`` installs a listener in every document of a
browser context before any script of the page runs (Playwright's init
scripts are not subject to the page's CSP), so pages need no nonce of their
own for it. ``violations_by_directive(page)`` returns what was blocked,
grouped by the effective directive Chromium names.
``exercise_inline_code(page)`` fires each inline event handler once and
follows each ``javascript:`` link, since Chromium checks those only when they
run. ``record_violations(context)`` hands each violation to the test as it
fires, so that one that a click reports just before the page navigates away
(an inline ``onclick`` on a submit button) is not lost with its document.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page

LISTENER = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push({
    directive: e.effectiveDirective,
    blocked: e.blockedURI,
    disposition: e.disposition,
    sample: e.sample,
  });
});
"""

# Plain Events (not MouseEvents) run inline handlers without activation
# behaviour: no link is followed and no form is submitted.
EXERCISE = """
() => {
  for (const element of document.querySelectorAll("*")) {
    for (const name of element.getAttributeNames()) {
      if (name.startsWith("on") && name.length > 2) {
        element.dispatchEvent(new Event(name.slice(2), {cancelable: true}));
      }
    }
  }
  const urls = [...document.querySelectorAll("a[href], area[href]")]
    .map((link) => link.getAttribute("href").trim())
    .filter((href) => /^javascript:/i.test(href));
  for (const url of urls) {
    const link = document.createElement("a");
    link.href = url;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }
  return urls.length;
}
"""


RECORDER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__recordViolation({
    directive: e.effectiveDirective,
    blocked: e.blockedURI,
    disposition: e.disposition,
    sample: e.sample,
    document: e.documentURI,
  });
});
"""


def record_violations(context: BrowserContext) -> list[dict[str, str]]:
    """A list that receives every violation of every page of ``context``,
    kept across navigations (``document`` says which page fired it).

    Call it before the context's first page. Events arrive while Playwright
    waits (in any call on the page, or ``page.wait_for_timeout``).
    """
    seen: list[dict[str, str]] = []

    def record(violation: dict[str, str]) -> None:
        seen.append(violation)

    context.expose_function("__recordViolation", record)
    context.add_init_script(RECORDER)
    return seen


def watch_violations(context: BrowserContext) -> None:
    """Record the CSP violations of every page opened in ``context``."""
    context.add_init_script(LISTENER)


def violations(
    page: Page, *, at_least: int = 0, grace_ms: int = 300
) -> list[dict[str, str]]:
    """Every violation the page has seen.

    Violation events are queued as tasks, and a loaded machine delivers them
    late: a test that expects some says how many (``at_least``), and this
    waits for them (a deadline for a broken page, not a pause). Only then
    does it wait ``grace_ms`` for events beyond those, which a test of
    "nothing else is blocked" wants to see; that wait can miss a late
    surplus, never fail a right expectation.

    :param at_least: first wait (up to 15 s) until this many have been seen.
    """
    if at_least:
        page.wait_for_function(
            "(n) => (window.__violations || []).length >= n",
            arg=at_least,
            timeout=15_000,
        )
    page.wait_for_timeout(grace_ms)
    return t.cast(list[dict[str, str]], page.evaluate("window.__violations || []"))


def violations_by_directive(
    page: Page,
    *,
    disposition: str = "enforce",
    at_least: int = 0,
    grace_ms: int = 300,
) -> dict[str, list[str]]:
    """Blocked URLs (``"inline"`` for inline code) by effective directive.

    :param disposition: ``"enforce"`` or ``"report"`` (report-only policies).
    :param at_least: wait until this many violations have been seen.
    :return: ``{"script-src-elem": ["http://…/jq.js", "inline"], …}``, each
        list sorted.
    """
    grouped: dict[str, list[str]] = {}
    for violation in violations(page, at_least=at_least, grace_ms=grace_ms):
        if violation["disposition"] == disposition:
            grouped.setdefault(violation["directive"], []).append(violation["blocked"])
    return {directive: sorted(blocked) for directive, blocked in grouped.items()}


def exercise_inline_code(page: Page) -> int:
    """Run every inline handler once and follow every ``javascript:`` link
    (through a copy of it, so that its own handler does not run twice).

    :return: how many ``javascript:`` links were followed.
    """
    return t.cast(int, page.evaluate(EXERCISE))
