"""Hostile HTTP servers on 127.0.0.1 for the live audit's tests and
``benchmarks/hostile.py`` (shared helper, no test in here).

Each server speaks just enough HTTP/1.1 by hand to misbehave on purpose:
drip the header block or the body one byte at a time, or send a compression
bomb. None of them runs longer than :data:`DRIP_LIMIT` seconds per
connection, so that code without a deadline fails a test instead of hanging.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import socket
import threading
import time
import zlib

#: A dripping connection gives up (and closes) after this many seconds.
DRIP_LIMIT = 8.0
DRIP_EVERY = 0.5
HTML_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"

Handler = cabc.Callable[[socket.socket, threading.Event], None]


def _read_request(conn: socket.socket) -> None:
    """Read up to the end of the request's header block (GETs have no body)."""
    data = b""
    conn.settimeout(5)
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


@contextlib.contextmanager
def raw_server(handler: Handler) -> cabc.Iterator[int]:
    """Serve ``handler(connection, stop)`` on 127.0.0.1; yields the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn:
            try:
                _read_request(conn)
                handler(conn, stop)
            except OSError:
                pass  # the client went away: that is what the audit should do

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


def _dripping(head: bytes, limit: float) -> Handler:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head)
        end = time.monotonic() + limit
        while not stop.is_set() and time.monotonic() < end:
            conn.sendall(b"a")
            stop.wait(DRIP_EVERY)

    return handler


def drip_headers(limit: float = DRIP_LIMIT) -> Handler:
    """The status line, then one byte of a never-ending header every 0.5 s
    (for ``limit`` seconds, then the connection is closed)."""
    return _dripping(HTML_HEAD + b"X-Drip: ", limit)


def drip_body(limit: float = DRIP_LIMIT) -> Handler:
    """A complete header block, then one byte of HTML body every 0.5 s."""
    return _dripping(HTML_HEAD + b"Content-Length: 1000000\r\n\r\n<p>", limit)


def respond(
    body: bytes = b"<p>hi</p>",
    *,
    content_type: bytes | None = b"text/html",
    encoding: bytes | None = None,
    headers: cabc.Sequence[tuple[bytes, bytes]] = (),
    status: bytes = b"200 OK",
) -> Handler:
    """A handler that sends ``body`` at once, with the given header fields
    (any bytes: nothing is checked, that is the point)."""
    fields = list(headers)
    if content_type is not None:
        fields.insert(0, (b"Content-Type", content_type))
    if encoding is not None:
        fields.append((b"Content-Encoding", encoding))
    fields += [(b"Content-Length", b"%d" % len(body)), (b"Connection", b"close")]
    head = b"HTTP/1.1 " + status + b"\r\n"
    head += b"".join(name + b": " + value + b"\r\n" for name, value in fields)

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head + b"\r\n" + body)

    return handler


def slow_redirects(delay: float) -> Handler:
    """Every request waits ``delay`` seconds, then redirects to ``/next``."""
    reply = respond(b"", headers=[(b"Location", b"/next")], status=b"302 Found")

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        stop.wait(delay)
        reply(conn, stop)

    return handler


def gzip_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed (about 1000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(size >> 20)]
    parts.append(compressor.compress(bytes(size % (1 << 20))))
    parts.append(compressor.flush())
    return b"".join(parts)


def gzip_bytes(data: bytes) -> bytes:
    """``data`` gzip-compressed."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def keep_alive_then_drip(conn: socket.socket, stop: threading.Event) -> None:
    """Answer the first request on a connection at once, kept alive, with a
    CSP nonce (so that the audit fetches again); drip on the next one."""
    body = b"<p>hi</p>"
    conn.sendall(
        HTML_HEAD
        + b"Content-Security-Policy: script-src 'nonce-abcdefgh12345678'\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )
    _read_request(conn)
    drip_headers()(conn, stop)
