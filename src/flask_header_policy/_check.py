"""``flask headers show --check``: what each route really sends.

``show`` prints the declarations. A default-mode declaration yields to a
header the response already carries (the view's own value wins), so the
check requests each GET route in process, as the audit does (no server, no
network, as if served at ``https://localhost/``), and compares.
"""

from __future__ import annotations

import re
import typing as t

from flask import Flask

from .audit.app import _base_url
from .audit.app import _static_file
from .audit.app import NOT_FOUND_PATH
from .rules import Declared
from .rules import Mode
from .rules import split_members

#: The pseudo-endpoint of URLs that match no route (404 and 405 pages).
UNMATCHED = "(unmatched URL: 404/405)"


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


def _compare(declared: Declared, sent: str | None, mimetype: str) -> dict[str, t.Any]:
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
    if declared.template is not None and expected is None and not why:
        pattern = "[A-Za-z0-9+/_=-]+".join(map(re.escape, declared.template))
        matches = re.fullmatch(pattern, sent) is not None
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
    client = app.test_client(use_cookies=False)
    base_url = _base_url(app)
    for row in rows:
        endpoint = row["endpoint"]
        path, why = _path(app, endpoint)
        if path is None:
            row["checked"] = None
            for header in row["headers"]:
                header["check"] = {"status": "not requested", "sent": None, "why": why}
            continue
        response = client.get(path, base_url=base_url)
        try:
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
                    by_name[header["name"].lower()], sent, mimetype
                )
        finally:
            response.close()
