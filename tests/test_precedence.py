"""Which declaration wins: layers, ``None``, modes, and the response's own headers."""

from __future__ import annotations

import collections.abc as cabc
import functools
import typing as t

import pytest
from flask import Blueprint
from flask import Flask
from flask import make_response
from flask import request
from flask import Response
from wire import wire_headers

from flask_header_policy import append
from flask_header_policy import force
from flask_header_policy import Header
from flask_header_policy import HeaderPolicy
from flask_header_policy import remove

Layers = dict[str, dict[str, t.Any]]


def build(layers: Layers) -> Flask:
    """An app with an outer blueprint and one nested in it, a view in each.

    ``layers`` maps ``config``, ``app``, ``outer``, ``inner`` and ``view`` (the
    latter declared on every view) to that layer's headers.
    """
    app = Flask("test_app")
    app.testing = True
    if "config" in layers:
        app.config["HEADER_POLICY_HEADERS"] = layers["config"]
    policy = HeaderPolicy(app, headers=layers.get("app"))

    @app.route("/")
    def index() -> str:
        return "index"

    outer = Blueprint("outer", __name__, url_prefix="/outer")
    inner = Blueprint("inner", __name__, url_prefix="/inner")

    @outer.route("/")
    def outer_view() -> str:
        return "outer"

    @inner.route("/")
    def inner_view() -> str:
        return "inner"

    outer.register_blueprint(inner)
    app.register_blueprint(outer)
    if "outer" in layers:
        policy.add_blueprint_headers(outer, layers["outer"])
    if "inner" in layers:
        policy.add_blueprint_headers("outer.inner", layers["inner"])
    if "view" in layers:
        for view in (index, outer_view, inner_view):
            policy.add_view_headers(view, layers["view"])
    return app


def sent(app: Flask, path: str, name: str = "X-Test") -> list[str]:
    """Every value of ``name`` on the wire for ``path``."""
    return [v for n, v in wire_headers(app, path) if n.lower() == name.lower()]


@pytest.mark.parametrize(
    ("layers", "path", "expected"),
    [
        # config vs kwargs: the headers argument wins over the config.
        ({"config": {"X-Test": "config"}}, "/", ["config"]),
        ({"config": {"X-Test": "config"}, "app": {"X-Test": "app"}}, "/", ["app"]),
        ({"config": {"X-Test": "config"}, "app": {"X-Test": None}}, "/", []),
        ({"config": {"X-Test": None}, "app": {"X-Test": "app"}}, "/", ["app"]),
        ({"app": {"X-Test": None}}, "/", []),
        # app vs blueprint.
        ({"app": {"X-Test": "app"}, "outer": {"X-Test": "bp"}}, "/", ["app"]),
        ({"app": {"X-Test": "app"}, "outer": {"X-Test": "bp"}}, "/outer/", ["bp"]),
        ({"app": {"X-Test": "app"}, "outer": {"X-Test": None}}, "/outer/", []),
        ({"app": {"X-Test": "app"}, "outer": {"X-Test": None}}, "/", ["app"]),
        ({"config": {"X-Test": "config"}, "outer": {"X-Test": None}}, "/outer/", []),
        # outer vs nested blueprint: nested inherits, inner wins.
        ({"outer": {"X-Test": "outer"}}, "/outer/inner/", ["outer"]),
        (
            {"outer": {"X-Test": "outer"}, "inner": {"X-Test": "inner"}},
            "/outer/inner/",
            ["inner"],
        ),
        (
            {"outer": {"X-Test": "outer"}, "inner": {"X-Test": "inner"}},
            "/outer/",
            ["outer"],
        ),
        (
            {"outer": {"X-Test": "outer"}, "inner": {"X-Test": None}},
            "/outer/inner/",
            [],
        ),
        ({"app": {"X-Test": "app"}, "inner": {"X-Test": None}}, "/outer/", ["app"]),
        (
            {
                "app": {"X-Test": "app"},
                "outer": {"X-Test": None},
                "inner": {"X-Test": "i"},
            },
            "/outer/inner/",
            ["i"],
        ),
        ({"app": {"X-Test": "app"}}, "/outer/inner/", ["app"]),
        # app vs view, blueprint vs view.
        ({"app": {"X-Test": "app"}, "view": {"X-Test": "view"}}, "/", ["view"]),
        ({"app": {"X-Test": "app"}, "view": {"X-Test": None}}, "/", []),
        ({"outer": {"X-Test": "bp"}, "view": {"X-Test": "view"}}, "/outer/", ["view"]),
        ({"outer": {"X-Test": "bp"}, "view": {"X-Test": None}}, "/outer/", []),
        (
            {"inner": {"X-Test": "inner"}, "view": {"X-Test": "view"}},
            "/outer/inner/",
            ["view"],
        ),
        (
            {
                "outer": {"X-Test": "outer"},
                "inner": {"X-Test": None},
                "view": {"X-Test": "v"},
            },
            "/outer/inner/",
            ["v"],
        ),
        # Names compare case-insensitively across layers.
        ({"app": {"X-Test": "app"}, "view": {"x-test": "view"}}, "/", ["view"]),
        ({"config": {"x-TEST": "config"}, "app": {"X-Test": None}}, "/", []),
        # Unmatched URLs, even under a blueprint's prefix: the app layer only.
        ({"app": {"X-Test": "app"}, "outer": {"X-Test": "bp"}}, "/outer/nope", ["app"]),
        (
            {"app": {"X-Test": "app"}, "inner": {"X-Test": None}},
            "/outer/inner/x",
            ["app"],
        ),
        ({"app": {"X-Test": "app"}, "view": {"X-Test": "view"}}, "/nope", ["app"]),
    ],
)
def test_layers(layers: Layers, path: str, expected: list[str]) -> None:
    assert sent(build(layers), path) == expected


