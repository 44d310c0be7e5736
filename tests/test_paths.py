"""The policy reaches every response path Flask can take."""

from __future__ import annotations

import collections.abc as cabc
import io
import logging
import pathlib
import typing as t

import pytest
from flask import abort
from flask import Blueprint
from flask import Flask
from flask import redirect
from flask import Request as FlaskRequest
from flask import request as flask_request
from flask import Response
from flask import send_file
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response as WerkzeugResponse

from flask_header_policy import HeaderPolicy

# The headers the matrix follows: one app-, blueprint- and view-layer header,
# and one the view sets itself (to show the policy leaves it alone).
APP = {"X-Frame-Options": "DENY"}
BP = {**APP, "X-Area": "bp"}
NAMES = ("X-Frame-Options", "X-Area", "X-View", "X-Own")


@pytest.fixture
def app(tmp_path: pathlib.Path) -> Flask:
    static = tmp_path / "static"
    static.mkdir()
    (static / "style.css").write_text("body { color: red }\n")
    app = Flask("test_app", static_folder=str(static))
    app.testing = True
    policy = HeaderPolicy(app, headers={"X-Frame-Options": "DENY"})

    @app.route("/str")
    @policy.headers({"X-View": "str"})
    def text() -> str:
        return "text"

    @policy.headers({"X-View": "bytes"})
    @app.route("/bytes")
    def raw() -> bytes:
        return b"bytes"

    @app.route("/dict")
    def as_dict() -> dict[str, int]:
        return {"a": 1}

    @app.route("/list")
    def as_list() -> list[int]:
        return [1, 2]

    @app.route("/status")
    def with_status() -> tuple[str, int]:
        return "created", 201

    @app.route("/own-headers")
    def with_headers() -> tuple[str, dict[str, str]]:
        return "own", {"X-Own": "1", "X-Frame-Options": "SAMEORIGIN"}

    @app.route("/three")
    def three() -> tuple[str, int, dict[str, str]]:
        return "three", 202, {"X-Own": "3"}

    @app.route("/response")
    def response() -> Response:
        return Response("response", mimetype="text/plain")

    @app.route("/redirect")
    def to_str() -> WerkzeugResponse:
        return redirect("/str")

    @app.route("/forbidden")
    @policy.headers({"X-View": "forbidden"})
    def forbidden() -> str:
        abort(403)

    @app.route("/stream")
    def stream() -> Response:
        def generate() -> cabc.Iterator[str]:
            yield "a"
            yield "b"

        return Response(generate(), mimetype="text/plain")

    @app.route("/file")
    def file() -> Response:
        return send_file(io.BytesIO(b"data"), download_name="data.txt")

    @app.route("/boom")
    @policy.headers({"X-View": "boom"})
    def boom() -> str:
        raise RuntimeError("boom")

    @app.route("/dir/")
    @policy.headers({"X-View": "dir"})
    def directory() -> str:
        return "dir"

    @app.route("/gone")
    def gone() -> str:
        abort(410)

    @app.errorhandler(410)
    def gone_page(error: Exception) -> tuple[str, int]:
        return "custom gone page", 410

    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.route("/str")
    def bp_text() -> str:
        return "bp text"

    @bp.route("/forbidden")
    def bp_forbidden() -> str:
        abort(403)

    policy.add_blueprint_headers(bp, {"X-Area": "bp"})
    app.register_blueprint(bp)
    policy.add_view_headers("static", {"X-View": "static"})
    return app


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "expected"),
    [
        ("GET", "/str", 200, b"text", {**APP, "X-View": "str"}),
        ("GET", "/bytes", 200, b"bytes", {**APP, "X-View": "bytes"}),
        ("GET", "/dict", 200, b'{"a":1}\n', APP),
        ("GET", "/list", 200, b"[1,2]\n", APP),
        ("GET", "/status", 201, b"created", APP),
        # The view's own X-Frame-Options wins over the default-mode policy.
        (
            "GET",
            "/own-headers",
            200,
            b"own",
            {"X-Frame-Options": "SAMEORIGIN", "X-Own": "1"},
        ),
        ("GET", "/three", 202, b"three", {**APP, "X-Own": "3"}),
        ("GET", "/response", 200, b"response", APP),
        ("GET", "/redirect", 302, None, APP),
        ("GET", "/forbidden", 403, None, {**APP, "X-View": "forbidden"}),
        ("GET", "/stream", 200, b"ab", APP),
        ("GET", "/file", 200, b"data", APP),
        (
            "GET",
            "/static/style.css",
            200,
            b"body { color: red }\n",
            {
                **APP,
                "X-View": "static",
            },
        ),
        ("GET", "/nowhere", 404, None, APP),
        ("GET", "/dir/", 200, b"dir", {**APP, "X-View": "dir"}),
        # The strict-slash redirect is raised while routing: unmatched.
        ("GET", "/dir", 308, None, APP),
        # Unmatched under a blueprint's prefix: the app layer only, as Flask
        # chooses for blueprint 404 handlers.
        ("GET", "/bp/nowhere", 404, None, APP),
        ("GET", "/bp/str", 200, b"bp text", BP),
        ("GET", "/bp/forbidden", 403, None, BP),
        ("POST", "/str", 405, None, APP),
        ("GET", "/boom", 500, None, {**APP, "X-View": "boom"}),
        ("GET", "/gone", 410, b"custom gone page", APP),
        ("HEAD", "/str", 200, b"", {**APP, "X-View": "str"}),
        ("HEAD", "/static/style.css", 200, b"", {**APP, "X-View": "static"}),
        ("OPTIONS", "/str", 200, b"", {**APP, "X-View": "str"}),
        ("OPTIONS", "/bp/str", 200, b"", BP),
    ],
)
def test_every_path(
    app: Flask,
    method: str,
    path: str,
    status: int,
    body: bytes | None,
    expected: dict[str, str],
) -> None:
    if status == 500:
        app.testing = False
        app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().open(path, method=method)
    try:
        assert response.status_code == status
        if body is not None:
            assert response.data == body
        for name in NAMES:
            want = [expected[name]] if name in expected else []
            assert response.headers.getlist(name) == want, name
    finally:
        response.close()


