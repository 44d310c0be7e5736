"""The store, the same suite on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from flask_header_policy.reports.collect import Report
from flask_header_policy.reports.limits import Counters
from flask_header_policy.reports.store import reports as reports_table
from flask_header_policy.reports.store import ReportStore
from flask_header_policy.reports.store import upsert_statement
from flask_header_policy.reports.writer import Writer

T0 = datetime.datetime(2026, 1, 10, 12, 0, tzinfo=datetime.UTC)


def report(blocked: str = "https://cdn.example", **changes: object) -> Report:
    base = Report(
        type="csp-violation",
        time=T0,
        document_url="https://app.example/gallery",
        endpoint="gallery",
        rule="/gallery",
        layer="app",
        header="Content-Security-Policy-Report-Only",
        directive="img-src",
        blocked=blocked,
        blocked_url=blocked + "/a.png",
        source_file="",
        sample="",
        disposition="report",
        browser="Chrome",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def store(database_url: str) -> ReportStore:
    store = ReportStore(database_url)
    yield store  # type: ignore[misc]
    store.dispose()


def test_one_row_per_fingerprint_counts_and_times(store: ReportStore) -> None:
    later = T0 + datetime.timedelta(hours=1)
    store.write(
        [
            report(),
            report(time=later, blocked_url="https://cdn.example/latest.png"),
            report("https://other.example"),
        ]
    )
    rows = {row["blocked"]: row for row in store.fingerprints()}
    assert set(rows) == {"https://cdn.example", "https://other.example"}
    cdn = rows["https://cdn.example"]
    assert cdn["count"] == 2
    assert (cdn["first_seen"], cdn["last_seen"]) == (T0, later)
    assert cdn["blocked_url"] == "https://cdn.example/latest.png"
    assert (cdn["endpoint"], cdn["rule"], cdn["layer"]) == (
        "gallery",
        "/gallery",
        "app",
    )
    assert store.total() == 3


def test_later_batches_add_up_and_older_ones_do_not_move_last_seen(
    store: ReportStore,
) -> None:
    store.write([report(time=T0 + datetime.timedelta(hours=2), sample="newest")])
    # An older report arrives late (another worker, a slow browser).
    store.write([report(time=T0 - datetime.timedelta(hours=1), sample="oldest")])
    store.write([report(time=T0, sample="middle")] * 3)
    (row,) = store.fingerprints()
    assert row["count"] == 5
    assert row["first_seen"] == T0 - datetime.timedelta(hours=1)
    assert row["last_seen"] == T0 + datetime.timedelta(hours=2)
    assert row["sample"] == "newest"


def test_counters_add_up(store: ReportStore) -> None:
    store.write([], {"noise:extension": 2, "rate-limited": 1})
    store.write([report()], {"noise:extension": 3, "accepted": 1})
    assert store.counters() == {"noise:extension": 5, "rate-limited": 1, "accepted": 1}


def test_query_since_and_route(store: ReportStore) -> None:
    store.write(
        [
            report(time=T0 - datetime.timedelta(days=10)),
            report("https://new.example", endpoint="admin.users", rule="/admin/users"),
        ]
    )
    since = T0 - datetime.timedelta(days=1)
    assert [r["blocked"] for r in store.fingerprints(since=since)] == [
        "https://new.example"
    ]
    by_endpoint = store.fingerprints(route="admin.users")
    by_rule = store.fingerprints(route="/admin/users")
    assert [r["endpoint"] for r in by_endpoint] == ["admin.users"]
    assert by_rule == by_endpoint
    assert store.fingerprints(route="nothing") == []
    # Most recently seen first.
    assert [r["blocked"] for r in store.fingerprints()] == [
        "https://new.example",
        "https://cdn.example",
    ]


def test_a_failing_batch_stores_nothing(store: ReportStore) -> None:
    store.write([report()], {"accepted": 1})
    broken = report("https://broken.example", sample=None)  # NOT NULL
    with pytest.raises(sa.exc.IntegrityError):
        store.write([report(), broken], {"accepted": 2})
    assert store.total() == 1
    assert store.counters() == {"accepted": 1}


def test_update_then_insert_for_other_databases(store: ReportStore) -> None:
    """The portable path for dialects without an upsert, run here on both."""
    store.create()
    rows = [
        {
            **{c.name: None for c in reports_table.columns},
            "fingerprint": "f" * 32, "type": "csp-violation", "directive": "img-src",
            "blocked": "https://cdn.example", "disposition": "report",
            "browser": "Chrome", "document_url": "https://a.example/",
            "blocked_url": "", "source_file": "", "sample": "", "count": 2,
            "first_seen": T0, "last_seen": T0,
        }
    ]  # fmt: skip
    for _ in range(2):
        with store.engine.begin() as connection:
            store._update_then_insert(connection, rows)
    (row,) = store.fingerprints()
    assert row["count"] == 4


def test_mysql_gets_on_duplicate_key_update() -> None:
    rows = [{"fingerprint": "f", "count": 1, "first_seen": T0, "last_seen": T0}]
    statement = upsert_statement("mysql", rows)
    assert statement is not None
    sql = str(statement.compile(dialect=mysql.dialect()))
    assert "ON DUPLICATE KEY UPDATE" in sql
    assert upsert_statement("oracle", rows) is None


def test_concurrent_writers_lose_nothing(database_url: str) -> None:
    """Four stores (as four workers would have) write the same fingerprints
    at once: every count arrives."""
    stores = [ReportStore(database_url) for _ in range(4)]
    stores[0].create()
    errors: list[BaseException] = []

    def work(store: ReportStore, offset: int) -> None:
        try:
            for round_ in range(25):
                batch = [
                    report(f"https://h{(offset + i + round_) % 7}.example")
                    for i in range(8)
                ]
                store.write(batch, {"accepted": len(batch)})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stores[0].total() == 4 * 25 * 8
    assert stores[0].counters() == {"accepted": 4 * 25 * 8}
    assert len(stores[0].fingerprints()) == 7
    for store in stores:
        store.dispose()


def test_writer_writes_everything_it_accepted(store: ReportStore) -> None:
    counters = Counters()
    writer = Writer(store, counters, batch_size=50)
    queued = sum(
        writer.submit([report(f"https://h{i % 13}.example")] * 3) for i in range(200)
    )
    counters.add("accepted", queued)
    assert writer.flush(timeout=30)
    assert queued == 600
    assert store.total() == 600
    assert store.counters() == {"accepted": 600}
    assert len(writer) == 0


# Backend specifics.


def test_sqlite_file_is_created_on_first_write_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "reports.sqlite3"
    store = ReportStore(f"sqlite:///{path}")
    # Reading an absent database answers "nothing" and creates nothing.
    assert store.fingerprints() == [] and store.counters() == {} and store.total() == 0
    assert not path.exists()
    store.write([report()])
    assert path.is_file()
    with store.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    store.dispose()


@pytest.mark.postgres
def test_postgres_rejects_nothing_a_clean_report_can_hold(postgres_url: str) -> None:
    """What the collector lets through (cleaned text, bounded lengths) fits
    PostgreSQL, which refuses NUL and checks VARCHAR lengths."""
    from flask_header_policy.reports.collect import clean

    garbage = "\x00\ud800\u202e\x85é😀" * 200
    store = ReportStore(postgres_url)
    store.write(
        [
            report(
                "https://cdn.example",
                sample=clean(garbage, 80),
                blocked_url=clean(garbage, 1024),
                document_url=clean(garbage, 1024),
                source_file=clean(garbage, 1024),
            )
        ]
    )
    (row,) = store.fingerprints()
    assert "\x00" not in row["sample"] and "😀" in row["sample"]
    store.dispose()


def test_overlong_text_is_cut_to_its_column(store: ReportStore) -> None:
    """A hand-made Report (or a bound missed upstream) never fails a batch:
    each text is cut to its column, and the good report beside it is kept."""
    store.write(
        [
            report(directive="d" * 500, blocked="b" * 5000, endpoint="e" * 999),
            report("https://good.example"),
        ]
    )
    rows = {row["blocked"][:4]: row for row in store.fingerprints()}
    assert set(rows) == {"bbbb", "http"}
    long = rows["bbbb"]
    assert (len(long["directive"]), len(long["blocked"]), len(long["endpoint"])) == (
        100,
        1100,
        255,
    )


def test_database_down_is_counted_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The writer drops, counts and logs once; when the database is back the
    drop counts are written too."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    store = ReportStore(f"sqlite:///{blocker / 'reports.sqlite3'}")
    counters = Counters()
    logger = logging.getLogger("test.reports.down")
    writer = Writer(store, counters, logger=logger, retry_delays=(0.01,))
    with caplog.at_level(logging.ERROR, logger="test.reports.down"):
        for _ in range(3):
            counters.add("accepted", writer.submit([report()] * 2))
            assert writer.flush(timeout=30) is False
    assert counters.totals()["dropped:database"] == 6
    assert len([r for r in caplog.records if "cannot write" in r.message]) == 1
    # Back: the folder exists now.
    blocker.unlink()
    blocker.mkdir()
    counters.add("accepted", writer.submit([report()]))
    assert writer.flush(timeout=30)
    assert store.total() == 1
    assert store.counters() == {"accepted": 7, "dropped:database": 6}
    store.dispose()


def test_accepted_reports_are_written_at_exit(tmp_path: Path) -> None:
    """A process that ends without flushing still writes what it accepted."""
    import subprocess
    import sys
    import textwrap

    database = tmp_path / "exit.sqlite3"
    script = textwrap.dedent(
        f"""
        import json
        from flask import Flask
        from flask_header_policy import HeaderPolicy
        app = Flask("exiting")
        policy = HeaderPolicy(app)
        policy.collect_reports(app, database="sqlite:///{database}", rate=None)
        client = app.test_client()
        for i in range(300):
            body = {{"csp-report": {{"document-uri": "http://localhost/",
                    "blocked-uri": f"https://h{{i % 5}}.example/",
                    "effective-directive": "img-src"}}}}
            response = client.post("/__csp-reports", data=json.dumps(body),
                                   content_type="application/csp-report")
            assert response.status_code == 204
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    store = ReportStore(f"sqlite:///{database}")
    assert store.total() == 300
    assert store.counters()["accepted"] == 300


def test_a_forked_worker_writes_its_own_reports(tmp_path: Path) -> None:
    """Pre-forking servers (gunicorn --preload): the child starts its own
    writer instead of waiting on the parent's thread."""
    import os
    import warnings

    store = ReportStore(f"sqlite:///{tmp_path / 'fork.sqlite3'}")
    counters = Counters()
    writer = Writer(store, counters)
    writer.submit([report()])
    assert writer.flush(timeout=30)
    store.dispose()  # no connection crosses the fork
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a process with threads: that is
        # the case under test.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: exit code 0 only if its reports are written
        ok = writer.submit([report()] * 2) == 2 and writer.flush(timeout=30)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.total() == 3
