"""The reports page: a self-contained HTML page with the audit report's look.

Written by ``flask headers reports --html FILE`` and served by the dashboard.
Every value comes from reports that anyone could have sent: all of it is
escaped (Jinja autoescape), and the page loads nothing and runs no script.
"""

from __future__ import annotations

import collections.abc as cabc
import datetime
import re
import typing as t
from importlib import resources

from .suggest import Suggestion

__all__ = ["audit_stylesheet", "render_html"]

_STYLE_RE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def audit_stylesheet() -> str:
    """The audit report's stylesheet, so both pages look alike."""
    source = resources.files("flask_header_policy.audit").joinpath("report.html")
    match = _STYLE_RE.search(source.read_text("utf-8"))
    return match.group(1) if match else ""


def render_html(
    rows: cabc.Sequence[cabc.Mapping[str, t.Any]],
    counters: cabc.Mapping[str, int],
    suggestions: cabc.Sequence[Suggestion],
    *,
    title: str,
    nonce: str | None = None,
) -> str:
    """The page: counters, fingerprints, suggestions.

    :param nonce: the CSP nonce for the ``<style>`` element when the page is
        served (the dashboard); ``None`` for a file.
    """
    import jinja2

    source = resources.files(__package__).joinpath("report.html").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    dropped = {
        name: count
        for name, count in sorted(counters.items())
        if not name.startswith(("received", "accepted"))
    }
    return env.from_string(source).render(
        title=title,
        generated=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        rows=rows,
        total=sum(int(row["count"]) for row in rows),
        accepted=counters.get("accepted", 0),
        dropped=dropped,
        suggestions=suggestions,
        stylesheet=audit_stylesheet(),
        nonce=nonce,
        when=lambda value: value.strftime("%Y-%m-%d %H:%M"),
    )
