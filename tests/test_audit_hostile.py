"""The live audit against servers that misbehave on purpose (127.0.0.1 only).

A site under someone else's control must never make the audit hang, eat
memory or CPU, or print a traceback. The servers are in ``hostile.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import zlib

import hostile
import pytest
from click.testing import CliRunner

from flask_header_policy.audit import grade_response
from flask_header_policy.audit.cli import audit_command
from flask_header_policy.audit.live import audit_url
from flask_header_policy.audit.live import AuditError

TIMEOUT = 1.5
#: What the body of a bomb expands to: far beyond the audit's 2 MB cap.
BOMB = 256 << 20


def codes(audit: object) -> list[str]:
    return [f.code for f in audit.result.findings]  # type: ignore[attr-defined]


# One deadline for the whole fetch.


def test_dripped_header_block_times_out_within_the_deadline() -> None:
    with hostile.raw_server(hostile.drip_headers()) as port:
        url = f"http://127.0.0.1:{port}/"
        start = time.monotonic()
        with pytest.raises(AuditError) as info:
            audit_url(url, timeout=TIMEOUT)
        elapsed = time.monotonic() - start
    assert str(info.value) == f"{url}: timed out after {TIMEOUT:g} s"
    assert info.value.kind == "timeout"
    assert elapsed < TIMEOUT + 1


def test_dripped_body_is_graded_as_far_as_it_came() -> None:
    with hostile.raw_server(hostile.drip_body()) as port:
        start = time.monotonic()
        audit = audit_url(f"http://127.0.0.1:{port}/", timeout=TIMEOUT)
        elapsed = time.monotonic() - start
    assert elapsed < TIMEOUT + 1
    (finding,) = [f for f in audit.result.findings if f.code == "body-truncated"]
    assert f"after {TIMEOUT:g} s" in finding.message


def test_deadline_covers_every_redirect_hop() -> None:
    # Each hop answers well within the timeout; together they do not.
    with hostile.raw_server(hostile.slow_redirects(0.5)) as port:
        start = time.monotonic()
        with pytest.raises(AuditError, match="timed out after 1.5 s"):
            audit_url(f"http://127.0.0.1:{port}/", timeout=TIMEOUT)
        elapsed = time.monotonic() - start
    assert elapsed < TIMEOUT + 1


def test_a_kept_alive_connection_cannot_escape_the_deadline() -> None:
    # The second fetch (for the nonce) must not reuse the first connection
    # unwatched: the server drips on it.
    with hostile.raw_server(hostile.keep_alive_then_drip) as port:
        start = time.monotonic()
        audit = audit_url(f"http://127.0.0.1:{port}/", timeout=TIMEOUT)
        elapsed = time.monotonic() - start
    assert audit.status == 200
    assert elapsed < 2 * TIMEOUT + 1


def test_cli_drip_ends_with_one_short_line() -> None:
    with hostile.raw_server(hostile.drip_headers()) as port:
        url = f"http://127.0.0.1:{port}/"
        result = CliRunner().invoke(audit_command, [url, "--timeout", str(TIMEOUT)])
    assert result.exit_code == 1
    assert result.output == f"Error: {url}: timed out after {TIMEOUT:g} s\n"


# Bounded decompression: the peak memory of a child process that audits.

CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from flask_header_policy.audit.live import audit_url
    # A guard for the shared machine: code without a cap fails, not swaps.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        audit = audit_url(sys.argv[1], timeout=10)
        result = [f.code for f in audit.result.findings]
    except MemoryError:
        result = "MemoryError"
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"growth_kib": after - before, "findings": result}))
    """
)


def audit_in_child(handler: hostile.Handler) -> dict[str, object]:
    with hostile.raw_server(handler) as port:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, f"http://127.0.0.1:{port}/"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    return dict(json.loads(done.stdout))


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    return hostile.gzip_zeros(BOMB)


