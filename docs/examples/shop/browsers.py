"""What browsers report about the trial's page: the docs' stand-in for a day
in production.

:func:`reported` makes the trial app with a throwaway database, and posts
what Chromium and Firefox send for its page under the report-only policy:
the icon font that Bootstrap Icons' stylesheet loads (``font-src``), the
``fetch()`` of the cart count (``connect-src``), and a browser extension's
script. Neither is in the page's HTML, so the audit could not see them.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile

from flask import Flask

from .trial import create_trial

SITE = "https://shop.example/"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
FONT = (
    "https://cdn.jsdelivr.net/npm/bootstrap-icons@1.11.3/font/fonts/"
    "bootstrap-icons.woff2?dd67030699838ea613ee6dbda90effa6"
)
ICONS_CSS = (
    "https://cdn.jsdelivr.net/npm/bootstrap-icons@1.11.3/font/bootstrap-icons.min.css"
)


def chrome(policy: str, directive: str, blocked: str, source: str) -> dict[str, object]:
    """A Reporting API report, as Chromium sends it (``report-to``)."""
    return {
        "type": "csp-violation",
        "age": 2000,
        "url": SITE,
        "user_agent": CHROME,
        "body": {
            "documentURL": SITE,
            "blockedURL": blocked,
            "effectiveDirective": directive,
            "originalPolicy": policy,
            "disposition": "report",
            "sourceFile": source,
            "statusCode": 200,
        },
    }


def firefox(policy: str, directive: str, blocked: str) -> dict[str, object]:
    """A ``report-uri`` report, as Firefox sends it."""
    return {
        "csp-report": {
            "document-uri": SITE,
            "blocked-uri": blocked,
            "effective-directive": directive,
            "violated-directive": directive,
            "original-policy": policy,
            "disposition": "report",
        }
    }


def reported() -> Flask:
    """The trial app, with a day's reports in a throwaway database."""
    folder = tempfile.mkdtemp(prefix="shop-reports-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    app = create_trial(HEADER_POLICY_REPORTS_DATABASE=f"sqlite:///{folder}/reports.db")
    client = app.test_client()
    policy = client.get("/", base_url=SITE).headers[
        "Content-Security-Policy-Report-Only"
    ]
    batches: list[tuple[str, str, object]] = []
    for _ in range(40):  # visitors with Chromium
        batches.append(
            (
                "application/reports+json",
                CHROME,
                [
                    chrome(policy, "font-src", FONT, ICONS_CSS),
                    chrome(
                        policy,
                        "connect-src",
                        "https://api.shop.example/cart/count",
                        SITE,
                    ),
                ],
            )
        )
    for _ in range(12):  # visitors with Firefox
        batches.append(
            (
                "application/csp-report",
                FIREFOX,
                firefox(policy, "connect-src", "https://api.shop.example/cart/count"),
            )
        )
    # A browser extension injecting its script: noise, counted and dropped.
    batches.append(
        (
            "application/reports+json",
            CHROME,
            [
                chrome(
                    policy,
                    "script-src-elem",
                    "chrome-extension://abcdefgh/inject.js",
                    "chrome-extension://abcdefgh/inject.js",
                ),
            ],
        )
    )
    for mimetype, agent, body in batches:
        client.post(
            "/__csp-reports",
            data=json.dumps(body),
            content_type=mimetype,
            headers={"User-Agent": agent},
            base_url=SITE,
        )
    return app