def test_options_lists_methods(app: Flask) -> None:
    response = app.test_client().options("/str")
    assert sorted(response.allow) == ["GET", "HEAD", "OPTIONS"]


@pytest.fixture
def raising_app(app: Flask) -> Flask:
    policy: HeaderPolicy = app.extensions["header_policy"].policy

    def explode(request: object, response: object) -> str:
        raise ZeroDivisionError("dynamic value failed")

    @app.route("/dynamic")
    @policy.headers({"X-Dynamic": explode, "X-Static": "kept"})
    def dynamic() -> str:
        return "still served"

    return app


def test_raising_callable_never_turns_into_500(
    raising_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    raising_app.testing = False
    client = raising_app.test_client()
    with caplog.at_level(logging.ERROR, logger=raising_app.logger.name):
        for _ in range(2):
            response = client.get("/dynamic")
            assert response.status_code == 200
            assert response.data == b"still served"
            assert "X-Dynamic" not in response.headers
            assert response.headers.getlist("X-Static") == ["kept"]
            assert response.headers.getlist("X-Frame-Options") == ["DENY"]
    records = [r for r in caplog.records if r.name == raising_app.logger.name]
    assert len(records) == 1
    message = records[0].getMessage()
    assert "X-Dynamic" in message
    assert "'dynamic'" in message
    assert "dynamic value failed" in message


def test_raising_callable_raises_under_testing(raising_app: Flask) -> None:
    with pytest.raises(ZeroDivisionError, match="dynamic value failed"):
        raising_app.test_client().get("/dynamic")


def test_raising_callable_raises_under_debug(raising_app: Flask) -> None:
    raising_app.testing = False
    raising_app.debug = True
    with pytest.raises(ZeroDivisionError, match="dynamic value failed"):
        raising_app.test_client().get("/dynamic")


def legacy_werkzeug_app(environ: t.Any, start_response: t.Any) -> t.Any:
    request = WerkzeugRequest(environ)  # as Request.application does
    response = WerkzeugResponse(f"legacy {request.path}", mimetype="text/plain")
    return response(environ, start_response)


def plain_wsgi_app(environ: t.Any, start_response: t.Any) -> t.Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"plain"]


@pytest.mark.parametrize(
    ("path", "body"),
    [("/legacy/x", b"legacy /x"), ("/plain/x", b"plain")],
)
def test_mounted_wsgi_app_is_never_a_500(path: str, body: bytes) -> None:
    app = Flask("test_app")
    app.testing = False
    app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, {"/legacy": legacy_werkzeug_app, "/plain": plain_wsgi_app}
    )
    HeaderPolicy(app, headers={"X-Frame-Options": "DENY"})
    response = app.test_client().get(path)
    assert (response.status_code, response.data) == (200, body)
    # Not a Flask route: the app layer applies, as for unmatched URLs.
    assert response.headers.getlist("X-Frame-Options") == ["DENY"]


@pytest.mark.parametrize("request_class", [WerkzeugRequest, FlaskRequest])
def test_view_parsing_the_environ_keeps_its_policy(
    request_class: type[WerkzeugRequest],
) -> None:
    app = Flask("test_app")
    app.testing = False
    policy = HeaderPolicy(app, headers={"X-Frame-Options": "DENY"})

    @app.route("/")
    @policy.headers({"X-View": "index"})
    def index() -> str:
        # e.g. a library parsing it; it takes the environ's werkzeug.request
        # (a Flask request made so was never routed: no url_rule).
        request_class(flask_request.environ)
        return "index"

    response = app.test_client().get("/")
    assert (response.status_code, response.data) == (200, b"index")
    assert response.headers.getlist("X-Frame-Options") == ["DENY"]
    assert response.headers.getlist("X-View") == ["index"]


def test_mounted_flask_app_does_not_get_the_outer_apps_view_headers() -> None:
    inner = Flask("inner")

    @inner.get("/")
    def index() -> str:  # the same endpoint name as the outer view
        return "inner"

    outer = Flask("outer")
    outer.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        outer.wsgi_app, {"/b": inner}
    )
    policy = HeaderPolicy(outer, headers={"X-Frame-Options": "DENY"})

    @outer.get("/")
    @policy.headers({"X-Outer-Index": "1"})
    def index_outer() -> str:
        return "outer"

    outer.add_url_rule("/x", "index", index_outer)
    response = outer.test_client().get("/b/")
    assert response.data == b"inner"
    assert response.headers.getlist("X-Frame-Options") == ["DENY"]
    assert "X-Outer-Index" not in response.headers
    assert outer.test_client().get("/x").headers["X-Outer-Index"] == "1"
