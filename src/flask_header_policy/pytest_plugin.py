"""pytest helpers: assert a response's headers and its Observatory grade.

Registered through the ``pytest11`` entry point (``-p
flask_header_policy.pytest_plugin`` loads it by hand)::

    from flask_header_policy.pytest_plugin import assert_grade
    from flask_header_policy.pytest_plugin import assert_headers

    def test_home(client):
        response = client.get("/")
        assert_headers(response, {"X-Frame-Options": "DENY", "Server": None})
        assert_grade(response, "A")  # and the CSP blocks nothing in the page

    def test_every_route(header_audit):
        assert all(audit.grade == "A+" for audit in header_audit)

The helpers take Flask test responses, Werkzeug responses and ``httpx``
responses. The ``header_audit`` fixture audits the ``app`` fixture the way
``flask headers audit`` does; the ``header_audit`` marker adds paths:
``@pytest.mark.header_audit(paths=["/user/1"])``.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

import pytest

if t.TYPE_CHECKING:
    from .audit.results import RouteAudit

__all__ = ["assert_grade", "assert_headers", "header_audit"]

#: An expected value: exact text, one text per field, or ``None`` for absent.
Expected = str | cabc.Sequence[str] | None
_HTML = ("text/html", "application/xhtml+xml")


def _fields(response: t.Any) -> list[tuple[str, str]]:
    """The response's header fields in order, repeated fields kept."""
    headers = getattr(response, "headers", response)
    if hasattr(headers, "to_wsgi_list"):  # Werkzeug Headers
        return list(headers.to_wsgi_list())
    raw = getattr(headers, "raw", None)
    if isinstance(raw, list):  # httpx Headers keep the received spelling
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
    if hasattr(headers, "multi_items"):
        return list(headers.multi_items())
    if isinstance(headers, cabc.Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


def _body(response: t.Any, fields: list[tuple[str, str]]) -> str | bytes | None:
    content_type = next((v for k, v in fields if k.lower() == "content-type"), "")
    if content_type.split(";")[0].strip().lower() not in _HTML:
        return None
    if hasattr(response, "get_data"):
        return t.cast(bytes, response.get_data())
    content = getattr(response, "content", None)
    return content if isinstance(content, bytes) else None


def assert_headers(response: t.Any, expected: cabc.Mapping[str, Expected]) -> None:
    """Assert that ``response`` has exactly the ``expected`` header values.

    Names are case-insensitive; values are compared exactly. A ``str`` is
    compared with the field's value (repeated fields joined with ``", "``),
    a list of ``str`` with each field in order (for ``Set-Cookie``), and
    ``None`` means the header must be absent. Headers not named are ignored.

    :raise AssertionError: listing every mismatch, missing and unwanted header.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    fields = _fields(response)
    problems: list[str] = []
    for name, want in expected.items():
        got = [v for k, v in fields if k.lower() == name.lower()]
        if want is None:
            if got:
                problems.append(f"  {name}: should be absent, but is {_show(got)}")
        elif not got:
            problems.append(f"  {name}: missing (expected {_show(want)})")
        elif isinstance(want, str):
            if ", ".join(got) != want:
                problems.append(
                    f"  {name}:\n    - expected: {want!r}\n    + actual:   {_show(got)}"
                )
        elif list(want) != got:
            problems.append(
                f"  {name}:\n    - expected: {list(want)!r}\n    + actual:   {got!r}"
            )
    if problems:
        count = f"{len(problems)} header{'s' if len(problems) > 1 else ''}"
        raise AssertionError(f"{count} differ from expected:\n" + "\n".join(problems))


def _show(value: str | cabc.Sequence[str]) -> str:
    if isinstance(value, str):
        return repr(value)
    return repr(value[0]) if len(value) == 1 else repr(list(value))


def _url_of(response: t.Any) -> str | None:
    """Where the response was served: an httpx or Werkzeug test response knows."""
    try:
        url = getattr(getattr(response, "request", None), "url", None)
    except RuntimeError:  # an httpx.Response built by hand has no request
        return None
    return str(url) if url else None


def assert_grade(
    response: t.Any,
    minimum: str,
    *,
    url: str | None = None,
    allow_breaks: bool = False,
) -> None:
    """Assert that ``response`` grades at least ``minimum`` on the Observatory,
    and that its CSP blocks nothing its HTML body uses.

    :param minimum: ``"A+"`` to ``"F"``; ``"A"`` accepts ``"A+"`` and ``"A"``.
    :param url: where the response was served (``https://`` counts for HSTS);
        by default the URL of the response's request, else
        ``https://localhost/``.
    :param allow_breaks: check the grade only, not what the CSP blocks.
    :raise AssertionError: naming the grade (and the "breaks" verdict), what
        the CSP blocks with the fixes, the tests that cost points with their
        modifiers, and the top findings with their fixes.
    """
    __tracebackhide__ = True
    from .audit import grade_response
    from .audit.results import below
    from .audit.results import costly_tests

    url = url or _url_of(response) or "https://localhost/"
    fields = _fields(response)
    result = grade_response(fields, body=_body(response, fields), url=url)
    low = below(result.grade, minimum)
    breaks = result.breaks and not allow_breaks
    if not low and not breaks:
        return
    grade = f"grade {result.grade}{' breaks' if result.breaks else ''}"
    if low:
        lines = [f"{grade} (score {result.score}) is below {minimum} for {url}"]
    else:
        lines = [
            f"{grade} (score {result.score}) for {url}: the CSP blocks"
            f" {len(result.breaks)} item{'s' if len(result.breaks) > 1 else ''}"
            " the page uses"
        ]
    if result.breaks:
        lines.append("blocked by the CSP:")
        for item in result.breaks[:10]:
            lines.append(f"  line {item.line}: {item.directive} {item.element}")
            lines.append(f"      fix: {item.fix}")
        if len(result.breaks) > 10:
            lines.append(f"  (+{len(result.breaks) - 10} more)")
    costly = costly_tests(result)
    if costly:
        lines.append("tests that cost points:")
        for name, res, modifier, why in costly:
            lines.append(f"  {modifier:+4d}  {name}: {res} ({why})")
    if result.findings:
        lines.append("top findings:")
        for finding in result.findings[:5]:
            lines.append(f"  [{finding.severity}] {finding.code}: {finding.message}")
            lines.append(f"      fix: {finding.fix}")
    raise AssertionError("\n".join(lines))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "header_audit(paths=[...]): extra paths for the header_audit fixture",
    )


@pytest.fixture
def header_audit(request: pytest.FixtureRequest) -> list[RouteAudit]:
    """Audit the ``app`` fixture like ``flask headers audit``.

    :return: one :class:`~flask_header_policy.audit.results.RouteAudit` per
        route, the 404 page and a static file.
    """
    from .audit.app import audit_app

    app = request.getfixturevalue("app")
    marker = request.node.get_closest_marker("header_audit")
    paths: cabc.Iterable[str] = marker.kwargs.get("paths", ()) if marker else ()
    return audit_app(app, paths=paths)
