"""Declarations tried as an attacker (or a hurried user) would: every bad
input is an InvalidHeaderError at declaration, nothing reaches the wire that
was not validated, and no declaration is lost to a race."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import typing as t

import pytest
from flask import Flask
from flask import Response
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler
from wire import wire_headers

from flask_header_policy import append
from flask_header_policy import CacheControl
from flask_header_policy import ContentDisposition
from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import CookiePolicy
from flask_header_policy import extension
from flask_header_policy import force
from flask_header_policy import hash_source
from flask_header_policy import Header
from flask_header_policy import HeaderPolicy
from flask_header_policy import InvalidHeaderError
from flask_header_policy import NONCE
from flask_header_policy import only_for
from flask_header_policy import remove
from flask_header_policy import SELF
from flask_header_policy import StrictTransportSecurity

CSP = "default-src 'none'"


def app_with(headers: dict[str, t.Any], **views: t.Callable[[], t.Any]) -> Flask:
    app = Flask("hostile")
    app.testing = True
    HeaderPolicy(app, headers=headers)
    for name, view in views.items():
        app.add_url_rule(f"/{name}", name, view)
    return app


def values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [v for n, v in headers if n.lower() == name.lower()]


# only_for(): mimetypes are type/subtype, type/* or refused.


@pytest.mark.parametrize(
    ("mimetypes", "message"),
    [
        ("text/html; charset=utf-8", "has parameters; only_for() compares the"
         " mimetype alone (any charset matches): write 'text/html'"),
        ("html", "'html' is not type/subtype; did you mean 'text/html'?"),
        ("json", "did you mean 'application/json'?"),
        ("*/*", "the type cannot be a wildcard; to send the header on every"
         " response, declare it without only_for()"),
        ("*/html", "the type cannot be a wildcard"),
        ("text/ html", "is not type/subtype (RFC 9110 tokens"),
        ("text/html/x", "is not type/subtype"),
        ([], "give at least one mimetype"),
    ],
)  # fmt: skip
def test_only_for_refuses_what_would_never_match(
    mimetypes: t.Any, message: str
) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        HeaderPolicy(headers={"Content-Security-Policy": only_for(mimetypes, CSP)})
    assert info.value.header == "Content-Security-Policy"
    assert info.value.layer == "app"
    assert message in str(info.value)


@pytest.mark.parametrize(
    "header",
    [
        Header(CSP, mimetypes=frozenset({"Text/HTML"})),
        Header(CSP, mimetypes=frozenset({"text/html", 5})),  # type: ignore[arg-type]
        Header(CSP, mimetypes="text/html"),  # type: ignore[arg-type]
    ],
)
def test_hand_built_header_mimetypes_are_checked(header: Header) -> None:
    with pytest.raises(InvalidHeaderError, match="Content-Security-Policy"):
        HeaderPolicy(headers={"Content-Security-Policy": header})


@pytest.mark.parametrize("bad", [5, None, [b"text/html"]])
def test_only_for_non_str_is_an_invalid_header_error(bad: t.Any) -> None:
    with pytest.raises(InvalidHeaderError, match="mimetypes such as 'text/html'"):
        only_for(bad, CSP)


def test_only_for_wildcard_subtype() -> None:
    app = app_with(
        {"X-Text": only_for("text/*", "yes", otherwise="no")},
        page=lambda: "<p>",
        plain=lambda: Response("x", mimetype="text/plain"),
        api=lambda: {"a": 1},
    )
    assert values(wire_headers(app, "/page"), "X-Text") == ["yes"]
    assert values(wire_headers(app, "/plain"), "X-Text") == ["yes"]
    assert values(wire_headers(app, "/api"), "X-Text") == ["no"]


def two_types(*content_types: str) -> t.Callable[[], Response]:
    def view() -> Response:
        response = Response("<script>alert(1)</script>")
        del response.headers["Content-Type"]
        for value in content_types:
            response.headers.add("Content-Type", value)
        return response

    return view


@pytest.mark.parametrize(
    "content_types",
    [
        ("application/json", "text/html; charset=utf-8"),
        ("text/html; charset=utf-8", "application/json"),
        ("application/json, text/html",),  # one field, two values
    ],
)
def test_any_content_type_field_selects_the_branch(content_types: tuple[str]) -> None:
    app = app_with(
        {
            "Content-Security-Policy": only_for(
                "text/html", CSP, otherwise="default-src 'none'"
            )
        },
        page=two_types(*content_types),
    )
    assert values(wire_headers(app, "/page"), "Content-Security-Policy") == [CSP]


# A declaration made while requests are in flight is never lost.


def test_declaration_during_a_compile_is_not_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Flask("race")
    app.testing = True
    policy = HeaderPolicy(app)
    app.add_url_rule("/", "index", lambda: "x")
    compiling, declared = threading.Event(), threading.Event()
    real = extension.CompiledPolicy

    class SlowCompile(real):  # type: ignore[misc,valid-type]
        """Holds the first compile until a declaration has been made."""

        def __init__(self, *args: t.Any) -> None:
            if not compiling.is_set():
                compiling.set()
                assert declared.wait(5)
            super().__init__(*args)

    monkeypatch.setattr(extension, "CompiledPolicy", SlowCompile)
    first: list[list[tuple[str, str]]] = []
    thread = threading.Thread(target=lambda: first.append(wire_headers(app, "/")))
    thread.start()
    assert compiling.wait(5)
    # The request read the old rules (none); now a view declares a header.
    policy.add_view_headers("index", {"X-Late": "1"})
    declared.set()
    thread.join()
    assert values(first[0], "X-Late") == []  # compiled before: fine for it
    assert values(wire_headers(app, "/"), "X-Late") == ["1"]  # but not cached


def test_declarations_under_threads_all_arrive() -> None:
    app = Flask("threads")
    app.testing = True
    policy = HeaderPolicy(app)
    app.add_url_rule("/", "index", lambda: "x")
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            wire_headers(app, "/")

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for n in range(50):
            policy.add_view_headers("index", {f"X-N{n}": str(n)})
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    sent = wire_headers(app, "/")
    assert [values(sent, f"X-N{n}") for n in range(50)] == [[str(n)] for n in range(50)]


# cookies= takes what HEADER_POLICY_COOKIES takes, or fails at construction.


@pytest.mark.parametrize(
    ("cookies", "expected"),
    [
        (True, "id=1; Path=/; Secure; HttpOnly; SameSite=Lax"),
        ({"samesite": "Strict"}, "id=1; Path=/; Secure; HttpOnly; SameSite=Strict"),
        (CookiePolicy(httponly=False), "id=1; Path=/; Secure; SameSite=Lax"),
        (False, "id=1; Path=/"),
    ],
)
def test_cookies_argument_like_the_config(cookies: t.Any, expected: str) -> None:
    app = Flask("cookies")
    app.testing = True
    HeaderPolicy(app, cookies=cookies)

    @app.route("/")
    def index() -> Response:
        response = Response("x")
        response.set_cookie("id", "1")
        return response

    sent = wire_headers(app, "/", base_url="https://localhost/")
    assert values(sent, "Set-Cookie") == [expected]


@pytest.mark.parametrize(
    ("cookies", "message"),
    [
        ("yes", "cookies must be None, a bool, a mapping of CookiePolicy options"),
        ({"secur": True}, "cookies: CookiePolicy.__init__() got an unexpected"),
    ],
)
def test_bad_cookies_argument_fails_at_construction(
    cookies: t.Any, message: str
) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        HeaderPolicy(cookies=cookies)


def test_cookie_hardening_failure_log_says_what_was_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = Flask("cookie_log")
    HeaderPolicy(app, headers={"X-Frame-Options": "DENY"}, cookies=True)

    @app.route("/")
    def index() -> Response:
        response = Response("x")
        response.set_cookie("id", "1")
        return response

    def broken(*args: t.Any, **kwargs: t.Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(CookiePolicy, "apply", broken)
    with caplog.at_level(logging.ERROR):
        sent = wire_headers(app, "/")
    assert values(sent, "X-Frame-Options") == ["DENY"]  # the headers were applied
    (record,) = caplog.records
    assert "Set-Cookie not hardened on this response" in record.getMessage()
    assert "policy not applied" not in record.getMessage()


# append() keeps what it does not understand.


@pytest.mark.parametrize(
    ("name", "own", "declared", "sent"),
    [
        ("Link", "</a.js?x=1,2>; rel=preload", "</b.css>; rel=preload",
         "</a.js?x=1,2>; rel=preload, </b.css>; rel=preload"),
        ("Link", "</a.css>; rel=preload", "</A.css>; rel=preload",
         "</a.css>; rel=preload, </A.css>; rel=preload"),
        ("Link", "</a.css>; rel=preload", "</a.css>; rel=preload",
         "</a.css>; rel=preload"),
        ("X-List", 'a="x,y", b', 'a="x,y"', 'a="x,y", b'),
        ("X-List", 'a="q\\",", b', "c", 'a="q\\",", b, c'),
        ("Allow", "GET, get", "POST", "GET, get, POST"),  # methods: case-sensitive
        ("Vary", "Cookie", "cookie, Origin", "Cookie, Origin"),
        ("Access-Control-Expose-Headers", "X-A", "x-a, X-B", "X-A, X-B"),
    ],
)  # fmt: skip
def test_append_members(name: str, own: str, declared: str, sent: str) -> None:
    app = app_with({name: append(declared)}, page=lambda: ("x", {name: own}))
    assert values(wire_headers(app, "/page"), name) == [sent]


def _cookies_page() -> Response:
    response = Response("x")
    response.set_cookie("theme", "dark", expires=2_000_000_000)
    response.set_cookie("session", "s")
    response.set_cookie("consent", "1")
    return response


def test_append_of_a_set_cookie_adds_a_field_of_its_own() -> None:
    # Cookies are never joined into one field (RFC 9110 §5.3): joined at
    # commas, a browser reads one cookie whose attributes swallow the others
    # (and the comma of an Expires date splits nothing).
    app = app_with(
        {"Set-Cookie": append("consent=1; Path=/")},
        page=_cookies_page,
        bare=lambda: "x",
    )
    assert values(wire_headers(app, "/page"), "Set-Cookie") == [
        "theme=dark; Expires=Wed, 18 May 2033 03:33:20 GMT; Path=/",
        "session=s; Path=/",
        "consent=1; Path=/",  # the view's own, the same text: not repeated
    ]
    assert values(wire_headers(app, "/bare"), "Set-Cookie") == ["consent=1; Path=/"]
    # Each field is hardened on its own.
    hardened = Flask("hardened")
    HeaderPolicy(
        hardened,
        headers={"Set-Cookie": append("policy=1")},
        cookies=CookiePolicy(samesite="Strict"),
    )
    hardened.add_url_rule("/page", "page", _cookies_page)
    secure = wire_headers(hardened, "/page", base_url="https://app.example/")
    sent = values(secure, "Set-Cookie")
    assert [cookie.partition("=")[0] for cookie in sent] == [
        "theme",
        "session",
        "consent",
        "policy",
    ]
    assert all(c.endswith("; Secure; HttpOnly; SameSite=Strict") for c in sent)


# Hop-by-hop names are refused, except to remove them.


@pytest.mark.parametrize(
    "name",
    ["Connection", "keep-alive", "Proxy-Connection", "Transfer-Encoding", "TE",
     "Trailer", "Upgrade"],
)  # fmt: skip
@pytest.mark.parametrize("spec", ["close", force("close"), only_for("text/html", "x")])
def test_hop_by_hop_names_are_refused(name: str, spec: t.Any) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        HeaderPolicy(headers={name: spec})
    assert info.value.part == "name"
    assert "hop-by-hop" in str(info.value) and "PEP 3333" in str(info.value)


def test_hop_by_hop_may_be_removed() -> None:
    app = app_with({"Connection": remove()}, page=lambda: ("x", {"Connection": "x"}))
    assert values(wire_headers(app, "/page"), "Connection") == []


# Every bad input is an InvalidHeaderError.


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: HeaderPolicy(headers={"X-A": 10**5000}), "the integer is too long"),
        (
            lambda: HeaderPolicy(
                headers={"X-A": only_for("text/html", "x", otherwise=10**5000)}
            ),
            "the integer is too long",
        ),
        (lambda: StrictTransportSecurity(max_age=10**5000), "more than 2**31 seconds"),
        (
            lambda: StrictTransportSecurity(max_age=2**31 + 1),
            "write at most 2147483648",
        ),
        (lambda: CacheControl(max_age=10**5000), "max-age=<int of"),
        (lambda: CacheControl(s_maxage=2**40), "more than 2**31 seconds"),
        (
            lambda: CacheControl.from_header("max-age=" + "9" * 5000),
            "is more than 2**31 seconds",
        ),
        (lambda: CacheControl.from_header("max-age=2147483649"), "2**31"),
        (lambda: CacheControl(private=10**5000), "must be a bool or field names"),
        (
            lambda: ContentDisposition("attachment", "r\udce9sum\udce9.pdf"),
            "'\\udce9' (U+DCE9) at index 1 is a lone surrogate",
        ),
        (lambda: ContentDisposition(10**5000), "disposition <int of"),
        (lambda: hash_source("alert(\ud800)"), "lone surrogate"),
        (lambda: hash_source(5), "takes the str or bytes of a script"),  # type: ignore[arg-type]
        (lambda: hash_source("x", ["sha256"]), "is not one of sha256"),  # type: ignore[arg-type]
        (lambda: ContentSecurityPolicy(default_src=[10**5000]), "not int <int of"),
        (lambda: HeaderPolicy(headers={"X-A": b"bytes"}), "unsupported value type"),
        (lambda: HeaderPolicy(headers={10**5000: "x"}), "must be a str, not int"),  # type: ignore[dict-item]
    ],
)
def test_bad_input_is_an_invalid_header_error(
    build: t.Callable[[], object], message: str
) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        build()
    assert message in str(info.value)


def test_huge_hsts_from_header_reads_as_the_cap() -> None:
    hsts = StrictTransportSecurity.from_header("max-age=" + "9" * 5000)
    assert hsts.max_age == 2**31


# C1 controls are refused, the rest of obs-text is sent.


@pytest.mark.parametrize("char", ["\x80", "\x85", "\x9b", "\x9f"])
def test_c1_controls_are_refused(char: str) -> None:
    with pytest.raises(InvalidHeaderError, match="is a control character"):
        HeaderPolicy(headers={"X-A": f"a{char}b"})


@pytest.mark.parametrize("char", ["\xa0", "\xe9", "\xff"])
def test_obs_text_is_sent(char: str) -> None:
    app = app_with({"X-A": f"a{char}b"}, page=lambda: "x")
    assert values(wire_headers(app, "/page"), "X-A") == [f"a{char}b"]


# A str subclass cannot print otherwise than it was checked.


class Smuggler(str):
    def __str__(self) -> str:
        return "ok\r\nSet-Cookie: stolen=1"

    def __format__(self, spec: str) -> str:
        return str(self)


class QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: t.Any) -> None:
        pass


@contextlib.contextmanager
def served(app: Flask) -> t.Iterator[int]:
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def raw_response(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data


def test_str_subclass_cannot_smuggle_a_header() -> None:
    # Werkzeug's server writes "%s: %s" % (name, value): that calls __str__.
    app = Flask("smuggle")
    HeaderPolicy(
        app,
        headers={
            "X-Static": Smuggler("ok"),
            "X-Dynamic": lambda request, response: Smuggler("ok"),
            Smuggler("X-Name"): "v",
        },
    )
    app.add_url_rule("/", "index", lambda: "x")
    with served(app) as port:
        head = raw_response(port, "/").split(b"\r\n\r\n")[0]
    assert b"stolen" not in head
    lines = head.split(b"\r\n")
    assert b"X-Static: ok" in lines and b"X-Dynamic: ok" in lines
    assert b"X-Name: v" in lines


def test_int_subclass_is_sent_as_its_digits() -> None:
    class Loud(int):
        def __str__(self) -> str:
            return "1\r\nX-Evil: 1"

        __repr__ = __str__

    app = app_with({"X-Count": Loud(7)}, page=lambda: "x")
    assert values(wire_headers(app, "/page"), "X-Count") == ["7"]


# The CSP nonce is placed where NONCE is, never where some text looks like it.

MARK = "HeaderPolicyNonceMark0"


def test_nonce_marker_text_in_a_policy_is_sent_verbatim() -> None:
    csp = ContentSecurityPolicy(
        script_src=[NONCE, f"https://{MARK}.example.com"],
        img_src=[SELF, f"{MARK}.cdn.example"],
        report_uri=[f"https://r.example/{MARK}"],
    )
    app = app_with({"Content-Security-Policy": csp}, page=lambda: "x")
    (sent,) = values(wire_headers(app, "/page"), "Content-Security-Policy")
    nonce = sent.split("'nonce-")[1].split("'")[0]
    assert MARK not in nonce
    assert sent == csp.to_header(nonce=nonce)
    assert sent.count(MARK) == 3
    assert csp.to_template() == (
        "script-src 'nonce-",
        f"' https://{MARK}.example.com; img-src 'self' {MARK}.cdn.example;"
        f" report-uri https://r.example/{MARK}",
    )


class ForeignPolicy:
    """A builder of another library: a nonce-using to_header(nonce=...)."""

    uses_nonce = True

    def __init__(self, text: str, stable: bool = True) -> None:
        self.text, self.stable = text, stable
        self.calls = 0

    def to_header(self, nonce: str | None = None) -> str:
        self.calls += 1
        extra = "" if self.stable else f" x{self.calls}"
        return f"script-src 'nonce-{nonce}' {self.text}{extra}"


def test_foreign_nonce_builder_is_cut_at_its_nonce_only() -> None:
    app = app_with(
        {"Content-Security-Policy": ForeignPolicy(f"https://{MARK}.example")},
        page=lambda: "x",
    )
    (sent,) = values(wire_headers(app, "/page"), "Content-Security-Policy")
    assert sent.startswith("script-src 'nonce-")
    assert sent.endswith(f"' https://{MARK}.example")


def test_foreign_nonce_builder_must_be_stable() -> None:
    with pytest.raises(InvalidHeaderError, match="give it a to_template"):
        HeaderPolicy(headers={"Content-Security-Policy": ForeignPolicy("x", False)})


def test_content_type_parse_cache_is_bounded() -> None:
    from flask_header_policy import _apply

    for n in range(1000):
        found = _apply._mimetypes([("Content-Type", f"text/html; v={n}")])
        assert found == {"text/html", "text/*"}
    assert len(_apply._PARSED) <= 256
