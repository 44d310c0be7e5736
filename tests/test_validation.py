"""Bad names and values fail at declaration, naming the header, char and layer."""

from __future__ import annotations

import collections.abc as cabc
import logging
import pickle
import typing as t
import warnings

import pytest
from flask import Blueprint
from flask import Flask
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from wire import wire_headers

from flask_header_policy import append
from flask_header_policy import force
from flask_header_policy import HeaderNameWarning
from flask_header_policy import HeaderPolicy
from flask_header_policy import InvalidHeaderError


def declare_app(headers: dict[str, t.Any]) -> None:
    HeaderPolicy(Flask("test_app"), headers=headers)


def declare_config(headers: dict[str, t.Any]) -> None:
    app = Flask("test_app")
    app.config["HEADER_POLICY_HEADERS"] = headers
    HeaderPolicy(app)


def declare_blueprint(headers: dict[str, t.Any]) -> None:
    app = Flask("test_app")
    policy = HeaderPolicy(app)
    policy.add_blueprint_headers(Blueprint("api", __name__), headers)


def declare_blueprint_by_name(headers: dict[str, t.Any]) -> None:
    HeaderPolicy(Flask("test_app")).add_blueprint_headers("outer.inner", headers)


def declare_view(headers: dict[str, t.Any]) -> None:
    policy = HeaderPolicy(Flask("test_app"))

    @policy.headers(headers)
    def index() -> str:
        return ""


def declare_endpoint(headers: dict[str, t.Any]) -> None:
    HeaderPolicy(Flask("test_app")).add_view_headers("api.index", headers)


LAYERS: list[tuple[cabc.Callable[[dict[str, t.Any]], None], str]] = [
    (declare_app, "declared by app:"),
    (declare_config, "declared by app (HEADER_POLICY_HEADERS):"),
    (declare_blueprint, "declared by blueprint 'api':"),
    (declare_blueprint_by_name, "declared by blueprint 'outer.inner':"),
    (declare_view, "declared by view 'index':"),
    (declare_endpoint, "declared by view 'api.index':"),
]

BAD_VALUES = [
    ("a\r\nX-Injected: 1", "'\\r' (CR)"),
    ("a\nb", "'\\n' (LF)"),
    ("a\rb", "'\\r' (CR)"),
    ("a\x00b", "'\\x00' (NUL)"),
    ("a\x7fb", "'\\x7f' (DEL)"),
    ("a\x0bb", "'\\x0b' (U+000B)"),
    ("\x1b[31m", "'\\x1b' (U+001B)"),
    ("a\u2028b", "'\\u2028' (U+2028)"),
    ("5 €", "'€' (U+20AC)"),
    ("\U0001f600", "'\U0001f600' (U+1F600)"),
    (" leading", "' leading'"),
    ("trailing ", "'trailing '"),
    ("trailing\t", "'trailing\\t'"),
    (" ", "' '"),
]

BAD_NAMES = [
    ("X-A\r\nX-Injected", "'\\r' (CR)"),
    ("X-A\nB", "'\\n' (LF)"),
    ("X-A\rB", "'\\r' (CR)"),
    ("X-A\x00", "'\\x00' (NUL)"),
    ("X-A\x7f", "'\\x7f' (DEL)"),
    ("X-A\x0b", "'\\x0b' (U+000B)"),
    ("X-\u2028", "'\\u2028' (U+2028)"),
    ("X-€", "'€' (U+20AC)"),
    ("X-é", "'é' (U+00E9)"),
    (" X-A", "' ' (U+0020)"),
    ("X-A ", "' ' (U+0020)"),
    ("", "the name is empty"),
    ("X A", "' ' (U+0020)"),
    ("X-A:", "':' (U+003A)"),
    ("X-A: b", "':' (U+003A)"),
    ("X(A)", "'(' (U+0028)"),
]


@pytest.mark.parametrize(("declare", "layer"), LAYERS)
@pytest.mark.parametrize(("value", "shown"), BAD_VALUES)
def test_bad_value(
    declare: cabc.Callable[[dict[str, t.Any]], None],
    layer: str,
    value: str,
    shown: str,
) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        declare({"X-Test": value})
    error = info.value
    assert isinstance(error, ValueError)
    message = str(error)
    assert message.startswith(f"Invalid value for header 'X-Test' {layer}")
    assert shown in message
    assert (error.header, error.part) == ("X-Test", "value")