def test_lower_layers_keep_other_names() -> None:
    app = build(
        {
            "config": {"X-Config": "c", "X-A": "config"},
            "app": {"X-A": "app", "X-B": "app"},
            "outer": {"X-B": "outer", "X-C": "outer"},
            "inner": {"X-C": "inner", "X-D": "inner"},
            "view": {"X-D": "view"},
        }
    )
    names = ("X-Config", "X-A", "X-B", "X-C", "X-D")
    got = {name: sent(app, "/outer/inner/", name) for name in names}
    assert got == {
        "X-Config": ["c"],
        "X-A": ["app"],
        "X-B": ["outer"],
        "X-C": ["inner"],
        "X-D": ["view"],
    }


def own_header_app(spec: t.Any) -> Flask:
    app = Flask("test_app")
    app.testing = True
    HeaderPolicy(app, headers={"X-Test": spec})

    @app.route("/own")
    def own() -> Response:
        response = make_response("own")
        response.headers["X-Test"] = "view"
        return response

    @app.route("/bare")
    def bare() -> str:
        return "bare"

    return app


@pytest.mark.parametrize(
    ("spec", "own", "bare"),
    [
        ("policy", ["view"], ["policy"]),
        (force("policy"), ["policy"], ["policy"]),
        (append("policy"), ["view, policy"], ["policy"]),
        (append("view"), ["view"], ["view"]),
        # X-Test is not known to be case-insensitive: kept byte for byte.
        (append("VIEW"), ["view, VIEW"], ["VIEW"]),
        (remove(), [], []),
    ],
)
def test_response_own_header_vs_mode(
    spec: t.Any, own: list[str], bare: list[str]
) -> None:
    app = own_header_app(spec)
    assert sent(app, "/own") == own
    assert sent(app, "/bare") == bare


@pytest.mark.parametrize(
    ("existing", "declared", "expected"),
    [
        ([], "Accept-Encoding", "Accept-Encoding"),
        (["Origin"], "Accept-Encoding", "Origin, Accept-Encoding"),
        (["Accept-Encoding"], "accept-encoding", "Accept-Encoding"),
        (["cookie, ORIGIN"], "Origin, Cookie", "cookie, ORIGIN"),
        (["Cookie", "Origin"], "Accept-Encoding", "Cookie, Origin, Accept-Encoding"),
        (["Cookie", "cookie"], "COOKIE", "Cookie"),
        (["Cookie,,  Origin ,"], "Origin", "Cookie, Origin"),
        (["Cookie"], "Origin, Accept-Encoding", "Cookie, Origin, Accept-Encoding"),
    ],
)
def test_append_vary(existing: list[str], declared: str, expected: str) -> None:
    app = Flask("test_app")
    app.testing = True
    HeaderPolicy(app, headers={"Vary": append(declared)})

    @app.route("/")
    def index() -> Response:
        response = make_response("vary")
        for value in existing:
            response.headers.add("Vary", value)
        return response

    assert sent(app, "/", "Vary") == [expected]


