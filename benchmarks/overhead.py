"""Per-request overhead of Flask-Header-Policy, side by side with bare Flask and peers.

The apps and routes are those of ``apps.py``: bare Flask, ten static headers
(by hand and ours), Flask-Talisman, ``secure``, the ``strict`` preset on a
string, a template using ``csp_nonce()``, JSON, a stamped template, a cookie,
behind the HTTPS redirect and among 10,000 routes, and a hand-written floor.
Requests are direct WSGI calls (no test client, no server, no sockets): one
environ per route is built once with ``EnvironBuilder`` and copied per call,
the app is called with a no-op ``start_response``, and the body is consumed
and closed. What is measured is therefore Flask's own request cycle plus
whatever each header library adds.

The apps are timed in rounds; each round runs every app once, in a rotated
order, so machine noise lands on all of them alike. The figure reported per app
is the median over rounds of the microseconds per request, and its ratio to
the bare app serving the same route.

Run it with ``make bench`` or ``.venv/bin/python benchmarks/overhead.py``;
``--help`` lists the options. See ``benchmarks/README.md`` for how to read it.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import math
import platform
import statistics
import sys
import time
import typing as t
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from apps import BARE  # noqa: E402
from apps import Case  # noqa: E402
from apps import cases as make_cases  # noqa: E402
from apps import check_all  # noqa: E402
from apps import ROUTES  # noqa: E402
from apps import ROWS  # noqa: E402
from apps import run as run_requests  # noqa: E402
from apps import STRICT  # noqa: E402
from apps import warm_up  # noqa: E402

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

BARE_ROUTES = f"{BARE} /, {ROUTES:,} routes"
STRICT_ROUTES = f"{STRICT} /, {ROUTES:,} routes"
#: Seconds each app runs per round when ``--requests`` is not given.
TARGET_SECONDS = 0.3
#: The targets of issue 13: strict's ratio to bare Flask, per route.
TARGETS = {"/": 1.05, "/page": 1.08, "/json": 1.03}


def run(app: WSGIApplication, environs: list[WSGIEnvironment], n: int) -> float:
    """Seconds taken by ``n`` requests to ``app``, to each environ in turn."""
    started = time.perf_counter()
    run_requests(app, environs, n)
    return time.perf_counter() - started


def calibrate(app: WSGIApplication, environs: list[WSGIEnvironment]) -> int:
    """Requests that take about ``TARGET_SECONDS``, from the best of 3 probes."""
    n = 200
    per_request = min(run(app, environs, n) / n for _ in range(3))
    return max(100, math.ceil(TARGET_SECONDS / per_request))


def measure(cases: list[Case], rounds: int, requests: int | None) -> None:
    environs = {case.name: case.environs() for case in cases}
    for case in cases:  # warm up: caches, lazy imports, every route once
        warm_up(case, environs[case.name])
    for case in cases:
        case.n = (
            requests
            if requests is not None
            else calibrate(case.app, environs[case.name])
        )
    for round_ in range(rounds):
        # Rotate the order so no app always runs first or after the same one.
        shift = round_ % len(cases)
        for case in cases[shift:] + cases[:shift]:
            gc.collect()
            seconds = run(case.app, environs[case.name], case.n)
            case.us_per_request.append(seconds / case.n * 1e6)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def report_json(cases: list[Case], rounds: int) -> str:
    by_name = {case.name: case for case in cases}
    return json.dumps(
        {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "versions": {
                dist: _version(dist)
                for dist in (
                    "flask",
                    "werkzeug",
                    "flask-header-policy",
                    "flask-talisman",
                    "secure",
                )
            },
            "rounds": rounds,
            "apps": [
                {
                    "app": case.name,
                    "route": case.route,
                    "baseline": case.baseline,
                    "requests_per_round": case.n,
                    "headers_sent": case.header_count,
                    "us_per_request_median": case.median,
                    "us_per_request_min": case.best,
                    "us_per_request_rounds": case.us_per_request,
                    "ratio_to_baseline": case.median / by_name[case.baseline].median,
                    "ratio_to_baseline_paired": _paired_ratio(
                        case, by_name[case.baseline]
                    ),
                }
                for case in cases
            ],
        },
        indent=2,
    )


def _paired_ratio(case: Case, bare: Case) -> float:
    """Median over rounds of this app's time over its baseline's in that round."""
    return statistics.median(
        a / b for a, b in zip(case.us_per_request, bare.us_per_request, strict=True)
    )


def report_table(cases: list[Case], rounds: int) -> str:
    by_name = {case.name: case for case in cases}
    width = max(len(case.name) for case in cases)
    lines = [
        f"Python {platform.python_version()}, Flask {_version('flask')},"
        f" Werkzeug {_version('werkzeug')}; {rounds} rounds, apps interleaved",
        "",
        f"{'app':<{width}}  {'requests':>8}  {'µs/req median':>13}  {'min':>7}"
        f"  {'ratio':>6}  {'paired':>6}",
    ]
    for case in cases:
        bare = by_name[case.baseline]
        lines.append(
            f"{case.name:<{width}}  {case.n:>8}  {case.median:>13.2f}"
            f"  {case.best:>7.2f}  {case.median / bare.median:>6.3f}"
            f"  {_paired_ratio(case, bare):>6.3f}"
        )
    lines += [
        "",
        "ratio: median / the median of bare Flask on the same route; paired:"
        " median over rounds of (app / bare Flask in the same round)",
    ]
    targets = [
        (target, by_name.get(f"{STRICT} {route}")) for route, target in TARGETS.items()
    ]
    if any(case is not None for _, case in targets):
        lines.append("")
    for target, case in targets:
        if case is not None:
            bare = by_name[case.baseline]
            lines.append(
                f"{case.name}: ratio {case.median / bare.median:.3f} to bare Flask"
                f" (target <= {target})"
            )
    for one, many in ((BARE, BARE_ROUTES), (f"{STRICT} /", STRICT_ROUTES)):
        if one in by_name and many in by_name:
            lines.append(
                f"{many}: {by_name[many].median / by_name[one].median:.3f} times"
                f" the µs per request of {one} (1 route)"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Per-request overhead of Flask-Header-Policy and its peers.",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=9,
        help="rounds; each runs every app once (default: 9)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=None,
        help=(
            "requests per app per round (default: calibrated to about"
            f" {TARGET_SECONDS} s per app per round)"
        ),
    )
    parser.add_argument(
        "--app",
        action="append",
        metavar="NAME",
        help="time only this app and its baseline (repeatable)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON instead of the table"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.requests is not None and args.requests < 1:
        parser.error("--requests must be at least 1")
    if args.app:
        unknown = set(args.app) - set(ROWS)
        if unknown:
            parser.error(f"unknown app {sorted(unknown)}; choose among {list(ROWS)}")

    cases = make_cases(args.app)
    problems = check_all(cases)
    for case in cases:
        if not args.json:
            verdict = "OK" if not problems[case.name] else "FAILED"
            print(
                f"check {case.name}: {verdict}, sends {case.header_count} headers",
                flush=True,
            )
        for problem in problems[case.name]:
            print(f"  {case.name}: {problem}", file=sys.stderr, flush=True)
    if any(problems.values()):
        print("sanity check failed: not benchmarking", file=sys.stderr)
        return 1
    if not args.json:
        print()

    measure(cases, args.rounds, args.requests)
    print(
        report_json(cases, args.rounds)
        if args.json
        else report_table(cases, args.rounds)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
