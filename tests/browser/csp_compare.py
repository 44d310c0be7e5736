"""Compare what the audit predicts a page's CSP blocks with what Chromium blocks.

Reusable on any app served to the browser::

    from csp_compare import compare, install

    install(context)                  # before the first page of the context
    outcome = compare(page, base_url + "/")
    assert outcome.equal, outcome.explain()

:func:`compare` loads the page, grades the very response Chromium received
(headers and body, so the nonce is the one the browser saw) with
:func:`~flask_header_policy.audit.grade_response`, collects the
``securitypolicyviolation`` events Chromium fires while the page loads, then
clicks every ``javascript:`` link and submits every form (each form-action
check), and counts both sides per disposition and effective directive.
Navigations those actions start get a 204 answer, so the page stays.

No step waits for a fixed time and hopes. Violation events are queued as
tasks, and a loaded machine can deliver them late, so each phase waits (up to
a deadline, then the counts show what is missing) until as many events as
the audit predicts for it have arrived. A form submission is only *planned*
when ``submit()`` returns: a next submission that comes first cancels it
before Chromium checks ``form-action``, and its event is lost
(``test_a_planned_submission_is_cancelled_by_the_next``), so after each one
the helper waits until its outcome is known: a violation (blocked or
reported) or its navigation reaching the network (the 204 route). A
``javascript:`` URL is checked synchronously when clicked. Only events
beyond the prediction get a short grace period to show up; it can hide a
late surplus, never fail a right prediction.
"""

from __future__ import annotations

import collections
import collections.abc as cabc
import dataclasses
import time
import typing as t

from flask_header_policy.audit import grade_response
from flask_header_policy.audit import GradeResult

if t.TYPE_CHECKING:
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page
    from playwright.sync_api import Route

#: Collects every violation of the page into ``window.__cspViolations``;
#: an init script is not subject to the page's CSP and runs first.
INIT_SCRIPT = """
(() => {
  const seen = [];
  Object.defineProperty(window, "__cspViolations", {value: seen});
  document.addEventListener("securitypolicyviolation", (e) => seen.push({
    directive: e.effectiveDirective, disposition: e.disposition,
    blocked: e.blockedURI, line: e.lineNumber, sample: e.sample,
  }));
})();
"""

#: Lists, as closures in ``window.__cspActions``, a click on every
#: javascript: link and a submission of every form (and of every submit
#: button with its own formaction); returns each one's kind. They run one at
#: a time: a navigation started in the same task as another replaces it
#: before CSP checks it.
ACTIONS = """
() => {
  const isJs = (url) => /^[\\u0000-\\u0020]*javascript:/i.test(url || "");
  const actions = [];
  const kinds = [];
  for (const link of document.querySelectorAll("a[href], area[href]")) {
    if (isJs(link.getAttribute("href"))) {
      actions.push(() => link.click());
      kinds.push("click");
    }
  }
  for (const form of document.querySelectorAll("form")) {
    if ((form.getAttribute("method") || "").trim().toLowerCase() === "dialog") continue;
    form.noValidate = true;
    actions.push(() => form.submit());
    kinds.push("submit");
    const submitters = form.querySelectorAll("button[formaction], input[formaction]");
    for (const button of submitters) {
      const type = (button.getAttribute("type") || "submit").toLowerCase();
      if (type === "submit" || type === "image") {
        actions.push(() => form.requestSubmit(button));
        kinds.push("submit");
      }
    }
  }
  Object.defineProperty(window, "__cspActions", {value: actions});
  return kinds;
}
"""

#: Seconds each wait for a known outcome may take before giving up (a
#: deadline for a broken page, not a pause: a right page never reaches it).
DEADLINE = 15.0

Key = tuple[str, str]  # (disposition, effective directive)


@dataclasses.dataclass
class Comparison:
    """The audit's prediction next to Chromium's violations, for one page.

    :param url: the page.
    :param result: the audit's result for the response Chromium received.
    :param predicted: predicted violations per (disposition, directive).
    :param observed: Chromium's violations per (disposition, directive).
    :param events: Chromium's violation events, as collected.
    """

    url: str
    result: GradeResult
    predicted: collections.Counter[Key]
    observed: collections.Counter[Key]
    events: list[dict[str, t.Any]]

    @property
    def equal(self) -> bool:
        """Whether the counts agree for every disposition and directive."""
        return self.predicted == self.observed

    def rows(self) -> list[tuple[str, str, int, int]]:
        """``(disposition, directive, predicted, observed)``, sorted."""
        keys = sorted(set(self.predicted) | set(self.observed))
        return [(d, n, self.predicted[d, n], self.observed[d, n]) for d, n in keys]

    def explain(self) -> str:
        """A table of both counts, then the detail of each side."""
        lines = [f"{self.url}: predicted vs observed per directive"]
        for disposition, directive, want, got in self.rows():
            mark = "" if want == got else "   <-- differs"
            lines.append(f"  {disposition:<8} {directive:<16} {want:>3} {got:>3}{mark}")
        lines.append("predicted:")
        for item in (*self.result.breaks, *self.result.reports):
            lines.append(
                f"  {item.disposition} {item.directive} line {item.line}"
                f" {item.when}: {item.element}"
            )
        lines.append("observed:")
        for event in self.events:
            lines.append(
                f"  {event['disposition']} {event['directive']} line"
                f" {event['line']}: {event['blocked']} {event['sample']!r}"
            )
        return "\n".join(lines)