@pytest.mark.parametrize(("declare", "layer"), LAYERS)
@pytest.mark.parametrize(("value", "shown"), BAD_VALUES)
def test_bad_value_in_force_and_append(
    declare: cabc.Callable[[dict[str, t.Any]], None],
    layer: str,
    value: str,
    shown: str,
) -> None:
    for spec in (force(value), append(value)):
        with pytest.raises(InvalidHeaderError) as info:
            declare({"Vary": spec})
        assert str(info.value).startswith(f"Invalid value for header 'Vary' {layer}")
        assert shown in str(info.value)


@pytest.mark.parametrize(("declare", "layer"), LAYERS)
@pytest.mark.parametrize(("name", "shown"), BAD_NAMES)
def test_bad_name(
    declare: cabc.Callable[[dict[str, t.Any]], None],
    layer: str,
    name: str,
    shown: str,
) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        declare({name: "ok"})
    error = info.value
    assert isinstance(error, ValueError)
    message = str(error)
    assert message.startswith(f"Invalid name for header {name!r} {layer}")
    assert shown in message
    assert (error.header, error.part) == (name, "name")


@pytest.mark.parametrize(("declare", "layer"), LAYERS)
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (True, "True is not a header value"),
        (b"bytes", "unsupported value type bytes"),
        (1.5, "unsupported value type float"),
        (["a"], "unsupported value type list"),
    ],
)
def test_bad_value_type(
    declare: cabc.Callable[[dict[str, t.Any]], None],
    layer: str,
    value: object,
    shown: str,
) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        declare({"X-Test": value})
    assert str(info.value).startswith(f"Invalid value for header 'X-Test' {layer}")
    assert shown in str(info.value)


@pytest.mark.parametrize(("declare", "layer"), LAYERS)
def test_same_name_twice_in_one_layer(
    declare: cabc.Callable[[dict[str, t.Any]], None], layer: str
) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        declare({"X-Test": "a", "x-test": "b"})
    assert str(info.value).startswith(f"Invalid name for header 'x-test' {layer}")
    assert "declared twice in one layer (also as 'X-Test')" in str(info.value)


@pytest.mark.parametrize(
    ("value", "corrected"),
    [
        ("text/plain", "'text/plain; charset=utf-8'"),
        ("text/html", "'text/html; charset=utf-8'"),
        ("Text/CSV; header=present", "'Text/CSV; charset=utf-8'"),
        ("text/plain;", "'text/plain; charset=utf-8'"),
    ],
)
def test_content_type_text_needs_charset(value: str, corrected: str) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        declare_app({"Content-Type": force(value)})
    message = str(info.value)
    assert message.startswith(
        "Invalid value for header 'Content-Type' declared by app:"
    )
    assert f"{value!r} has no charset" in message
    assert f"declare {corrected}" in message


@pytest.mark.parametrize(("declare", "layer"), LAYERS)
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Frame-Options", "DENY"),
        ("strict-transport-security", "max-age=63072000"),
        ("X-Content-Type-Options", "nosniff"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Location", "/"),
        ("Content-Length", "0"),
        ("X-Frame-Options", lambda request, response: "DENY"),
    ],
)
def test_append_is_refused_for_a_header_of_one_value(
    declare: cabc.Callable[[dict[str, t.Any]], None],
    layer: str,
    name: str,
    value: t.Any,
) -> None:
    # Joined to the response's own, the value would be malformed: browsers
    # ignore "max-age=10, max-age=5" (HSTS lost) and read
    # "SAMEORIGIN, DENY" as DENY.
    with pytest.raises(InvalidHeaderError) as info:
        declare({name: append(value)})
    message = str(info.value)
    assert message.startswith(f"Invalid value for header {name!r} {layer}")
    assert "holds one value, not a comma-separated list" in message
    assert "force(" in message


