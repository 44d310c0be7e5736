"""What an audit returns: one graded route (or URL), and the grade order.

Shared by the in-process audit (:mod:`.app`), the live audit (:mod:`.live`),
the renderers (:mod:`.report`) and the pytest plugin; nothing here does I/O.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import urllib.parse

from ._types import Blocked
from ._types import Finding
from ._types import GradeResult
from ._types import SEVERITIES

__all__ = [
    "GRADES",
    "MAX_BODY",
    "MAX_REDIRECTS",
    "REDIRECT_CODES",
    "AuditError",
    "Hop",
    "RouteAudit",
    "below",
    "body_not_decoded",
    "body_truncated",
    "classify_redirection",
    "costly_tests",
    "grade_rank",
    "has_nonce",
    "with_findings",
]

#: The most body bytes an audit reads (decoded); the rest is not graded.
MAX_BODY = 2_000_000

#: Every grade, best first: ``A+ > A > A- > B+ > … > F``.
GRADES: tuple[str, ...] = (
    "A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F",
)  # fmt: skip

#: Redirects followed before giving up, as the Observatory does.
MAX_REDIRECTS = 10
#: The status codes of a redirect the audits follow.
REDIRECT_CODES: frozenset[int] = frozenset({301, 302, 303, 307, 308})


class AuditError(Exception):
    """A URL could not be audited: DNS, connection, TLS, timeout, bad URL.

    The message is short and names the URL, e.g.
    ``https://example.invalid/: timed out after 10 s``.

    :param kind: what failed, for programs: ``"dns"``, ``"refused"``,
        ``"tls"``, ``"timeout"``, ``"url"``, ``"protocol"``, ``"redirects"``
        or ``"network"``.
    """

    def __init__(self, message: str, kind: str = "network") -> None:
        super().__init__(message)
        self.kind = kind


@dataclasses.dataclass(frozen=True, slots=True)
class Hop:
    """One response of a redirect chain.

    :param url: the URL requested.
    :param status: the status code it answered with.
    """

    url: str
    status: int


@dataclasses.dataclass(frozen=True, slots=True)
class RouteAudit:
    """One audited route (in-process) or URL (live).

    :param path: what was asked for: a path such as ``"/login"`` in process,
        the URL as given for a live audit.
    :param endpoint: the Flask endpoint that answered; ``None`` for the 404
        page and for live audits.
    :param status: the status code of the graded response.
    :param result: the grade, tests and findings of the graded response.
    :param headers: its header fields in order, repeated fields kept.
    :param url: the URL the graded response was served at (after redirects).
    :param redirects: the redirect chain followed to reach it, the graded
        response last; empty in process.
    :param error: set when no response could be graded because the view
        raised: the exception's type and message. Such a route grades F and
        fails every ``--min-grade``.
    """

    path: str
    endpoint: str | None
    status: int
    result: GradeResult
    headers: list[tuple[str, str]]
    url: str = "https://localhost/"
    redirects: tuple[Hop, ...] = ()
    error: str | None = None

    @classmethod
    def raised(
        cls, path: str, endpoint: str | None, url: str, exc: BaseException
    ) -> RouteAudit:
        """The row of a route whose view raised ``exc`` instead of answering."""
        message = str(exc).strip().splitlines()
        error = type(exc).__name__ + (f": {message[0][:200]}" if message else "")
        finding = Finding(
            "high",
            "view-raised",
            f"GET {path} raised {error}; the response was not graded",
            "Fix the view: it raises instead of answering (Flask would send"
            " its 500 page).",
        )
        result = GradeResult(0, "F", (), (finding,))
        return cls(path, endpoint, 500, result, [], url, error=error)

    @property
    def grade(self) -> str:
        """The letter grade, ``"A+"`` to ``"F"``."""
        return self.result.grade

    @property
    def score(self) -> int:
        """The Observatory score (may exceed 100)."""
        return self.result.score

    @property
    def breaks(self) -> tuple[Blocked, ...]:
        """What the enforced CSP blocks in the page (empty: nothing)."""
        return self.result.breaks

    @property
    def verdict(self) -> str:
        """``"breaks"`` when the CSP blocks something in the page, else ``"ok"``."""
        return self.result.verdict

    @property
    def mimetype(self) -> str | None:
        """The response's media type (``"text/css"``), ``None`` without one."""
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value.split(";")[0].strip().lower() or None
        return None

    @property
    def document(self) -> bool:
        """Whether the response is a page (HTML, XHTML, SVG, XML, or no
        type), where a CSP limits scripts, rather than CSS, JavaScript, an
        image or JSON."""
        from .findings import is_document

        return is_document(self.mimetype)


