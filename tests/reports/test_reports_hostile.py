"""Hostile reports: huge, deeply nested, not JSON, wrong types, unicode
garbage, floods. Each gets a 4xx or is rate-limited; nothing crashes, nothing
grows without bound, and nothing of a refused body is stored."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy import NONE
from flask_header_policy.reports import MAX_BODY
from flask_header_policy.reports import ReportCollector

URL = "/__csp-reports"


def make(tmp_path: Path, **options: t.Any) -> tuple[Flask, ReportCollector]:
    app = Flask("hostile", instance_path=str(tmp_path / "instance"))
    app.testing = True
    policy = HeaderPolicy(
        app,
        headers={"Content-Security-Policy": ContentSecurityPolicy(default_src=NONE)},
    )

    @app.get("/")
    def index() -> str:
        return "<p>x</p>"

    return app, policy.collect_reports(app, **options)


def report(
    blocked: str = "https://evil.example/x.png", **extra: t.Any
) -> dict[str, t.Any]:
    return {
        "csp-report": {
            "document-uri": "http://localhost/",
            "blocked-uri": blocked,
            "effective-directive": "img-src",
            **extra,
        }
    }


def post(
    client: FlaskClient, body: bytes, kind: str = "application/csp-report", **kw: t.Any
) -> t.Any:
    return client.post(URL, data=body, content_type=kind, **kw)


def nothing_stored(app: Flask, collector: ReportCollector) -> bool:
    assert collector.flush(app)
    return collector.store(app).fingerprints() == []


NESTED = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("body", "kind", "status"),
    [
        (b"x" * (MAX_BODY + 1), "application/csp-report", 413),
        (b"\xff\xfe{}", "application/csp-report", 400),
        (b"hello", "application/csp-report", 400),
        (b"{", "application/reports+json", 400),
        (b"", "application/json", 400),
        (b'{"csp-report": NaN}', "application/csp-report", 400),
        (
            b'{"csp-report": {"document-uri": "http://localhost/", "line-number": '
            + b"9" * 5000
            + b"}}",
            "application/csp-report",
            400,
        ),
        (NESTED[:MAX_BODY].encode(), "application/json", 400),
        (
            json.dumps(report(x=json.loads("[" * 50 + "]" * 50))).encode(),
            "application/csp-report",
            400,
        ),
        (b'"' + b"[" * 60000 + b'"', "application/json", 400),
        # Wrong shapes.
        (b"[]", "application/csp-report", 400),
        (b'{"csp-report": []}', "application/csp-report", 400),
        (b'{"csp-report": {"document-uri": 5}}', "application/csp-report", 400),
        (b'{"csp-report": {"blocked-uri": "x"}}', "application/csp-report", 400),
        (
            json.dumps(report(**{"script-sample": {"a": 1}})).encode(),
            "application/csp-report",
            400,
        ),
        (b'{"type": "csp-violation"}', "application/reports+json", 400),
        (b"[1, 2]", "application/reports+json", 400),
        (b'[{"body": {}}]', "application/reports+json", 400),
        (b'[{"type": "Not A Type!", "body": {}}]', "application/reports+json", 400),
        (b'[{"type": "csp-violation", "body": "x"}]', "application/reports+json", 400),
        (
            b'[{"type": "csp-violation", "age": "old", "body": {}}]',
            "application/reports+json",
            400,
        ),
        (
            b'[{"type": "csp-violation", "body": {"lineNumber": "1"}}]',
            "application/reports+json",
            400,
        ),
        (
            b'[{"type": "integrity-violation", "body": {"reportOnly": "yes"}}]',
            "application/reports+json",
            400,
        ),
        (b"42", "application/json", 400),
        # Not a report media type.
        (json.dumps(report()).encode(), "text/plain", 415),
        (json.dumps(report()).encode(), "application/x-www-form-urlencoded", 415),
    ],
)
def test_refused_bodies_store_nothing(
    tmp_path: Path, body: bytes, kind: str, status: int
) -> None:
    app, collector = make(tmp_path)
    client = app.test_client()
    # A good report in the same batch as bad ones is refused with them.
    response = post(client, body, kind)
    assert response.status_code == status
    assert response.mimetype == "text/plain"
    assert b"Traceback" not in response.data and len(response.data) < 200
    assert nothing_stored(app, collector)


def test_one_bad_report_refuses_the_whole_batch(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    good = {
        "type": "csp-violation",
        "url": "http://localhost/",
        "body": {
            "documentURL": "http://localhost/",
            "effectiveDirective": "img-src",
            "blockedURL": "https://a.example/",
        },
    }
    bad = {**good, "body": {**good["body"], "blockedURL": ["x"]}}
    response = post(
        app.test_client(), json.dumps([good, bad]).encode(), "application/reports+json"
    )
    assert response.status_code == 400
    assert nothing_stored(app, collector)


def test_get_is_not_allowed(tmp_path: Path) -> None:
    app, _ = make(tmp_path)
    assert app.test_client().get(URL).status_code == 405


class CountingInput:
    """Wraps wsgi.input to count what the collector reads."""

    read_total = 0

    def __init__(self, stream: t.Any) -> None:
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        CountingInput.read_total += len(data)
        return t.cast(bytes, data)

    def readline(self, size: int = -1) -> bytes:
        return t.cast(bytes, self.stream.readline(size))


class Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def test_huge_bodies_over_http_are_read_only_up_to_the_bound(tmp_path: Path) -> None:
    """Chunked (no Content-Length) and lying Content-Length bodies: at most
    64 KiB + 1 bytes are read, then 413."""
    app, collector = make(tmp_path)
    inner = app.wsgi_app

    def counting(environ: t.Any, start_response: t.Any) -> t.Any:
        environ["wsgi.input"] = CountingInput(environ["wsgi.input"])
        return inner(environ, start_response)

    app.wsgi_app = counting  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # 1. Chunked, 4 MiB, no Content-Length.
        def chunks() -> t.Iterator[bytes]:
            for _ in range(64):
                yield b"[" * 65536

        connection = http.client.HTTPConnection(
            "127.0.0.1", server.server_port, timeout=10
        )
        CountingInput.read_total = 0
        connection.request(
            "POST", URL, body=chunks(), encode_chunked=True,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        response = connection.getresponse()
        assert response.status == 413
        assert CountingInput.read_total <= MAX_BODY + 1
        connection.close()
        # 2. Content-Length claims a gigabyte: refused before reading.
        connection = http.client.HTTPConnection(
            "127.0.0.1", server.server_port, timeout=10
        )
        CountingInput.read_total = 0
        connection.putrequest("POST", URL)
        connection.putheader("Content-Type", "application/csp-report")
        connection.putheader("Content-Length", str(10**9))
        connection.endheaders()
        connection.send(b"{}")
        response = connection.getresponse()
        assert response.status == 413
        assert CountingInput.read_total == 0
        connection.close()
    finally:
        server.shutdown()
        server.server_close()
    assert nothing_stored(app, collector)


@pytest.mark.parametrize(
    "garbage",
    [
        "\\ud800\\udfff\\ud83d",  # lone surrogates, as JSON escapes
        "\\u0000\\u0007\\u001b[31m\\u0085\\u009b",  # NUL, BEL, ESC, C1 controls
        "\\u202egnp.live\\u2066x\\u2069",  # bidirectional overrides
        "é😀" + "\\ufffd" * 3 + "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    ],
)
def test_unicode_garbage_is_cleaned_on_every_backend(
    tmp_path: Path, database_url: str, garbage: str
) -> None:
    app, collector = make(tmp_path, database=database_url)
    body = (
        '{"csp-report": {"document-uri": "http://localhost/?q=%s",'
        ' "blocked-uri": "https://cdn.example/%s.png",'
        ' "effective-directive": "img-src%s",'
        ' "script-sample": "%s", "source-file": "%s"}}'
    ) % ((garbage,) * 5)
    response = post(app.test_client(), (body * 1).encode("utf-8"))
    assert response.status_code == 204
    (row,) = collector.store(app).fingerprints() if collector.flush(app) else []
    for value in row.values():
        if isinstance(value, str):
            assert not any(
                0xD800 <= ord(c) <= 0xDFFF or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F
                or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069
                for c in value
            ), value  # fmt: skip
    collector.store(app).dispose()


def test_text_that_grows_when_lower_cased_cannot_poison_a_batch(
    tmp_path: Path, database_url: str
) -> None:
    """'İ' lower-cases to two code points: a directive or a host cut to its
    bound and then lower-cased overflowed PostgreSQL's VARCHAR, which failed
    the whole batch, so one such report dropped every good report written
    with it (and logged a database outage)."""
    app, collector = make(tmp_path, database=database_url)
    client = app.test_client()
    good = json.dumps(report()).encode()
    poison = json.dumps(
        report(
            blocked="https://" + "İ" * 1100 + "/x.png",
            **{"effective-directive": "İ" * 200},
        )
    ).encode()
    reporting_api = json.dumps(
        [
            {
                "type": "csp-violation",
                "url": "http://localhost/",
                "body": {
                    "documentURL": "http://localhost/" + "İ" * 1100,
                    "effectiveDirective": "İ" * 200,
                    "blockedURL": "https://" + "İ" * 1100,
                },
            }
        ]
    ).encode()
    assert post(client, good).status_code == 204
    assert post(client, poison).status_code == 204
    assert post(client, reporting_api, "application/reports+json").status_code == 204
    assert post(client, good).status_code == 204
    assert collector.flush(app)
    counters = collector.store(app).counters()
    assert not any(name.startswith("dropped") for name in counters), counters
    rows = collector.store(app).fingerprints()
    assert sum(row["count"] for row in rows) == 4
    for row in rows:
        assert len(row["directive"]) <= 100
        assert len(row["blocked"]) <= 1100
    collector.store(app).dispose()


def test_a_thousand_fingerprints_a_second_from_one_client(tmp_path: Path) -> None:
    """The default per-client bucket (5/s, burst 100) stops the flood."""
    app, collector = make(tmp_path)
    client = app.test_client()
    started = time.monotonic()
    codes = [
        post(client, json.dumps(report(f"https://h{i}.example/")).encode()).status_code
        for i in range(1000)
    ]
    elapsed = time.monotonic() - started
    accepted = codes.count(204)
    assert set(codes) == {204, 429}
    assert 100 <= accepted <= 100 + 5 * elapsed + 1
    assert (
        len(collector.store(app).fingerprints() if collector.flush(app) else [])
        == accepted
    )
    assert collector.store(app).counters()["rate-limited"] == 1000 - accepted


def test_distinct_fingerprints_are_budgeted(tmp_path: Path) -> None:
    """Without a rate limit (or from many clients), new fingerprints are
    capped per hour; known ones still count."""
    app, collector = make(tmp_path, rate=None, max_new_fingerprints=50)
    client = app.test_client()
    for i in range(1000):
        post(client, json.dumps(report(f"https://h{i}.example/")).encode())
    post(client, json.dumps(report("https://h0.example/")).encode())
    assert collector.flush(app)
    rows = collector.store(app).fingerprints()
    assert len(rows) == 50
    assert sum(r["count"] for r in rows) == 51
    assert collector.store(app).counters()["fingerprint-flood"] == 950


def test_in_memory_tables_stay_bounded(tmp_path: Path) -> None:
    app, collector = make(tmp_path, max_clients=100)
    state = app.extensions["header_policy_reports"]
    state.budget.remember = 200
    client = app.test_client()
    for i in range(1500):
        post(
            client,
            json.dumps(report(f"https://h{i}.example/")).encode(),
            environ_base={"REMOTE_ADDR": f"10.0.{i // 250}.{i % 250}"},
        )
    assert collector.flush(app)
    assert len(state.buckets) == 100
    assert len(state.budget) == 200
    assert len(state.writer) == 0


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False)
            | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "csp-report",
                            "type",
                            "body",
                            "url",
                            "age",
                            "document-uri",
                            "blocked-uri",
                            "documentURL",
                            "blockedURL",
                            "effectiveDirective",
                            "originalPolicy",
                            "sample",
                            "disposition",
                            "reportOnly",
                            "x",
                        ]
                    ),
                    inner,
                    max_size=5,
                )
            ),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
    ),
    kind=st.sampled_from(
        ["application/csp-report", "application/reports+json", "application/json"]
    ),
)
def test_fuzzed_bodies_never_crash(
    tmp_path_factory: pytest.TempPathFactory, body: bytes, kind: str
) -> None:
    app, _ = FUZZ_APP.get(tmp_path_factory)
    response = post(app.test_client(), body, kind)
    assert response.status_code in (204, 400)


class _FuzzApp:
    """One app for every fuzz example (an app per example would be slow)."""

    made: tuple[Flask, ReportCollector] | None = None

    def get(self, factory: pytest.TempPathFactory) -> tuple[Flask, ReportCollector]:
        if self.made is None:
            self.made = make(factory.mktemp("fuzz"), rate=None)
        return self.made


FUZZ_APP = _FuzzApp()


def test_nothing_was_logged_as_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app, collector = make(tmp_path)
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        for body in (
            b"{",
            b"[]",
            NESTED[:1000].encode(),
            json.dumps(report()).encode(),
        ):
            post(client, body)
        assert collector.flush(app)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
