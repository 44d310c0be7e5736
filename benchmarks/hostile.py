"""Time and peak memory of the live audit against hostile servers.

Each case starts a misbehaving server on 127.0.0.1 (``tests/hostile.py``) and
audits it in a fresh child process, which reports its wall-clock time and how
much its peak RSS (``ru_maxrss``) grew during the audit. A child still
running after ``--kill`` seconds is killed and reported as such.

Cases: a header block and a body dripped one byte every 0.5 s
(``--timeout 2``), a ``Content-Encoding: gzip, gzip`` bomb and a one-layer
gzip bomb (each 1 GiB of zeros once decoded), and an HTML body labelled
``charset=punycode`` (Python's punycode codec is quadratic on it).

Run: ``.venv/bin/python benchmarks/hostile.py`` (about a minute on fixed
code). ``--punycode-size`` sets the punycode body (default 2,000,000 bytes,
the audit's cap); ``--only`` picks cases. ``PYTHONPATH=other/src`` measures
another checkout of the package.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

import hostile  # noqa: E402

GIB = 1 << 30
CHILD = """
import json, resource, sys, time
from flask_header_policy.audit.live import audit_url, AuditError
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
try:
    audit = audit_url(sys.argv[1], timeout=float(sys.argv[2]))
    body = [f.code for f in audit.result.findings if f.code.startswith("body-")]
    outcome = f"graded {audit.grade}; " + "; ".join(body)
except AuditError as exc:
    outcome = f"AuditError: {exc}"
except MemoryError:
    outcome = "MemoryError"
elapsed = time.monotonic() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
growth = after - before
print(json.dumps({"elapsed": elapsed, "growth_kib": growth, "outcome": outcome}))
"""


def measure(handler: hostile.Handler, timeout: float, kill: float) -> dict[str, object]:
    with hostile.raw_server(handler) as port:
        url = f"http://127.0.0.1:{port}/"
        start = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, url, str(timeout)],
                capture_output=True,
                text=True,
                timeout=kill,
            )
        except subprocess.TimeoutExpired:
            elapsed = time.monotonic() - start
            return {"elapsed": elapsed, "growth_kib": None, "outcome": "killed"}
    if done.returncode != 0:
        return {"elapsed": None, "growth_kib": None, "outcome": done.stderr[-300:]}
    return dict(json.loads(done.stdout.splitlines()[-1]))


Cases = dict[str, tuple[hostile.Handler, float]]


def cases(punycode_size: int, drip_limit: float) -> Cases:
    one_layer = hostile.gzip_zeros(GIB)
    two_layers = hostile.gzip_bytes(one_layer)
    punycode = b"-" + b"9" * (punycode_size - 1)
    return {
        "drip-headers": (hostile.drip_headers(drip_limit), 2.0),
        "drip-body": (hostile.drip_body(drip_limit), 2.0),
        f"gzip,gzip bomb ({len(two_layers):,} bytes)": (
            hostile.respond(two_layers, encoding=b"gzip, gzip"),
            10.0,
        ),
        f"gzip bomb ({len(one_layer):,} bytes)": (
            hostile.respond(one_layer, encoding=b"gzip"),
            10.0,
        ),
        f"punycode ({punycode_size:,} bytes)": (
            hostile.respond(punycode, content_type=b"text/html; charset=punycode"),
            10.0,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--punycode-size", type=int, default=2_000_000)
    parser.add_argument("--kill", type=float, default=30.0)
    parser.add_argument(
        "--drip-limit",
        type=float,
        default=60.0,
        help="seconds a dripping server keeps a connection open",
    )
    parser.add_argument("--only", help="run the cases whose name contains this")
    args = parser.parse_args(argv)
    print(f"{'case':<36} {'time (s)':>9} {'peak RSS growth':>16}  outcome")
    for name, (handler, timeout) in cases(args.punycode_size, args.drip_limit).items():
        if args.only and args.only not in name:
            continue
        row = measure(handler, timeout, args.kill)
        elapsed = "-" if row["elapsed"] is None else f"{row['elapsed']:.2f}"
        growth = row["growth_kib"]
        memory = "-" if growth is None else f"{int(str(growth)) / 1024:,.1f} MiB"
        print(f"{name:<36} {elapsed:>9} {memory:>16}  {row['outcome']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