@pytest.mark.parametrize("layers", [1, 2])
def test_gzip_bomb_costs_no_more_than_the_cap(gzip_bomb: bytes, layers: int) -> None:
    body = gzip_bomb if layers == 1 else hostile.gzip_bytes(gzip_bomb)
    encoding = b", ".join([b"gzip"] * layers)
    report = audit_in_child(hostile.respond(body, encoding=encoding))
    assert "body-truncated" in t_list(report["findings"])
    # The 2 MB body, its text and the scanner's copies: a few MB, not 256.
    assert int(str(report["growth_kib"])) < 16 * 1024


def t_list(value: object) -> list[str]:
    assert isinstance(value, list), value
    return [str(item) for item in value]


def test_brotli_bomb_costs_no_more_than_the_cap() -> None:
    brotli = pytest.importorskip("brotli")
    if not hasattr(brotli.Decompressor, "can_accept_more_data"):
        pytest.skip("Brotli < 1.2 cannot limit its output")
    body = brotli.compress(bytes(BOMB), quality=5)
    report = audit_in_child(hostile.respond(body, encoding=b"br"))
    assert "body-truncated" in t_list(report["findings"])
    assert int(str(report["growth_kib"])) < 16 * 1024


SCRIPT = b"<html><script src='http://cdn.example/x.js'></script></html>"


def sri(audit: object) -> str:
    return str(audit.result["subresource-integrity"].result)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        (b"gzip", hostile.gzip_bytes(SCRIPT)),
        (b"x-gzip", hostile.gzip_bytes(SCRIPT)),
        (b"deflate", zlib.compress(SCRIPT)),  # zlib-wrapped, as RFC 9110 says
        (b"deflate", zlib.compress(SCRIPT)[2:-4]),  # raw, as some servers send
        (b"gzip, identity, deflate", zlib.compress(hostile.gzip_bytes(SCRIPT))),
    ],
)
def test_encoded_bodies_are_graded(encoding: bytes, body: bytes) -> None:
    with hostile.raw_server(hostile.respond(body, encoding=encoding)) as port:
        audit = audit_url(f"http://127.0.0.1:{port}/", timeout=5)
    assert sri(audit) == "sri-not-implemented-and-external-scripts-not-loaded-securely"
    assert "body-not-decoded" not in codes(audit)


@pytest.mark.parametrize(
    ("encoding", "body", "why"),
    [
        (b"gzip, gzip, gzip", SCRIPT, "stacks 3 codings; at most 2 are undone"),
        (b"zstd", SCRIPT, "Content-Encoding 'zstd' is not supported"),
        (b"gzip", b"\x1f\x8b\x08\x00garbage" * 4, "the gzip data is corrupt"),
    ],
)
def test_bodies_that_cannot_be_decoded_are_not_graded(
    encoding: bytes, body: bytes, why: str
) -> None:
    with hostile.raw_server(hostile.respond(body, encoding=encoding)) as port:
        audit = audit_url(f"http://127.0.0.1:{port}/", timeout=5)
    (finding,) = [f for f in audit.result.findings if f.code == "body-not-decoded"]
    assert why in finding.message
    assert sri(audit) == "sri-not-implemented-but-no-scripts-loaded"


def test_br_without_a_decoder_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from flask_header_policy.audit import _decode

    monkeypatch.setattr(_decode, "_brotli", lambda: None)
    assert _decode.accept_encoding() == "gzip, deflate"
    with hostile.raw_server(
        hostile.respond(b"\x0b\x02\x80hi\x03", encoding=b"br")
    ) as p:
        audit = audit_url(f"http://127.0.0.1:{p}/", timeout=5)
    (finding,) = [f for f in audit.result.findings if f.code == "body-not-decoded"]
    assert "'br' needs a Brotli decoder" in finding.message


def test_second_content_type_makes_the_body_html() -> None:
    handler = hostile.respond(
        SCRIPT,
        content_type=b"application/json",
        headers=[(b"Content-Type", b"text/html")],
    )
    with hostile.raw_server(handler) as port:
        audit = audit_url(f"http://127.0.0.1:{port}/", timeout=5)
    assert sri(audit) == "sri-not-implemented-and-external-scripts-not-loaded-securely"


# Charsets: an allowlist of WHATWG labels, everything else is UTF-8.


