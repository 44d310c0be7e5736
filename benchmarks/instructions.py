"""Instructions per request under callgrind: a cost measure the noise can't move.

Wall-clock ratios on a shared 2-core machine swing by several percent between
runs. ``valgrind --tool=callgrind`` counts executed instructions instead, which
is the same for the same code and inputs whatever else the machine is doing
(the children run with ``PYTHONHASHSEED=0``, so that even the layout of dicts
repeats). Each app of ``apps.py`` runs twice in its own process, after the same
warm-up, with a small and a large number of requests; the difference divided
by the difference in requests is the cost of one request, start-up and
warm-up cancelled out.

``--before SRC`` measures the rows that run Flask-Header-Policy's code a
second time with ``SRC`` (another checkout's ``src`` directory) first on
``sys.path``, so that before and after come from the same run on the same
machine.

Run: ``.venv/bin/python benchmarks/instructions.py`` (needs Debian's
``valgrind``; about half a minute per app, a few minutes for the apps with
10,000 routes).
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import apps  # noqa: E402

SMALL, LARGE = 200, 2200
_COLLECTED = re.compile(rb"Collected : (\d+)")


def child(name: str, requests: int) -> None:
    """Warm up, then run ``requests`` requests against the row numbered
    ``name`` (a number of fixed width, as ``requests``: every child's command
    line is as long as every other's, which moves nothing in its memory).

    Every row's process imports the same libraries, and after the warm-up
    ``gc.freeze()`` puts everything made so far (modules, the app, its
    caches) out of the collector's reach, as a forking server does with a
    preloaded app: what is counted is the requests' own work, including
    collecting what they allocate, not how many objects some import left for
    the occasional full collection to walk (which moved a row by thousands
    of instructions per request from one run to the next).
    """
    import flask_talisman  # type: ignore[import-untyped]  # noqa: F401
    import secure  # noqa: F401

    import flask_header_policy  # noqa: F401

    case = apps.case_named(list(apps.ROWS)[int(name)])
    environs = case.environs()
    apps.warm_up(case, environs)
    gc.collect()
    gc.freeze()
    apps.run(case.app, environs, requests)


def _our_src() -> str:
    import flask_header_policy

    return str(Path(flask_header_policy.__file__).parent.parent)


def instructions(name: str, requests: int, src: str | None = None) -> int:
    environ = dict(os.environ, PYTHONHASHSEED="0")
    # Our src first on the path for the rows "after" too: before and after
    # then differ in the code only, not in an environment variable.
    environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [src or _our_src(), environ.get("PYTHONPATH")])
    )
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/out",
                sys.executable,
                __file__,
                "--child",
                f"{list(apps.ROWS).index(name):03d}",
                f"{requests:06d}",
            ],
            capture_output=True,
            check=True,
            env=environ,
        )
    match = _COLLECTED.search(result.stderr)
    if match is None:
        raise RuntimeError(result.stderr.decode(errors="replace")[-2000:])
    return int(match.group(1))


def per_request(name: str, src: str | None = None) -> float:
    small, large = instructions(name, SMALL, src), instructions(name, LARGE, src)
    return (large - small) / (LARGE - SMALL)


def _figures(count: float, bare: float) -> str:
    return f"{count:>12,.0f}{count / bare:>8.3f}{count - bare:>+10,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("APP", "REQUESTS"))
    parser.add_argument(
        "--app",
        action="append",
        metavar="NAME",
        help="measure only this app (repeatable); its baseline is measured too",
    )
    parser.add_argument(
        "--before",
        metavar="SRC",
        help="measure our rows with this src directory too (e.g. main's)",
    )
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 1
    if args.app:
        unknown = set(args.app) - set(apps.ROWS)
        if unknown:
            parser.error(f"unknown app {sorted(unknown)}; choose in {list(apps.ROWS)}")
    if args.before and not (Path(args.before) / "flask_header_policy").is_dir():
        parser.error(f"--before {args.before}: no flask_header_policy package there")
    cases = apps.cases(args.app)
    after: dict[str, float] = {}
    before: dict[str, float] = {}
    for case in cases:
        after[case.name] = per_request(case.name)
        if args.before is not None and case.ours:
            before[case.name] = per_request(case.name, args.before)
    width = max(len(case.name) for case in cases)
    columns = f"{'instructions':>12}{'ratio':>8}{'+instr.':>10}"
    if args.before is not None:
        print(f"{'':{width}}  {'before':^30}  {'after':^30}")
        print(f"{'app':{width}}  {columns}  {columns}")
    else:
        print(f"{'app':{width}}  {columns}")
    for case in cases:
        bare = after[case.baseline]
        line = f"{case.name:{width}}  "
        if args.before is not None:
            line += (
                _figures(before[case.name], bare) if case.name in before else " " * 30
            ) + "  "
        print(line + _figures(after[case.name], bare))
    print(
        "\nratio and +instr.: to bare Flask on the same route"
        f" ({SMALL} and {LARGE} requests per process, PYTHONHASHSEED=0)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
