from __future__ import annotations

import pytest

from flask_header_policy.audit import curve
from flask_header_policy.audit import grade_for_score
from flask_header_policy.audit import grade_response
from flask_header_policy.audit import GradeResult
from flask_header_policy.audit import TestResult

H = list[tuple[str, str]]

STRICT: H = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Security-Policy",
     "default-src 'none'; script-src 'nonce-r4nd0mN0nce+/=' 'strict-dynamic';"
     " object-src 'none'; base-uri 'none'; frame-ancestors 'none'; report-to csp"),
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Set-Cookie", "session=abc; Path=/; Secure; HttpOnly; SameSite=Lax"),
]  # fmt: skip


def test_strict_response_scores_135() -> None:
    # +10 CSP, +5 cookies, +5 referrer, +5 frame-ancestors, +10 CORP; the rest 0.
    graded = grade_response(STRICT, body="<!doctype html><title>t</title><p>Hi</p>")
    assert (graded.score, graded.grade) == (135, "A+")
    assert graded.uncurved_score == 100
    assert graded.tests_passed == len(graded.tests) == 9
    assert [f for f in graded.findings if f.severity != "info"] == []


def test_bonuses_need_an_uncurved_90() -> None:
    no_hsts = [h for h in STRICT if h[0] != "Strict-Transport-Security"]
    graded = grade_response(no_hsts, body="<p>")
    assert graded.uncurved_score == 80
    assert (graded.score, graded.grade) == (80, "B+")


def test_with_tests_adds_redirection() -> None:
    graded = grade_response(STRICT, body="<p>")
    redirected = graded.with_tests(
        TestResult.make("redirection", "redirection-missing")
    )
    assert redirected["redirection"].score_modifier == -20
    assert (redirected.score, redirected.grade) == (80, "B+")
    again = redirected.with_tests(
        TestResult.make("redirection", "redirection-to-https")
    )
    assert (again.score, len(again.tests)) == (135, 10)
    assert graded.get("redirection") is None
    with pytest.raises(KeyError):
        graded["redirection"]


@pytest.mark.parametrize(
    ("modifiers", "expected"),
    [([], 100), ([10, 5, -5], 110), ([-10, 50], 140), ([-11, 50], 89),
     ([-25, -20, -20, -5], 30), ([-50, -50, -40], 0), ([5, 5], 110)],
)  # fmt: skip
def test_curve(modifiers: list[int], expected: int) -> None:
    assert curve(modifiers) == expected


@pytest.mark.parametrize(
    ("score", "grade"),
    [(135, "A+"), (100, "A+"), (99, "A"), (90, "A"), (89, "A-"), (85, "A-"), (84, "B+"),
     (80, "B+"), (79, "B"), (70, "B"), (69, "B-"), (65, "B-"), (64, "C+"), (60, "C+"),
     (59, "C"), (50, "C"), (49, "C-"), (45, "C-"), (44, "D+"), (40, "D+"), (39, "D"),
     (30, "D"), (29, "D-"), (25, "D-"), (24, "F"), (0, "F"), (-10, "F")],
)  # fmt: skip
def test_grade_table(score: int, grade: str) -> None:
    assert grade_for_score(score) == grade


def test_from_tests_scores() -> None:
    tests = [TestResult.make("cookies", "cookies-session-without-secure-flag")]
    assert GradeResult.from_tests(tests).score == 60
    with pytest.raises(KeyError):
        TestResult.make("cookies", "no-such-result")
