"""Instructions per request under callgrind: a cost measure the noise can't move.

Wall-clock ratios on a shared 2-core machine swing by several percent between
runs. ``valgrind --tool=callgrind`` counts executed instructions instead, which
is the same for the same code and inputs whatever else the machine is doing.
Each app of ``overhead.py`` runs twice in its own process, with a small and a
large number of requests; the difference divided by the difference in requests
is the cost of one request, start-up cancelled out.

Run: ``.venv/bin/python benchmarks/instructions.py`` (needs Debian's
``valgrind``; about a minute per app).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import overhead  # noqa: E402

SMALL, LARGE = 200, 2200
_COLLECTED = re.compile(rb"Collected : (\d+)")


def child(name: str, requests: int) -> None:
    """Run ``requests`` requests against the app called ``name``."""
    case = next(c for c in (f() for f in overhead.FACTORIES) if c.name == name)
    overhead.run(case.app, overhead.base_environ(), requests)


def instructions(name: str, requests: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/out",
                sys.executable,
                __file__,
                "--child",
                name,
                str(requests),
            ],
            capture_output=True,
            check=True,
        )
    match = _COLLECTED.search(result.stderr)
    if match is None:
        raise RuntimeError(result.stderr.decode(errors="replace")[-2000:])
    return int(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("APP", "REQUESTS"))
    parser.add_argument(
        "--app",
        action="append",
        metavar="NAME",
        help="measure only this app (repeatable; bare Flask is always measured)",
    )
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 1
    names = [factory().name for factory in overhead.FACTORIES]
    if args.app:
        unknown = set(args.app) - set(names)
        if unknown:
            parser.error(f"unknown app {sorted(unknown)}; choose among {names}")
        names = [n for n in names if n == overhead.BARE or n in args.app]
    per_request = {}
    for name in names:
        small, large = instructions(name, SMALL), instructions(name, LARGE)
        per_request[name] = (large - small) / (LARGE - SMALL)
    bare = per_request[overhead.BARE]
    print(f"{'app':30}{'instructions/request':>22}{'ratio':>8}")
    for name, count in per_request.items():
        print(f"{name:30}{count:>22,.0f}{count / bare:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
