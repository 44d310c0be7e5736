"""What stamping costs when a template is compiled (once per template).

Compiles the same template source with a plain Jinja environment and with
:class:`~flask_header_policy.templates.StampExtension`, in interleaved rounds,
and reports the median milliseconds per compile, per KB of source, and their
ratio. A compile is everything Jinja does with new source: lexing, the stream
filters (where stamping works), parsing, code generation and Python's
``compile``. Flask caches the compiled template, so this is paid once per
template and process (again after an edit when templates auto-reload).

Run: ``.venv/bin/python benchmarks/stamping.py`` (about 20 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from jinja2 import Environment

from flask_header_policy.templates import StampExtension

TEMPLATES = Path(__file__).parent / "templates"

# One article of a list page: expressions, a macro call, a handler, a style
# attribute, a form; repeated to make a large page.
ARTICLE = """
    <article class="post" id="post-{{ post.id }}">
      <h2><a href="{{ url_for('post', post_id=post.id) }}">{{ post.title }}</a></h2>
      <p class="meta" style="color: #666">by {{ post.author }},
        <span class="flask-moment" data-timestamp="{{ post.posted }}">
          {{ post.posted }}</span></p>
      <div class="body">{{ post.body|safe }}</div>
      {% if post.editable %}
      <form method="post" action="{{ url_for('delete', post_id=post.id) }}"
            onsubmit="return confirm('Delete this post?')">
        <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
        <button class="btn btn-danger btn-sm" style="margin-left: 1em">Delete</button>
      </form>
      {% endif %}
      <script>
        document.getElementById("post-{{ post.id }}").dataset.ready = "1";
      </script>
    </article>
"""


def sources() -> dict[str, str]:
    page = (TEMPLATES / "stamped.html").read_text()
    head, _, tail = page.partition("<main>")
    large = head + "<main>" + ARTICLE * 40 + tail
    return {"page (stamped.html)": page, "large list page": large}


def compile_seconds(env: Environment, source: str, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        env.compile(source, "page.html")
    return (time.perf_counter() - started) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    plain = Environment()
    stamped = Environment(extensions=[StampExtension])
    print(f"{'template':22}{'KB':>6}{'plain ms':>10}{'stamped ms':>12}"
          f"{'ms/KB plain':>13}{'ms/KB stamped':>15}{'ratio':>7}")  # fmt: skip
    for name, source in sources().items():
        kb = len(source.encode()) / 1024
        n = max(3, int(200 / kb))
        timings: dict[str, list[float]] = {"plain": [], "stamped": []}
        for env in (plain, stamped):  # warm up
            compile_seconds(env, source, 2)
        for round_ in range(args.rounds):
            order = [("plain", plain), ("stamped", stamped)]
            for label, env in order if round_ % 2 else order[::-1]:
                timings[label].append(compile_seconds(env, source, n))
        a = statistics.median(timings["plain"]) * 1e3
        b = statistics.median(timings["stamped"]) * 1e3
        print(f"{name:22}{kb:>6.1f}{a:>10.2f}{b:>12.2f}{a / kb:>13.3f}"
              f"{b / kb:>15.3f}{b / a:>7.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