def install(context: BrowserContext) -> None:
    """Collect CSP violations in every page of ``context`` (call it first)."""
    context.add_init_script(INIT_SCRIPT)


def _until(page: Page, done: cabc.Callable[[], bool], deadline: float) -> bool:
    """Poll ``done`` (which reads the page) until it holds or ``deadline``
    seconds pass; whether it held. Each poll lets Playwright dispatch the
    route callbacks that count navigations."""
    end = time.monotonic() + deadline
    while not done():
        if time.monotonic() > end:
            return False
        page.wait_for_timeout(20)
    return True


def compare(
    page: Page,
    url: str,
    *,
    actions: bool = True,
    grace: float = 0.2,
    ignore: cabc.Collection[str] = (),
) -> Comparison:
    """Load ``url`` in ``page`` and compare the prediction with Chromium.

    :param actions: also click ``javascript:`` links and submit forms, and
        count what the audit predicts for them (``when`` ``"click"`` and
        ``"submit"``); otherwise only what happens while the page loads.
    :param grace: seconds to wait, once every predicted violation has
        arrived, for violations the audit did not predict.
    :param ignore: effective directives left out of both counts. The audit
        reads the HTML only: images and fonts that stylesheets load
        (Bootstrap's ``data:`` SVG icons, ``@font-face``) and what scripts
        add are not predicted, so a page with such stylesheets needs
        ``ignore=("img-src", "font-src")`` (and loses those checks).
    """
    loaded = False
    navigations = 0

    def stay(route: Route) -> None:
        # After the load, a form would navigate away: a 204 answer is never
        # shown, so the page stays (an aborted one shows an error page).
        nonlocal navigations
        request = route.request
        if loaded and request.is_navigation_request():
            navigations += 1  # a submission that CSP let through, in any frame
            if request.frame == page.main_frame:
                route.fulfill(status=204)
                return
        route.continue_()

    def events() -> list[dict[str, t.Any]]:
        return t.cast(
            list[dict[str, t.Any]], page.evaluate("[...window.__cspViolations]")
        )

    def outcome_after(seen: int, navigated: int) -> cabc.Callable[[], bool]:
        """Whether a submission was checked: it was reported, or it went."""
        return lambda: navigations > navigated or len(events()) > seen

    page.route("**/*", stay)
    try:
        response = page.goto(url, wait_until="load")
        assert response is not None, f"no response for {url}"
        loaded = True
        fields = [(h["name"], h["value"]) for h in response.headers_array()]
        result = grade_response(fields, body=response.body(), url=response.url)
        items = [
            i for i in (*result.breaks, *result.reports) if i.directive not in ignore
        ]
        # Chromium's favicon loader checks a <link rel=icon> a second time,
        # without a line number: the page still loads it once.
        icons = {item.url for item in items if item.element.startswith("<link")}

        def kept() -> list[dict[str, t.Any]]:
            found = []
            media: set[tuple[str, str]] = set()
            for e in events():
                if e["directive"] in ignore:
                    continue
                if (
                    e["line"] == 0
                    and e["directive"] == "img-src"
                    and e["blocked"] in icons
                ):
                    continue
                if e["directive"] == "media-src":
                    # When the parser inserts an <audio>'s second <source>
                    # after the first one failed, Chromium may run the
                    # element's resource selection again from the first
                    # source (seen in CI: a.mp3 at lines 31 and 37): one
                    # source, one violation, however often it is tried.
                    key = (e["disposition"], e["blocked"])
                    if key in media:
                        continue
                    media.add(key)
                found.append(e)
            return found

        on_load = sum(item.when == "load" for item in items)
        _until(page, lambda: len(kept()) >= on_load, DEADLINE)
        whens = {"load"}
        if actions:
            kinds: list[str] = page.evaluate(ACTIONS)
            for index, kind in enumerate(kinds):
                decided = outcome_after(len(events()), navigations)
                page.evaluate("(i) => window.__cspActions[i]()", index)
                if kind == "submit":
                    _until(page, decided, DEADLINE)
            whens |= {"click", "submit"}
        expected = sum(item.when in whens for item in items)
        _until(page, lambda: len(kept()) >= expected, DEADLINE)
        page.wait_for_timeout(grace * 1000)
        observed_events = kept()
    finally:
        page.unroute("**/*", stay)
    predicted = collections.Counter(
        (item.disposition, item.directive) for item in items if item.when in whens
    )
    observed = collections.Counter(
        (e["disposition"], e["directive"]) for e in observed_events
    )
    return Comparison(response.url, result, predicted, observed, observed_events)
