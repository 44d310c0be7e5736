"""Reading and normalising reports, and the limits (sans-IO)."""

from __future__ import annotations

import json
import typing as t

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flask_header_policy.reports.collect import blocked_source
from flask_header_policy.reports.collect import browser_family
from flask_header_policy.reports.collect import check_depth
from flask_header_policy.reports.collect import clean
from flask_header_policy.reports.collect import document_url
from flask_header_policy.reports.collect import read_reports
from flask_header_policy.reports.collect import ReportError
from flask_header_policy.reports.limits import Counters
from flask_header_policy.reports.limits import FingerprintBudget
from flask_header_policy.reports.limits import TokenBuckets
from flask_header_policy.reports.wiring import policy_key


def test_legacy_report_fields() -> None:
    body = {
        "csp-report": {
            "document-uri": "https://app.example/page?x=1",
            "blocked-uri": "inline",
            "violated-directive": "script-src-elem 'self'",
            "original-policy": "script-src 'self'",
            "disposition": "report",
            "script-sample": "alert(1)",
            "source-file": "https://app.example/page",
            "line-number": 3,
        }
    }
    (raw,) = read_reports(json.dumps(body).encode(), "application/csp-report", "UA")
    assert raw.type == "csp-violation"
    assert raw.format == "csp-report"
    assert raw.directive == "script-src-elem"  # the sources are cut off
    assert (raw.blocked_url, raw.sample, raw.disposition) == (
        "inline",
        "alert(1)",
        "report",
    )
    assert raw.original_policy == "script-src 'self'"
    assert raw.user_agent == "UA"


def test_reporting_api_report_fields() -> None:
    body = [
        {
            "type": "csp-violation",
            "age": 1500,
            "url": "https://app.example/",
            "user_agent": "Mozilla/5.0 Firefox/128.0",
            "body": {
                "documentURL": "https://app.example/",
                "blockedURL": "eval",
                "effectiveDirective": "Script-Src",
                "disposition": "enforce",
                "sample": "",
            },
        }
    ]
    (raw,) = read_reports(
        json.dumps(body).encode(), "application/reports+json", "other"
    )
    assert (raw.format, raw.age, raw.directive) == ("reports+json", 1.5, "script-src")
    assert raw.user_agent == "Mozilla/5.0 Firefox/128.0"
    assert raw.original_policy is None


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("[" * 8 + "]" * 8, False),
        ("[" * 9 + "]" * 9, True),
        ('["[[[[[[[[[[[[["]', False),  # brackets inside a string do not count
        ('["\\"[[[[[[[[[[[[["]', False),  # nor after an escaped quote
        ('["\\\\", [[[[[[[[[[]]]]]]]]]]]', True),  # an escaped backslash ends
        ('{"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}', True),
    ],
)
def test_check_depth(text: str, deep: bool) -> None:
    if deep:
        with pytest.raises(ReportError) as error:
            check_depth(text)
        assert error.value.status == 400
    else:
        check_depth(text)


