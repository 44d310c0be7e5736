"""Make the documentation's screenshots (``make screenshots``).

- ``docs/_static/audit-report.png``: the HTML report of ``flask headers
  audit --html`` for ``docs/examples/audit_demo.py``;
- ``docs/_static/headers-show.png``: ``flask headers show`` for
  ``docs/examples/layers.py``, in a terminal window drawn by rich.

Both are rendered by Debian's headless Chromium through Playwright, with no
network. The PNGs are committed; run this again after changing what they
show.
"""

from __future__ import annotations

import argparse
import html
import io
import os
import pathlib
import sys
import tempfile
import typing as t

from click.testing import CliRunner
from flask.cli import FlaskGroup
from rich.console import Console
from rich.terminal_theme import MONOKAI
from rich.text import Text

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
STATIC = DOCS / "_static"
CHROMIUM = "/usr/bin/chromium"
# As in tests/browser/conftest.py: without these flags Chromium keeps
# dialling out, and this closed network refuses it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def report_html() -> str:
    """The HTML audit report of the audit demo app."""
    sys.path[:0] = [str(DOCS / "_ext"), str(ROOT)]
    from header_policy_docs import load_example

    from flask_header_policy.audit.app import audit_app
    from flask_header_policy.audit.report import render_html

    app = load_example("docs/examples/audit_demo.py").app
    with app.app_context():
        audits = audit_app(app)
    return render_html(audits, title="docs/examples/audit_demo.py")


def show_html() -> str:
    """``flask headers show`` in a terminal window, as an HTML page."""
    args = ["--app", "docs/examples/layers.py", "headers", "show"]
    # Colour as in a terminal; rich reads FORCE_COLOR.
    # COLUMNS: as laid out in a 120-column terminal.
    env = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "120"}
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(FlaskGroup(), args, env=env)
    finally:
        os.chdir(old)
    if result.exit_code != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.output}")
    output = Text.from_ansi(result.stdout.rstrip("\n"))
    width = max(len(line.rstrip()) for line in output.plain.splitlines()) + 2
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(Text("$ flask " + " ".join(args), style="bold"))
    console.print(output, no_wrap=True, crop=False)
    svg = console.export_svg(title="flask headers show", theme=MONOKAI)
    return (
        "<!doctype html><meta charset=utf-8>"
        "<style>body{margin:0;background:#fff}svg{display:block}</style>"
        f"<title>{html.escape(' '.join(args))}</title>{svg}"
    )


def shoot(
    browser: Browser,
    page_html: str,
    out: pathlib.Path,
    *,
    width: int,
    height: int = 900,
    selector: str | None = None,
) -> None:
    """Render ``page_html`` and save a PNG of its top ``width`` x ``height``
    pixels, or of the element ``selector`` picks."""
    with tempfile.TemporaryDirectory() as folder:
        file = pathlib.Path(folder) / "page.html"
        file.write_text(page_html, encoding="utf-8")
        page = browser.new_page(
            viewport={"width": width, "height": height}, device_scale_factor=1
        )
        try:
            page.goto(file.as_uri())
            if selector is None:
                page.screenshot(path=str(out))
            else:
                page.locator(selector).first.screenshot(path=str(out))
        finally:
            page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    if not os.access(CHROMIUM, os.X_OK):
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    STATIC.mkdir(exist_ok=True)
    shots = [
        # The summary and the first routes; the whole report is several screens.
        (report_html(), "audit-report.png", {"width": 1100, "height": 1500}),
        (show_html(), "headers-show.png", {"width": 1400, "selector": "svg"}),
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            for page_html, name, options in shots:
                shoot(browser, page_html, STATIC / name, **options)  # type: ignore[arg-type]
                print(f"wrote {(STATIC / name).relative_to(ROOT)}")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