@pytest.mark.parametrize(
    "declared",
    [
        {"Server": remove(), "X-Powered-By": remove()},
        {"server": remove(), "x-powered-by": remove()},
    ],
)
def test_remove_strips_what_the_view_set(declared: dict[str, Header]) -> None:
    app = Flask("test_app")
    app.testing = True
    HeaderPolicy(app, headers={**declared, "X-Frame-Options": "DENY"})

    @app.route("/")
    def index() -> Response:
        response = make_response("removed")
        response.headers["Server"] = "Apache/2.4.1"
        response.headers.add("X-Powered-By", "PHP/5.6")
        response.headers.add("x-powered-by", "Express")
        return response

    headers = wire_headers(app, "/")
    assert [n for n, _ in headers if n.lower() in ("server", "x-powered-by")] == []
    assert ("X-Frame-Options", "DENY") in headers


def test_view_cancels_app_remove() -> None:
    app = Flask("test_app")
    app.testing = True
    policy = HeaderPolicy(app, headers={"Server": remove()})

    @app.route("/")
    @policy.headers({"Server": None})
    def index() -> Response:
        response = make_response("kept")
        response.headers["Server"] = "mine"
        return response

    assert sent(app, "/", "Server") == ["mine"]


def test_dynamic_values_read_request_and_response() -> None:
    app = Flask("test_app")
    app.testing = True
    seen: list[t.Any] = []

    def status(req: t.Any, resp: t.Any) -> str:
        seen.append(resp)
        return f"{resp.status_code} {resp.headers.get('X-Own', '-')}"

    def sneaky(req: t.Any, resp: t.Any) -> None:
        resp.headers["X-Sneaked"] = "1"
        return None

    policy = HeaderPolicy(
        app,
        headers={
            "X-Path": lambda req, resp: req.path,
            "X-Status": status,
            "X-Query": lambda req, resp: req.args.get("q"),
            "X-Sneaky": sneaky,
        },
    )

    @app.route("/dyn")
    def dyn() -> tuple[str, int, dict[str, str]]:
        return "dyn", 201, {"X-Own": "own"}

    @app.route("/override")
    @policy.headers({"X-Path": lambda req, resp: request.endpoint})
    def override() -> str:
        return "override"

    def values(path: str) -> dict[str, list[str]]:
        headers = wire_headers(app, path)
        names = ("X-Path", "X-Status", "X-Query", "X-Sneaky", "X-Sneaked")
        return {n: [v for k, v in headers if k == n] for n in names}

    assert values("/dyn?q=abc") == {
        "X-Path": ["/dyn"],
        "X-Status": ["201 own"],
        "X-Query": ["abc"],
        "X-Sneaky": [],
        "X-Sneaked": [],
    }
    assert values("/missing") == {
        "X-Path": ["/missing"],
        "X-Status": ["404 -"],
        "X-Query": [],
        "X-Sneaky": [],
        "X-Sneaked": [],
    }
    assert values("/override?q=") == {
        "X-Path": ["override"],
        "X-Status": ["200 -"],
        "X-Query": [""],
        "X-Sneaky": [],
        "X-Sneaked": [],
    }
    # A fresh snapshot per request, not the live response object.
    assert len({id(r) for r in seen}) == len(seen) == 3


def test_add_view_headers_by_endpoint_and_function() -> None:
    app = Flask("test_app")
    app.testing = True
    policy = HeaderPolicy(app, headers={"X-Test": "app"})

    def by_function() -> str:
        return "f"

    def by_endpoint() -> str:
        return "e"

    bp = Blueprint("api", __name__, url_prefix="/api")

    def in_blueprint() -> str:
        return "b"

    app.add_url_rule("/f", view_func=by_function)
    app.add_url_rule("/e", endpoint="custom", view_func=by_endpoint)
    bp.add_url_rule("/b", view_func=in_blueprint)
    app.register_blueprint(bp)
    policy.add_view_headers(by_function, {"X-Test": "function"})
    policy.add_view_headers("custom", {"X-Test": "endpoint"})
    policy.add_view_headers("api.in_blueprint", {"X-Test": "bp endpoint"})

    assert sent(app, "/f") == ["function"]
    assert sent(app, "/e") == ["endpoint"]
    assert sent(app, "/api/b") == ["bp endpoint"]


def test_decorator_above_and_below_route() -> None:
    app = Flask("test_app")
    app.testing = True
    policy = HeaderPolicy(app)

    @policy.headers({"X-Test": "above"})
    @app.route("/above")
    def above() -> str:
        return "above"

    @app.route("/below")
    @policy.headers({"X-Test": "below"})
    def below() -> str:
        return "below"

    assert above() == "above"
    assert below() == "below"
    assert sent(app, "/above") == ["above"]
    assert sent(app, "/below") == ["below"]