@pytest.mark.parametrize(("declare", "layer"), LAYERS)
@pytest.mark.parametrize(
    "spec",
    ["application/json", "text/plain; charset=utf-8", append("application/json")],
)
def test_content_type_must_be_forced(
    declare: cabc.Callable[[dict[str, t.Any]], None], layer: str, spec: t.Any
) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        declare({"content-type": spec})
    message = str(info.value)
    assert message.startswith(f"Invalid value for header 'content-type' {layer}")
    assert "declare force(" in message


@pytest.mark.parametrize(
    "value",
    ["text/plain; charset=utf-8", "text/csv;charset=latin-1", "application/json"],
)
def test_forced_content_type_is_sent(value: str) -> None:
    app = Flask("test_app")
    HeaderPolicy(app, headers={"Content-Type": force(value)})

    @app.route("/")
    def index() -> str:
        return "x"

    content_types = [
        v for n, v in wire_headers(app, "/") if n.lower() == "content-type"
    ]
    assert content_types == [value]


def test_error_pickles() -> None:
    with pytest.raises(InvalidHeaderError) as info:
        declare_blueprint({"X-Test": "a\r\nb"})
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is InvalidHeaderError
    assert str(copy) == str(info.value)
    assert (copy.header, copy.layer, copy.part) == (
        "X-Test",
        "blueprint 'api'",
        "value",
    )


# Values computed per request are checked per request.

INJECTION = "a\r\nX-Injected: 1"


def injecting_app(testing: bool) -> Flask:
    app = Flask("test_app")
    app.testing = testing
    HeaderPolicy(
        app,
        headers={
            "X-Test": lambda request, response: INJECTION,
            "X-Frame-Options": "DENY",
        },
    )

    @app.route("/")
    def index() -> str:
        return "served"

    return app


