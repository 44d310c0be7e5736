"""10,000 reports from concurrent clients, over real HTTP, on a real threaded
server, on SQLite and on PostgreSQL: each accepted report is counted exactly
once, none is lost, and memory stays bounded.

The reports per second are printed, not asserted: timing is not a pass/fail
matter on a shared machine.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy import NONE
from flask_header_policy import SELF

CLIENTS = 8
SINGLE_POSTS = 250  # application/csp-report, one report each, per client
BATCH_POSTS = 100  # application/reports+json, BATCH reports each, per client
BATCH = 10
HOSTS = 150  # distinct blocked hosts: 150 fingerprints, each hit often
TOTAL = CLIENTS * (SINGLE_POSTS + BATCH_POSTS * BATCH)
CSP = ContentSecurityPolicy(default_src=NONE, img_src=SELF)


class KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # one connection per client, as browsers do

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def legacy(host: int, policy: str) -> bytes:
    return json.dumps(
        {
            "csp-report": {
                "document-uri": "http://127.0.0.1/page",
                "blocked-uri": f"https://cdn{host}.example/img.png",
                "effective-directive": "img-src",
                "original-policy": policy,
                "disposition": "enforce",
            }
        }
    ).encode()


def batch(hosts: list[int], policy: str) -> bytes:
    return json.dumps(
        [
            {
                "type": "csp-violation",
                "url": "https://127.0.0.1/page",
                "age": 10,
                "body": {
                    "documentURL": "https://127.0.0.1/page",
                    "blockedURL": f"https://cdn{host}.example/img.png",
                    "effectiveDirective": "img-src",
                    "originalPolicy": policy,
                    "disposition": "enforce",
                },
            }
            for host in hosts
        ]
    ).encode()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_ten_thousand_reports_counted_exactly_once(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'load.sqlite3'}"
    else:
        url = t.cast(str, request.getfixturevalue("postgres_url"))
    app = Flask("load", instance_path=str(tmp_path))
    policy = HeaderPolicy(app, headers={"Content-Security-Policy": CSP})

    @app.get("/page")
    def page() -> str:
        return "<p>page</p>"

    # One "client" address for all the test's connections: no rate limit.
    collector = policy.collect_reports(app, database=url, rate=None)
    sent_policy = app.test_client().get("/page").headers["Content-Security-Policy"]
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=KeepAliveHandler
    )
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    expected = [0] * HOSTS
    statuses: list[int] = []
    lock = threading.Lock()
    queue_peak = [0]
    done = threading.Event()

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(
            "127.0.0.1", server.server_port, timeout=30
        )
        mine: list[int] = []
        counts = [0] * HOSTS
        try:
            for i in range(SINGLE_POSTS + BATCH_POSTS):
                if i < SINGLE_POSTS:
                    host = (number * 31 + i) % HOSTS
                    body, kind = legacy(host, sent_policy), "application/csp-report"
                    counts[host] += 1
                else:
                    hosts = [
                        (number * 17 + i * BATCH + k) % HOSTS for k in range(BATCH)
                    ]
                    body, kind = batch(hosts, sent_policy), "application/reports+json"
                    for host in hosts:
                        counts[host] += 1
                connection.request(
                    "POST", "/__csp-reports", body=body, headers={"Content-Type": kind}
                )
                response = connection.getresponse()
                response.read()
                mine.append(response.status)
        finally:
            connection.close()
            with lock:
                statuses.extend(mine)
                for host, n in enumerate(counts):
                    expected[host] += n

    def watch_queue() -> None:
        writer = app.extensions["header_policy_reports"].writer
        while not done.is_set():
            queue_peak[0] = max(queue_peak[0], len(writer))
            time.sleep(0.01)

    rss_before = rss_kib()
    watcher = threading.Thread(target=watch_queue, daemon=True)
    watcher.start()
    started = time.perf_counter()
    clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    assert collector.flush(app, timeout=60)
    elapsed = time.perf_counter() - started
    done.set()
    watcher.join()
    rss_after = rss_kib()
    server.shutdown()
    server.server_close()

    assert statuses == [204] * (CLIENTS * (SINGLE_POSTS + BATCH_POSTS))
    assert sum(expected) == TOTAL >= 10_000
    store = collector.store(app)
    rows = store.fingerprints()
    assert len(rows) == HOSTS
    stored = {row["blocked"]: row["count"] for row in rows}
    assert stored == {f"https://cdn{h}.example": n for h, n in enumerate(expected)}
    assert store.total() == TOTAL
    counters = store.counters()
    assert counters["accepted"] == TOTAL
    assert counters["received:csp-report"] + counters["received:reports+json"] == TOTAL
    assert not [name for name in counters if name.startswith(("dropped", "noise"))]
    # Bounded memory: the queue never held more than its bound, and the
    # process grew by far less than the reports would take if kept.
    assert queue_peak[0] <= 10_000
    assert rss_after - rss_before < 64 * 1024
    with capsys.disabled():
        print(
            f"\n[reports load] {backend}: {TOTAL} reports in {elapsed:.2f} s ="
            f" {TOTAL / elapsed:,.0f} reports/s ({CLIENTS} clients,"
            f" {CLIENTS * (SINGLE_POSTS + BATCH_POSTS)} requests), queue peak"
            f" {queue_peak[0]}, RSS +{(rss_after - rss_before) / 1024:.1f} MiB"
        )
