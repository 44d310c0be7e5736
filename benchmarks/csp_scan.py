"""What predicting CSP breakage costs the audit on a 2 MB page.

The page repeats a block that has what real pages have (a card with a style
attribute and a click handler, a gravatar with ``srcset``, links, a
``javascript:`` link, an inline and a CDN script, a stylesheet, a form, text)
up to 2 MB, the most the live audit reads. Measured, side by side, on the same
page:

- ``tokens``: the HTML tokenizer alone (what the audit already ran before it
  predicted anything);
- ``scan_html``: tokenizer, ``<meta>``/``<script>`` facts and the list of
  everything a CSP governs (capped at 10,000 resources: this page hits it);
- ``grade_response``: the whole grade of the response under the ``strict``
  preset's CSP, prediction included, and the same without a CSP.

Process time, best of ``--rounds``; with ``--instructions``, callgrind
instruction counts (steady on a shared machine; needs ``valgrind``, about a
minute).

Run: ``.venv/bin/python benchmarks/csp_scan.py``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import typing as t

from flask_header_policy.audit import grade_response
from flask_header_policy.audit._html import scan_html
from flask_header_policy.audit._html import tokens
from flask_header_policy.presets import STRICT_CSP

BLOCK = """<div class="card" style="margin: 0" onclick="toggle(this)">
  <img src="https://www.gravatar.com/avatar/abc?s=40" srcset="/a.png 1x, /b.png 2x" alt="">
  <a href="/user/1">user</a> <a href="javascript:void(0)">menu</a>
  <script>window.x = (window.x || 0) + 1;</script>
  <script src="https://cdn.example.com/lib.js"></script>
  <link rel="stylesheet" href="/static/site.css">
  <form action="/post" method="post"><input name="q"><button>Go</button></form>
  <p>Some text of the page, as real pages have, with <b>markup</b> &amp; entities.</p>
</div>
"""  # noqa: E501
SIZE = 2 * 1024 * 1024
CSP = STRICT_CSP.to_header(nonce="abcdefghijklmnop")
HTML = ("Content-Type", "text/html; charset=utf-8")
_COLLECTED = re.compile(rb"Collected : (\d+)")


def page() -> bytes:
    head = "<!doctype html><html><head><title>t</title></head><body>"
    return (head + BLOCK * (SIZE // len(BLOCK)) + "</body></html>").encode()


def cases(body: bytes) -> dict[str, t.Callable[[], object]]:
    text = body.decode()
    return {
        "nothing": lambda: None,
        "tokens": lambda: sum(1 for _ in tokens(text)),
        "scan_html": lambda: scan_html(text),
        "grade_response (no CSP)": lambda: grade_response([HTML], body=body),
        "grade_response (strict CSP)": lambda: grade_response(
            [HTML, ("Content-Security-Policy", CSP)], body=body
        ),
    }


def instructions(name: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
             sys.executable, __file__, "--child", name],
            capture_output=True,
            check=True,
        )  # fmt: skip
    match = _COLLECTED.search(result.stderr)
    if match is None:
        raise RuntimeError(result.stderr.decode(errors="replace")[-2000:])
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    body = page()
    if args.child:
        cases(body)[args.child]()
        return
    result = grade_response([HTML, ("Content-Security-Policy", CSP)], body=body)
    print(f"page: {len(body):,} bytes, {len(result.breaks):,} blocked items")
    if args.instructions:
        base = instructions("nothing")
        for name in list(cases(body))[1:]:
            print(
                f"{name:<28} {(instructions(name) - base) / 1e6:10,.0f} M instructions"
            )
        return
    for name, run in list(cases(body).items())[1:]:
        best = float("inf")
        for _ in range(args.rounds):
            started = time.process_time()
            run()
            best = min(best, time.process_time() - started)
        print(f"{name:<28} {best * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