@pytest.mark.parametrize(
    ("label", "body", "seen"),
    [
        # Python's punycode codec turns "a-" into "a"; UTF-8 keeps "a-".
        ("punycode", b"<p>a-</p>", "<p>a-</p>"),
        # UTF-7 would turn this into a <script> no browser runs.
        ("utf-7", b"+ADw-script+AD4-", "+ADw-script+AD4-"),
        ("rot13", b"<p>", "<p>"),
        ("x-no-such-codec", b"\xe2\x82\xac", "\u20ac"),
        ("latin1", b"\x80", "\u20ac"),  # WHATWG: latin1 is windows-1252
        ("US-ASCII", b"\x80", "\u20ac"),
        (" Shift_JIS ", b"\x82\xa0", "\u3042"),
        ('"koi8-r"', b"\xc1", "\u0430"),
        ("utf-16", b"<\x00p\x00", "<p"),  # WHATWG: utf-16 is utf-16le
        ("iso-2022-kr", b"<p>anything", "\ufffd"),  # the replacement encoding
        ("windows-1252", b"\xef\xbb\xbf<p>\xc3\xa9", "<p>\u00e9"),  # BOM wins
    ],
)
def test_charset_allowlist(label: str, body: bytes, seen: str) -> None:
    from flask_header_policy.audit._fields import decode_body

    assert decode_body(body, f"text/html; charset={label}") == seen


def test_punycode_label_does_not_change_the_grade() -> None:
    body = b"<html>-<script src='http://cdn.example/x.js'></script>"
    plain = grade_response([("Content-Type", "text/html")], body=body)
    labelled = grade_response(
        [("Content-Type", "text/html; charset=punycode")], body=body
    )
    assert (labelled.score, labelled.tests) == (plain.score, plain.tests)
    assert labelled["subresource-integrity"].score_modifier == -50


# Bad URLs, from the command line or from a Location header.


@pytest.mark.parametrize("url", ["http://127.0.0.1:abc/", "javascript:alert(1)"])
def test_invalid_url_is_one_line(url: str) -> None:
    with pytest.raises(AuditError) as info:
        audit_url(url)
    assert info.value.kind == "url"
    result = CliRunner().invoke(audit_command, [url])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "not a valid" in result.output
    assert "Traceback" not in result.output
    # The error names the URL as given, not one the audit made up from it.
    assert result.output.startswith(f"Error: {url}: ")


@pytest.mark.parametrize("timeout", ["inf", "nan", "1e300", "0", "-1"])
def test_a_timeout_that_is_no_duration_is_a_usage_error(timeout: str) -> None:
    # inf and 1e300 reached socket.settimeout (an OverflowError traceback),
    # nan made every fetch "time out after nan s" at once.
    result = CliRunner().invoke(
        audit_command, ["http://127.0.0.1:9/", "--timeout", timeout]
    )
    assert result.exit_code == 2, result.output
    assert "--timeout" in result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)
    with pytest.raises(ValueError, match="timeout"):
        audit_url("http://127.0.0.1:9/", timeout=float(timeout))


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("example.org", "https://example.org/"),
        ("example.org:8443", "https://example.org:8443/"),
        ("localhost:5000/a", "https://localhost:5000/a"),
    ],
)
def test_a_bare_host_means_https(url: str, normalized: str) -> None:
    from flask_header_policy.audit.live import normalize_url

    assert normalize_url(url) == normalized


@pytest.mark.parametrize(
    "location", [b"http://127.0.0.1:abc/", b"javascript:alert(1)", b"ftp://x/"]
)
def test_redirect_to_an_invalid_url_is_an_audit_error(location: bytes) -> None:
    handler = hostile.respond(
        b"", headers=[(b"Location", location)], status=b"302 Found"
    )
    with hostile.raw_server(handler) as port:
        with pytest.raises(AuditError) as info:
            audit_url(f"http://127.0.0.1:{port}/", timeout=5)
    # httpx itself may refuse the Location while reading the redirect.
    assert info.value.kind in ("url", "protocol")
    assert "not a valid" in str(info.value) or "Invalid URL" in str(info.value)
    assert "\n" not in str(info.value)