@given(st.text(alphabet='[]{}"\\ ab', max_size=200))
def test_check_depth_agrees_with_the_parser(text: str) -> None:
    """Whatever json.loads accepts within 8 levels, check_depth lets through."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return

    def depth(v: t.Any) -> int:
        if isinstance(v, list):
            return 1 + max(map(depth, v), default=0)
        if isinstance(v, dict):
            return 1 + max(map(depth, v.values()), default=0)
        return 0

    if depth(value) <= 8:
        check_depth(text)
    else:
        with pytest.raises(ReportError):
            check_depth(text)


@given(
    st.binary(max_size=500),
    st.sampled_from(
        [
            "application/json",
            "application/csp-report",
            "application/reports+json",
            "text/html",
        ]
    ),
)
def test_read_reports_raises_report_error_only(body: bytes, kind: str) -> None:
    try:
        read_reports(body, kind)
    except ReportError as error:
        assert error.status in (400, 413, 415)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://CDN.example:443/a.png?x", "https://cdn.example"),
        ("http://cdn.example:8080/", "http://cdn.example:8080"),
        ("wss://live.example/socket", "wss://live.example"),
        ("http://[::1]:5000/x", "http://[::1]:5000"),
        ("http://cdn.example:99999/", "http"),  # a port out of range
        ("data:image/png;base64,AAAA", "data"),
        ("blob:https://app.example/uuid", "blob"),
        ("data", "data"),
        ("inline", "inline"),
        ("EVAL", "eval"),
        ("wasm-eval", "wasm-eval"),
        ("", "(none)"),
        ("self", "self"),
    ],
)
def test_blocked_source(value: str, expected: str) -> None:
    assert blocked_source(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://app.example/a/b?token=secret#frag", "https://app.example/a/b"),
        ("http://app.example:80", "http://app.example/"),
        ("about:blank", None),
        ("data:text/html,x", None),
        ("https:///nohost", None),
        ("http://app.example:notaport/", None),
        ("", None),
    ],
)
def test_document_url(url: str, expected: str | None) -> None:
    assert document_url(url) == expected


@pytest.mark.parametrize(
    ("agent", "family"),
    [
        (
            "Mozilla/5.0 (X11) AppleWebKit/537.36 HeadlessChrome/126.0 Safari/537.36",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (Windows) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
            " Edg/126.0",
            "Edge",
        ),
        (
            "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
            "Safari",
        ),
        ("Mozilla/5.0 (X11; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox"),
        ("curl/8.0", "Other"),
    ],
)
def test_browser_family(agent: str, family: str) -> None:
    assert browser_family(agent) == family


def test_clean_replaces_unsafe_and_bounds() -> None:
    assert (
        clean("a\x00b\x1bc\x85d\ud800e\u202ef", 100)
        == "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf"
    )
    assert clean("é😀" * 10, 5) == "é😀é😀é"


def test_policy_key_normalises_nonces_hashes_and_reporting() -> None:
    one = (
        "script-src 'nonce-A' 'sha256-xyz=' 'unsafe-hashes'; report-uri /r; report-to g"
    )
    two = "Script-Src  'nonce-BBB';report-uri https://app.example/r"
    assert policy_key(one) == policy_key(two) == (("script-src", ("'nonce'",)),)
    assert policy_key("script-src 'self'") != policy_key(one)


# Limits.


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_and_grants_partially() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2, burst=5, clock=clock)
    assert buckets.take("a", 3) == 3
    assert buckets.take("a", 3) == 2  # only two left
    assert buckets.take("a") == 0
    clock.now = 1.0  # two tokens later
    assert buckets.take("a", 5) == 2
    clock.now = 100.0  # never more than the burst
    assert buckets.take("a", 50) == 5
    assert buckets.take("b", 5) == 5  # every client has its own
    assert buckets.retry_after() == 1


def test_token_bucket_table_is_bounded_lru() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=1, max_clients=3, clock=clock)
    for name in "abcd":
        buckets.take(name)
    assert len(buckets) == 3
    assert buckets.take("a") == 1  # evicted, so it starts full again
    assert buckets.take("d") == 0  # still remembered, still empty


@pytest.mark.parametrize("args", [(0, 1), (1, 0), (-1, 5)])
def test_token_bucket_refuses_nonsense(args: tuple[float, float]) -> None:
    with pytest.raises(ValueError):
        TokenBuckets(*args)


def test_fingerprint_budget_window_and_memory() -> None:
    clock = Clock()
    budget = FingerprintBudget(limit=3, window=60, remember=4, clock=clock)
    assert [budget.admit(f) for f in "abcd"] == [True, True, True, False]
    assert budget.admit("a")  # known: always
    clock.now = 61.0  # a new window
    assert [budget.admit(f) for f in "defg"] == [True, True, True, False]
    assert len(budget) == 4


def test_counters_pending_and_given_back() -> None:
    counters = Counters()
    counters.add("a", 2)
    counters.add("b", 0)
    assert counters.take_pending() == {"a": 2}
    assert counters.take_pending() == {}
    counters.give_back({"a": 2})
    counters.add("a")
    assert counters.take_pending() == {"a": 3}
    assert counters.totals() == {"a": 3}


def test_public_names_of_the_reports_package() -> None:
    import flask_header_policy.reports as reports
    from flask_header_policy.reports.collector import ReportCollector
    from flask_header_policy.reports.store import ReportStore

    assert sorted(reports.__all__) == [
        "MAX_BODY", "RawReport", "Report", "ReportCollector", "ReportError",
        "ReportStore", "read_reports",
    ]  # fmt: skip
    # Loaded on first use, so that importing the package needs no SQLAlchemy.
    assert reports.ReportCollector is ReportCollector
    assert reports.ReportStore is ReportStore
    with pytest.raises(AttributeError):
        reports.Nothing  # noqa: B018