@pytest.mark.parametrize("before_register", [True, False])
def test_blueprint_by_name(before_register: bool) -> None:
    app = Flask("test_app")
    app.testing = True
    policy = HeaderPolicy(app, headers={"X-Test": "app"})
    bp = Blueprint("api", __name__, url_prefix="/api")

    @bp.route("/")
    def index() -> str:
        return "api"

    if before_register:
        policy.add_blueprint_headers("api", {"X-Test": "by name"})
    app.register_blueprint(bp)
    if not before_register:
        policy.add_blueprint_headers("api", {"X-Test": "by name"})
    assert sent(app, "/api/") == ["by name"]


def test_declaring_after_first_request_takes_effect() -> None:
    app = Flask("test_app")
    app.testing = True
    policy = HeaderPolicy(app, headers={"X-Test": "app"})
    bp = Blueprint("api", __name__, url_prefix="/api")

    @app.route("/")
    def index() -> str:
        return "index"

    @bp.route("/")
    def api() -> str:
        return "api"

    app.register_blueprint(bp)
    assert sent(app, "/") == ["app"]
    assert sent(app, "/api/") == ["app"]

    policy.add_view_headers(index, {"X-Test": "view", "X-New": "new"})
    assert sent(app, "/") == ["view"]
    assert sent(app, "/", "X-New") == ["new"]

    policy.add_view_headers("index", {"X-Test": "endpoint"})
    assert sent(app, "/") == ["endpoint"]
    assert sent(app, "/", "X-New") == ["new"]

    policy.add_blueprint_headers(bp, {"X-Test": "bp"})
    assert sent(app, "/api/") == ["bp"]
    policy.add_blueprint_headers(bp, {"X-Test": None})
    assert sent(app, "/api/") == []
    assert sent(app, "/") == ["endpoint"]
    assert sent(app, "/nope") == ["app"]


def test_a_second_policy_on_one_app_is_refused() -> None:
    from flask_header_policy.talisman import Talisman

    app = Flask("twice")
    first = HeaderPolicy(app, headers={"X-Test": "first"})
    wrapped = app.wsgi_app
    for again in (
        lambda: HeaderPolicy(app, headers={"X-Test": "second"}),
        lambda: first.init_app(app),
        lambda: Talisman(app),
    ):
        with pytest.raises(RuntimeError, match="already installed on app 'twice'"):
            again()
    # Nothing of the refused installs is left behind.
    assert app.wsgi_app is wrapped
    assert app.extensions["header_policy"].policy is first
    app.get("/")(lambda: "x")
    assert sent(app, "/") == ["first"]

    talisman_app = Flask("talisman")
    Talisman(talisman_app)
    with pytest.raises(RuntimeError, match="another HeaderPolicy, or a Talisman"):
        HeaderPolicy(talisman_app, preset="strict")


def test_one_policy_two_apps() -> None:
    policy = HeaderPolicy(headers={"X-Test": "shared"})
    apps = []
    for name in ("one", "two"):
        app = Flask(name)
        app.testing = True
        app.config["HEADER_POLICY_HEADERS"] = {"X-App": name}
        policy.init_app(app)

        @app.route("/")
        def index() -> str:
            return "index"

        apps.append(app)
    policy.add_view_headers("index", {"X-View": "late"})
    for app in apps:
        assert sent(app, "/") == ["shared"]
        assert sent(app, "/", "X-App") == [app.name]
        assert sent(app, "/", "X-View") == ["late"]


def login_required(view: cabc.Callable[..., t.Any]) -> cabc.Callable[..., t.Any]:
    @functools.wraps(view)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        return view(*args, **kwargs)

    return wrapper


def test_decorator_under_a_wrapping_decorator() -> None:
    app = Flask("test_app")
    app.testing = True
    policy = HeaderPolicy(app, headers={"X-Test": "app"})

    @app.route("/")
    @login_required
    @policy.headers({"X-Test": "view"})
    def index() -> str:
        return "index"

    assert sent(app, "/") == ["view"]


def test_decorator_over_a_wrapping_decorator() -> None:
    app = Flask("test_app")
    app.testing = True
    policy = HeaderPolicy(app, headers={"X-Test": "app"})

    @app.route("/")
    @policy.headers({"X-Test": "view"})
    @login_required
    def index() -> str:
        return "index"

    assert sent(app, "/") == ["view"]
