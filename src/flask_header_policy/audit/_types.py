"""The audit's result types: one test, one finding, one graded response."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import typing as t

from ._scoring import curve
from ._scoring import grade_for_score
from ._scoring import passes
from ._scoring import SCORE_TABLE

__all__ = ["Blocked", "Finding", "GradeResult", "Severity", "TestResult"]

#: How bad a finding is, worst first.
Severity = t.Literal["high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low", "info")


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """Something worth fixing that the score alone does not say.

    :param severity: ``"high"``, ``"medium"``, ``"low"`` or ``"info"``.
    :param code: a stable identifier, e.g. ``"csp-unsafe-inline"``.
    :param message: what is wrong, naming the header and the token.
    :param fix: the fix, in one line.
    """

    severity: Severity
    code: str
    message: str
    fix: str


@dataclasses.dataclass(frozen=True, slots=True)
class Blocked:
    """One thing in the page that a policy of the response blocks.

    A resource two policies block is listed twice, once per policy, as the
    browser fires one ``securitypolicyviolation`` event per policy.

    :param directive: the effective directive, as the browser's violation
        event names it (``effectiveDirective``): ``"script-src-elem"``,
        ``"script-src-attr"``, ``"style-src-elem"``, ``"style-src-attr"``,
        ``"img-src"``, ``"frame-src"``, ``"form-action"``, ``"base-uri"``...
    :param element: the element, shortened: ``<img src="https://...">``.
    :param kind: what it is: ``"inline-script"``, ``"script"``,
        ``"event-handler"``, ``"style-attribute"``, ``"image"``...
    :param line: the line of the element in the body (1 is the first).
    :param url: the URL checked, resolved; ``None`` for inline code.
    :param sample: the first 40 characters of inline code.
    :param when: ``"load"`` (while the page loads), ``"click"`` (a
        ``javascript:`` link), ``"submit"`` (a form) or ``"use"`` (when the
        browser needs it: a web app manifest, a non-default ``<track>``).
    :param policy: which policy of the response: 0 is the first.
    :param disposition: ``"enforce"`` (blocked) or ``"report"`` (a
        report-only policy would report it; nothing is blocked).
    :param fix: the fix, in one line.
    """

    directive: str
    element: str
    kind: str
    line: int
    url: str | None
    sample: str
    when: str
    policy: int
    disposition: str
    fix: str


@dataclasses.dataclass(frozen=True, slots=True)
class TestResult:
    """The outcome of one Observatory test.

    :param name: the Observatory test name, e.g. ``"content-security-policy"``.
    :param result: the Observatory result name, e.g. ``"csp-not-implemented"``.
    :param score_modifier: what the result adds to (or takes from) the score.
    :param passed: whether the Observatory counts the test as passed (see
        :func:`~flask_header_policy.audit.passes`).
    :param description: one sentence saying what the result means.
    """

    __test__: t.ClassVar[bool] = False  # not a pytest test class

    name: str
    result: str
    score_modifier: int
    passed: bool
    description: str

    @classmethod
    def make(cls, name: str, result: str) -> TestResult:
        """Build the result of test ``name`` from the Observatory's table.

        :raise KeyError: ``result`` is not an Observatory result name.
        """
        modifier, description = SCORE_TABLE[result]
        return cls(name, result, modifier, passes(result), description)


@dataclasses.dataclass(frozen=True, slots=True)
class GradeResult:
    """A graded response: Observatory score and grade, tests and findings.

    Build one with :meth:`from_tests`, so that the score always matches the
    tests; :meth:`with_tests` adds the tests that need a live scan
    (``redirection``) and grades again.

    ``breaks`` lists what the enforced CSP blocks in the page (the grade does
    not say it: a page can grade A+ and not work); ``reports`` what a
    report-only policy would report.
    """

    score: int
    grade: str
    tests: tuple[TestResult, ...]
    findings: tuple[Finding, ...] = ()
    breaks: tuple[Blocked, ...] = ()
    reports: tuple[Blocked, ...] = ()

    @classmethod
    def from_tests(
        cls,
        tests: cabc.Iterable[TestResult],
        findings: cabc.Iterable[Finding] = (),
        breaks: cabc.Iterable[Blocked] = (),
        reports: cabc.Iterable[Blocked] = (),
    ) -> GradeResult:
        """Score ``tests`` on the Observatory curve and attach ``findings``."""
        tests = tuple(tests)
        score = curve(test.score_modifier for test in tests)
        return cls(
            score,
            grade_for_score(score),
            tests,
            tuple(findings),
            tuple(breaks),
            tuple(reports),
        )

    def with_tests(self, *extra: TestResult) -> GradeResult:
        """Return a copy with ``extra`` tests added (replacing same names)."""
        names = {test.name for test in extra}
        kept = [test for test in self.tests if test.name not in names]
        return self.from_tests(
            [*kept, *extra], self.findings, self.breaks, self.reports
        )

    @property
    def verdict(self) -> str:
        """``"breaks"`` when the enforced CSP blocks something in the page,
        else ``"ok"``."""
        return "breaks" if self.breaks else "ok"

    @property
    def uncurved_score(self) -> int:
        """100 plus every penalty, bonuses left out."""
        return 100 + sum(min(test.score_modifier, 0) for test in self.tests)

    @property
    def tests_passed(self) -> int:
        """How many tests passed."""
        return sum(test.passed for test in self.tests)

    def get(self, name: str) -> TestResult | None:
        """The result of test ``name``, or ``None`` if it was not run."""
        return next((test for test in self.tests if test.name == name), None)

    def __getitem__(self, name: str) -> TestResult:
        test = self.get(name)
        if test is None:
            raise KeyError(name)
        return test