def grade_rank(grade: str) -> int:
    """Position of ``grade`` in :data:`GRADES` (0 is ``A+``, the best).

    :raise ValueError: ``grade`` is not a grade (case-insensitive).
    """
    try:
        return GRADES.index(grade.strip().upper())
    except ValueError:
        raise ValueError(
            f"unknown grade {grade!r}; expected one of {', '.join(GRADES)}"
        ) from None


def below(grade: str, minimum: str) -> bool:
    """Whether ``grade`` is worse than ``minimum`` (``"B"`` is below ``"A-"``)."""
    return grade_rank(grade) > grade_rank(minimum)


def costly_tests(result: GradeResult) -> list[tuple[str, str, int, str]]:
    """The tests that cost points, worst first.

    :return: ``(name, result, score_modifier, description)`` tuples.
    """
    costly = [t for t in result.tests if t.score_modifier < 0]
    costly.sort(key=lambda t: (t.score_modifier, t.name))
    return [(t.name, t.result, t.score_modifier, t.description) for t in costly]


def has_nonce(headers: cabc.Iterable[tuple[str, str]]) -> bool:
    """Whether a CSP field (enforced or report-only) carries a nonce.

    Only then can a second response reuse it, so only then is it fetched.
    """
    return any(
        name.lower().startswith("content-security-policy") and "'nonce-" in value
        for name, value in headers
    )


def with_findings(result: GradeResult, extra: cabc.Iterable[Finding]) -> GradeResult:
    """``result`` with ``extra`` findings added; score and tests unchanged."""
    extra = tuple(extra)
    if not extra:
        return result
    findings = sorted(
        (*result.findings, *extra), key=lambda f: SEVERITIES.index(f.severity)
    )
    return dataclasses.replace(result, findings=tuple(findings))


def classify_redirection(route: cabc.Sequence[Hop]) -> str:
    """The Observatory's ``redirection`` result for the chain from ``http://``.

    :param route: every response of the chain, the final one included;
        empty when nothing answered over HTTP.
    """
    if not route:
        return "redirection-not-needed-no-http"
    urls = [urllib.parse.urlsplit(hop.url) for hop in route]
    if len(urls) == 1:
        return "redirection-missing"
    if urls[-1].scheme != "https":
        return "redirection-not-to-https"
    if urls[1].scheme == "http":
        return "redirection-not-to-https-on-initial-redirection"
    if urls[0].scheme == "http" and urls[0].hostname != urls[1].hostname:
        return "redirection-off-host-from-http"
    return "redirection-to-https"


def body_truncated(why: str, fix: str) -> Finding:
    """The finding for a body read only partly (``why``: ``"after 2 s"``)."""
    return Finding(
        "info",
        "body-truncated",
        f"The body was read only {why}: scripts and <meta> policies after that"
        " point were not graded",
        fix,
    )


def body_not_decoded(why: str) -> Finding:
    """The finding for a body whose content coding could not be undone."""
    return Finding(
        "info",
        "body-not-decoded",
        f"The body was not graded: {why}; scripts and <meta> policies were not seen",
        "Serve the page with gzip, deflate or br (at most two codings), or none.",
    )
