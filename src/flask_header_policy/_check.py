"""``flask headers show --check``: what each route really sends.

``show`` prints the declarations. A default-mode declaration yields to a
header the response already carries (the view's own value wins), so the
check requests each GET route in process, as the audit does (no server, no
network, as if served at ``https://localhost/``), and compares. A stamped
page's CSP is the declared one with its templates' hashes spliced in
(:mod:`.templates`): that is the policy's value too, not the view's own.
"""

from __future__ import annotations

import re
import typing as t

from flask import Flask
from werkzeug.test import Client

from .audit.app import _base_url
from .audit.app import _static_file
from .audit.app import NOT_FOUND_PATH
from .presets import HTML
from .rules import Declared
from .rules import Mode
from .rules import split_members
from .templates._flask import recorded_hashes
from .templates._hashes import Hashes
from .templates._splice import splice_hashes

#: The pseudo-endpoint of URLs that match no route (404 and 405 pages).
UNMATCHED = "(unmatched URL: 404/405)"
_CSP_KEYS = frozenset(
    {"content-security-policy", "content-security-policy-report-only"}
)
_NONCE = "[A-Za-z0-9+/_=-]+"
_NONCE_RE = re.compile(f"'nonce-({_NONCE})'")


def _path(app: Flask, endpoint: str) -> tuple[str | None, str]:
    """The path to request for ``endpoint``, or ``None`` and why not."""
    if endpoint == UNMATCHED:
        return NOT_FOUND_PATH, ""
    if endpoint == "static":
        static = _static_file(app)
        return (static, "") if static else (None, "--check: no static file to request")
    for rule in app.url_map.iter_rules(endpoint):
        if "GET" not in (rule.methods or ()):
            continue
        if rule.arguments - set(rule.defaults or ()):
            continue
        if rule.host or rule.subdomain:
            continue
        return rule.rule, ""
    return None, "--check: not requested, the rule needs URL arguments or is not GET"


def _expected(declared: Declared, mimetype: str) -> tuple[str | None, str]:
    """The value this response should carry by the declaration alone, and
    why there is none."""
    if declared.mimetypes is not None and mimetype not in declared.mimetypes:
        if declared.otherwise is not None:
            return declared.otherwise, ""
        return None, f"the declaration is for {', '.join(sorted(declared.mimetypes))}"
    return declared.static, ""


def _compare(
    declared: Declared, sent: str | None, mimetype: str, hashes: Hashes | None = None
) -> dict[str, t.Any]:
    """Whether ``sent`` is what ``declared`` gives this response.

    :param hashes: the hashes the response's templates recorded, which
        stamping splices into the CSP of an HTML response.
    """
    if declared.mode is Mode.REMOVE:
        status = "not sent" if sent is None else "overridden"
        return {"status": status, "sent": sent, "why": "removed"}
    expected, why = _expected(declared, mimetype)
    if sent is None:
        if declared.dynamic is not None and not why:
            why = "the callable returned None"
        return {"status": "not sent", "sent": None, "why": why}
    if declared.dynamic is not None and expected is None and not why:
        return {"status": "sent", "sent": sent, "why": ""}
    if not (hashes and declared.key in _CSP_KEYS and mimetype in HTML):
        hashes = None
    if declared.template is not None and expected is None and not why:
        pattern = _NONCE.join(map(re.escape, declared.template))
        matches = re.fullmatch(pattern, sent) is not None
        nonce = _NONCE_RE.search(sent)
        if not matches and hashes and nonce is not None:
            text = nonce.group(1).join(declared.template)
            matches = splice_hashes(text, hashes) == sent
    elif hashes and expected is not None:
        matches = sent in (expected, splice_hashes(expected, hashes))
    elif declared.mode is Mode.APPEND and expected is not None:
        have = {member.lower() for member in split_members(sent)}
        matches = all(m.lower() in have for m in split_members(expected))
    else:
        matches = sent == expected
    return {"status": "sent" if matches else "overridden", "sent": sent, "why": why}


def check_rows(app: Flask, rows: list[dict[str, t.Any]]) -> None:
    """Request each row's route and add ``check`` to each of its headers:
    ``{"status": "sent" | "overridden" | "not sent" | "not requested",
    "sent": value or None, "why": ...}``, and ``checked`` to the row: the
    path and status code requested, or ``None``.
    """
    policy = app.extensions["header_policy"].policy
    # The environ of each request, for the hashes its templates recorded.
    environs: list[dict[str, t.Any]] = []

    def recording(environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        environs.append(environ)
        return app(environ, start_response)

    client = Client(recording, app.response_class, use_cookies=False)
    base_url = _base_url(app)
    for row in rows:
        endpoint = row["endpoint"]
        path, why = _path(app, endpoint)
        if path is None:
            row["checked"] = None
            for header in row["headers"]:
                header["check"] = {"status": "not requested", "sent": None, "why": why}
            continue
        environs.clear()
        response = client.get(path, base_url=base_url)
        try:
            hashes = recorded_hashes(environs[-1]) if environs else None
            mimetype = response.mimetype or ""
            row["checked"] = {"path": path, "status": response.status_code}
            declared = policy.effective(
                app, None if endpoint == UNMATCHED else endpoint
            )
            by_name = {d.key: d for d in declared}
            for header in row["headers"]:
                values = response.headers.getlist(header["name"])
                sent = ", ".join(values) if values else None
                header["check"] = _compare(
                    by_name[header["name"].lower()], sent, mimetype, hashes
                )
        finally:
            response.close()