def test_dynamic_injection_omitted_in_production(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = injecting_app(testing=False)
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        first = wire_headers(app, "/")
        second = wire_headers(app, "/")
    assert first == second
    assert [n for n, _ in first] == [
        "Content-Type",
        "Content-Length",
        "X-Frame-Options",
    ]
    for name, value in first:
        assert not any(c in name + value for c in "\r\n\x00")
    assert not any("Injected" in name or "Injected" in value for name, value in first)
    records = [r for r in caplog.records if r.name == app.logger.name]
    assert len(records) == 1
    assert "'\\r' (CR)" in records[0].getMessage()
    assert "X-Test" in records[0].getMessage()

    response = app.test_client().get("/")
    assert response.status_code == 200
    assert response.data == b"served"


@pytest.mark.parametrize("flag", ["testing", "debug"])
def test_dynamic_injection_raises_under_testing_or_debug(flag: str) -> None:
    app = injecting_app(testing=flag == "testing")
    app.debug = flag == "debug"
    with pytest.raises(InvalidHeaderError) as info:
        wire_headers(app, "/")
    assert str(info.value).startswith(
        "Invalid value for header 'X-Test' declared by app:"
    )
    assert "'\\r' (CR)" in str(info.value)


@pytest.mark.parametrize(
    ("returned", "shown"),
    [
        (b"bytes", "returned bytes"),
        (5, "returned int"),
        (" padded", "leading or trailing whitespace"),
        ("€", "'€' (U+20AC)"),
    ],
)
def test_dynamic_bad_return_raises_under_testing(returned: t.Any, shown: str) -> None:
    app = Flask("test_app")
    app.testing = True
    policy = HeaderPolicy(app)

    @app.route("/")
    @policy.headers({"X-Test": lambda request, response: returned})
    def index() -> str:
        return "x"

    with pytest.raises(InvalidHeaderError) as info:
        wire_headers(app, "/")
    assert str(info.value).startswith(
        "Invalid value for header 'X-Test' declared by view 'index':"
    )
    assert shown in str(info.value)


# The property: whatever text is declared, either it is refused at
# declaration, or exactly that text goes out on exactly one line.

TEXT = st.one_of(
    st.text(),
    st.text(st.characters(max_codepoint=0xFF)),
    st.text(st.sampled_from("\t\r\n\x00\x0b\x7f\x80\x85\x9f\xa0\xff :;,aZ€\u2028")),
)


def sendable(value: str) -> bool:
    """An independent oracle: HTAB, SP, VCHAR, obs-text but the C1 controls
    (U+0080-U+009F); no outer whitespace."""
    ok = all(c == "\t" or " " <= c <= "~" or "\xa0" <= c <= "\xff" for c in value)
    return ok and value == value.strip(" \t")


def check_wire(headers: list[tuple[str, str]], base: int, value: str) -> None:
    assert len(headers) == base + 1
    assert [v for n, v in headers if n.lower() == "x-test"] == [value]
    for name, sent in headers:
        assert not any(c in name or c in sent for c in "\r\n\x00")


def test_any_static_value_is_refused_or_sent_verbatim() -> None:
    app = Flask("test_app")
    app.testing = True
    policy = HeaderPolicy(app, headers={"X-Frame-Options": "DENY"})

    @app.route("/")
    def index() -> str:
        return "x"

    base = len(wire_headers(app, "/"))
    assert base == 3

    @settings(max_examples=1000, deadline=None)
    @given(TEXT)
    def check(value: str) -> None:
        try:
            policy.add_view_headers("index", {"X-Test": value})
        except InvalidHeaderError as error:
            assert not sendable(value)
            assert error.header == "X-Test"
            return
        assert sendable(value)
        check_wire(wire_headers(app, "/"), base, value)

    check()


def test_any_dynamic_value_is_omitted_or_sent_verbatim() -> None:
    app = Flask("test_app")
    app.testing = False
    current: list[str] = [""]
    HeaderPolicy(
        app,
        headers={
            "X-Frame-Options": "DENY",
            "X-Test": lambda request, response: current[0],
        },
    )

    @app.route("/")
    def index() -> str:
        return "x"

    base = len(wire_headers(app, "/")) - 1
    assert base == 3
    logger = logging.getLogger(app.name)
    logger.disabled = True  # once-per-endpoint logging is tested above

    @settings(max_examples=500, deadline=None)
    @given(TEXT)
    def check(value: str) -> None:
        current[0] = value
        headers = wire_headers(app, "/")
        if sendable(value):
            check_wire(headers, base, value)
        else:
            assert len(headers) == base
            assert not any(n.lower() == "x-test" for n, _ in headers)
            for name, sent in headers:
                assert not any(c in name or c in sent for c in "\r\n\x00")

    try:
        check()
    finally:
        logger.disabled = False


# Names a letter or two away from a header browsers act on.


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("X-Frame-Option", "X-Frame-Options"),
        ("Referer-Policy", "Referrer-Policy"),
        ("permission-policy", "Permissions-Policy"),
        ("Strict-Transport-Securty", "Strict-Transport-Security"),
        ("Content-Security-Policy-Report", "Content-Security-Policy-Report-Only"),
        ("Access-Control-Allow-Origins", "Access-Control-Allow-Origin"),
        ("X-XSS-Protections", "X-XSS-Protection"),
    ],
)
def test_a_misspelt_name_warns_with_the_name_it_is_close_to(
    name: str, meant: str
) -> None:
    app = Flask("typo")
    with pytest.warns(HeaderNameWarning) as caught:
        HeaderPolicy(app, headers={name: "x"})
    (warning,) = caught
    assert f"header {name!r} declared by app is not {meant!r}" in str(warning.message)
    # Raised at the app's line, not inside the package.
    assert warning.filename == __file__
    # Still sent as declared: a name of the app's own may look like one.
    app.get("/")(lambda: "x")
    assert app.test_client().get("/").headers[name] == "x"


@pytest.mark.parametrize(
    "name",
    [
        "X-Custom-Header",
        "X-Request-Id",
        "Server",
        "Vary",
        "Link",
        "ETag",
        "Content-Range",
        "Feature-Policy",
        "X-UA-Compatible",
        "X-Download-Options",
        "Cross-Origin-Opener-Policy-Report-Only",
    ],
)
def test_known_and_unrelated_names_do_not_warn(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", HeaderNameWarning)
        HeaderPolicy(Flask("names"), headers={name: "x"})


def test_the_known_names_themselves_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", HeaderNameWarning)
        HeaderPolicy(Flask("known"), preset="strict")
        HeaderPolicy(
            Flask("spelt"),
            headers={"x-frame-options": "DENY", "REFERRER-POLICY": "no-referrer"},
        )
