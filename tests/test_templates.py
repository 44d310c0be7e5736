"""Stamping nonces and hashes into templates: the Jinja extension and the app."""

from __future__ import annotations

import logging
import re
import typing as t
from pathlib import Path

import pytest
from flask import Blueprint
from flask import Flask
from flask import render_template
from flask import render_template_string
from flask import stream_template
from jinja2 import DictLoader
from jinja2 import Environment
from jinja2 import TemplateSyntaxError
from markupsafe import Markup

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy import NONCE
from flask_header_policy import only_for
from flask_header_policy import SELF
from flask_header_policy import trust_scripts
from flask_header_policy.csp import hash_source
from flask_header_policy.presets import PRESETS
from flask_header_policy.templates import Hashes
from flask_header_policy.templates import hashes_for
from flask_header_policy.templates import StampExtension
from flask_header_policy.templates import stamps_template

N = 'nonce="N"'


def environment(
    templates: dict[str, str] | None = None, **options: t.Any
) -> Environment:
    env = Environment(
        loader=DictLoader(templates or {}), extensions=[StampExtension], **options
    )
    recorded: list[int] = []
    env.header_policy_nonce = lambda: "N"  # type: ignore[attr-defined]
    env.header_policy_record = recorded.append  # type: ignore[attr-defined]
    env.recorded = recorded  # type: ignore[attr-defined]
    return env


def render(source: str, **context: t.Any) -> str:
    return environment().from_string(source).render(**context)


def recorded(env: Environment) -> Hashes:
    return hashes_for(env.recorded)  # type: ignore[attr-defined]


# The extension on its own (no Flask).


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<script>a()</script>", f"<script {N}>a()</script>"),
        ("<SCRIPT SRC=x></SCRIPT>", f"<SCRIPT {N} SRC=x></SCRIPT>"),
        (
            '<script\n  src="{{ u }}"\n  defer></script>',
            f'<script {N}\n  src="/s.js"\n  defer></script>',
        ),
        ("<style>p{}</style>", f"<style {N}>p{{}}</style>"),
        ('<link rel="stylesheet" href=x>', f'<link {N} rel="stylesheet" href=x>'),
        (
            "<link rel=preload as=font><link rel=icon>",
            f"<link {N} rel=preload as=font><link rel=icon>",
        ),
        ('<script nonce="{{ n }}">x</script>', '<script nonce="mine">x</script>'),
        (
            "<script type=application/ld+json>{}</script>",
            "<script type=application/ld+json>{}</script>",
        ),
        (
            "<script type='text/template'><script>t</script></script>",
            "<script type='text/template'><script>t</script></script>",
        ),
        ("<!-- <script>c</script> --><b>", "<!-- <script>c</script> --><b>"),
        ("{# <script>c</script> #}<b>", "<b>"),
        (
            "<textarea><script>t</script></textarea>",
            "<textarea><script>t</script></textarea>",
        ),
        # A {% raw %} block's text is markup the developer wrote: stamped.
        (
            "{% raw %}<script>{{ vue }}</script>{% endraw %}",
            f"<script {N}>{{{{ vue }}}}</script>",
        ),
        # The stamp goes before a tag, so both branches get it.
        (
            "<script{% if a %} async{% endif %}></script>",
            f"<script {N}></script>",
        ),
        ("<script src={{ u }}{% if a %} async{% endif %}>", f"<script {N} src=/s.js>"),
        # A tag name written with an expression may be anything: left alone.
        ("<{{ tag }} src=x>", "<script src=x>"),
        (
            "<svg><style>.a{}</style><script>b()</script></svg>",
            f"<svg><style {N}>.a{{}}</style><script {N}>b()</script></svg>",
        ),
    ],
)
def test_stamps_tags_in_template_source(source: str, expected: str) -> None:
    assert render(source, u="/s.js", n="mine", tag="script", a=False) == expected


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '"><script src=//evil.example/x.js></script>',
        "<style>*{}</style><link rel=stylesheet href=//evil.example>",
    ],
)
def test_markup_from_variables_is_never_stamped(payload: str) -> None:
    env = environment(autoescape=True)
    template = env.from_string(
        "<p>{{ q }}</p><p>{{ q|safe }}</p><p title='{{ q|safe }}'></p>"
        '<p title="{{ q }}"></p><div>{{ wrapped }}</div><script>own()</script>'
    )
    html = template.render(q=payload, wrapped=Markup(payload))
    assert html.count("nonce=") == 1
    assert html.endswith(f"<script {N}>own()</script>")


def test_no_nonce_no_attribute() -> None:
    env = environment()
    env.header_policy_nonce = lambda: None  # type: ignore[attr-defined]
    assert env.from_string("<script>x</script>").render() == "<script>x</script>"


def test_nonce_is_escaped_if_odd() -> None:
    env = environment()
    env.header_policy_nonce = lambda: 'a"b'  # type: ignore[attr-defined]
    html = env.from_string("<style></style>").render()
    assert html == '<style nonce="a&#34;b"></style>'


@pytest.mark.parametrize(
    ("name", "stamped"),
    [
        (None, True),
        ("page.html", True),
        ("admin/Page.HTM", True),
        ("page.html.j2", True),
        ("page.jinja", True),
        ("layout", True),
        ("icon.svg", True),
        ("app.js", False),
        ("app.js.jinja2", False),
        ("mail.txt", False),
        ("feed.xml", False),
    ],
)
def test_which_templates_are_stamped(name: str | None, stamped: bool) -> None:
    assert stamps_template(name) is stamped
    if name is not None:
        env = environment({name: "<script>x</script>"})
        assert ("nonce" in env.get_template(name).render()) is stamped


def test_csp_hash_in_a_template_that_is_not_stamped() -> None:
    env = environment({"x.js": "{% csp_hash %}<script>a</script>{% endcsp_hash %}"})
    with pytest.raises(TemplateSyntaxError, match="works in HTML templates only"):
        env.get_template("x.js")


def test_trans_blocks_are_not_stamped() -> None:
    env = environment()
    env.add_extension("jinja2.ext.i18n")
    env.install_null_translations()  # type: ignore[attr-defined]
    html = env.from_string(
        "{% trans %}<script>a</script>{% endtrans %}<script>b</script>"
    ).render()
    assert html == f"<script>a</script><script {N}>b</script>"


def test_a_child_block_of_javascript_does_not_hide_later_tags() -> None:
    env = environment(
        {
            "base.html": "<script>{% block js %}{% endblock %}</script>"
            "{% block body %}{% endblock %}",
            "child.html": '{% extends "base.html" %}'
            "{% block js %}for (i = 0; i<n; i++) {}{% endblock %}"
            "{% block body %}<script src=x></script>{% endblock %}",
        }
    )
    html = env.get_template("child.html").render()
    assert (
        html
        == f"<script {N}>for (i = 0; i<n; i++) {{}}</script><script {N} src=x></script>"
    )


# Hashes of static inline code.


def test_static_handlers_and_styles_are_hashed_and_recorded() -> None:
    env = environment()
    template = env.from_string(
        "<button onclick=\"return confirm('Sure?')\" style='color: red'>"
        "<button onclick='del({{ id }})' style='{{ css }}'>"
        "<a href='javascript:void(0)'>"
    )
    template.render(id=1, css="")
    assert recorded(env) == Hashes(
        script_attr=frozenset({hash_source("return confirm('Sure?')")}),
        style_attr=frozenset({hash_source("color: red")}),
        navigation=frozenset({hash_source("javascript:void(0)")}),
    )
    template.render(id=2, css="")
    assert len(env.recorded) == 2  # type: ignore[attr-defined]


def test_template_without_inline_code_records_nothing() -> None:
    env = environment()
    env.from_string("<p><script>x</script>").render()
    assert env.recorded == []  # type: ignore[attr-defined]


def test_macros_record_when_called_from_a_cached_import() -> None:
    env = environment(
        {
            "macros.html": "{% macro b() %}<b onclick='m()'>{% endmacro %}",
            "page.html": '{% import "macros.html" as m %}{{ m.b() }}',
            "plain.html": '{% import "macros.html" as m %}<p>',
        }
    )
    page = env.get_template("page.html")
    page.render()
    env.recorded.clear()  # type: ignore[attr-defined]
    page.render()  # the imported module is cached: only the macro runs
    assert recorded(env).script_attr == {hash_source("m()")}
    env.recorded.clear()  # type: ignore[attr-defined]
    env.get_template("plain.html").render()  # imported, not called
    assert env.recorded == []  # type: ignore[attr-defined]


def test_included_and_extended_templates_record() -> None:
    env = environment(
        {
            "base.html": "<b style='a:1'>{% block x %}{% endblock %}",
            "part.html": "<i onclick='p()'>",
            "page.html": '{% extends "base.html" %}{% block x %}'
            '{% include "part.html" %}{% endblock %}',
        }
    )
    env.get_template("page.html").render()
    assert recorded(env) == Hashes(
        script_attr=frozenset({hash_source("p()")}),
        style_attr=frozenset({hash_source("a:1")}),
    )


def test_csp_hash_block_hashes_instead_of_stamping() -> None:
    env = environment()
    source = (
        "{% csp_hash %}<script>\n  init();\n</script>"
        "<style>p { }</style><script type=application/ld+json>{}</script>"
        "{% endcsp_hash %}<script>other()</script>"
    )
    html = env.from_string(source).render()
    assert html == (
        "<script>\n  init();\n</script><style>p { }</style>"
        f"<script type=application/ld+json>{{}}</script><script {N}>other()</script>"
    )
    assert recorded(env) == Hashes(
        script_elem=frozenset({hash_source("\n  init();\n")}),
        style_elem=frozenset({hash_source("p { }")}),
    )


def test_csp_hash_with_whitespace_control() -> None:
    env = environment()
    html = env.from_string(
        "<p>\n{%- csp_hash -%}\n<script>a</script>\n{%- endcsp_hash %}"
    ).render()
    assert html == "<p><script>a</script>"
    assert recorded(env).script_elem == {hash_source("a")}


@pytest.mark.parametrize(
    ("source", "message", "line"),
    [
        (
            "\n{% csp_hash %}<script>{{ x }}</script>{% endcsp_hash %}",
            "static text only",
            2,
        ),
        (
            "{% csp_hash %}<script>{% if x %}{% endif %}</script>{% endcsp_hash %}",
            "static text only",
            1,
        ),
        (
            "{% csp_hash %}<p>nothing</p>{% endcsp_hash %}",
            "holds no inline <script>",
            1,
        ),
        (
            "{% csp_hash %}\n\n<script src=x></script>{% endcsp_hash %}",
            "<script src> cannot be allowed",
            3,
        ),
        ("{% csp_hash %}<link rel=stylesheet href=x>{% endcsp_hash %}", "<link>", 1),
        ("{% csp_hash %}<script>a{% endcsp_hash %}</script>", "must end inside", 1),
        ("{% csp_hash %}<script>a</script>", "has no {% endcsp_hash %}", 1),
        ("<script>a</script>{% endcsp_hash %}", "without csp_hash", 1),
        ("{% csp_hash %}{% csp_hash %}{% endcsp_hash %}", "static text only", 1),
    ],
)
def test_csp_hash_errors_at_compile_time(source: str, message: str, line: int) -> None:
    with pytest.raises(TemplateSyntaxError, match=re.escape(message)) as error:
        environment().from_string(source)
    assert error.value.lineno == line


# Installed by HeaderPolicy.


def make_app(tmp_path: Path, templates: dict[str, str], **options: t.Any) -> Flask:
    (tmp_path / "templates").mkdir(exist_ok=True)
    for name, source in templates.items():
        (tmp_path / "templates" / name).write_text(source)
    app = Flask("stamped", root_path=str(tmp_path))
    app.testing = True
    HeaderPolicy(app, **options)
    return app


def csp_nonce_of(response: t.Any, name: str = "Content-Security-Policy") -> str:
    (nonce,) = set(re.findall(r"'nonce-([^']+)'", response.headers[name]))
    return nonce


PAGE = "<!doctype html><script src=/app.js></script><style>p{}</style>"


def test_strict_preset_stamps_app_blueprint_and_string_templates(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, {"page.html": PAGE}, preset="strict")
    folder = tmp_path / "ext"
    (folder / "templates" / "ext").mkdir(parents=True)
    (folder / "templates" / "ext" / "page.html").write_text("<script>ext()</script>")
    blueprint = Blueprint(
        "ext", __name__, root_path=str(folder), template_folder="templates"
    )
    blueprint.add_url_rule("/ext", "page", lambda: render_template("ext/page.html"))
    app.register_blueprint(blueprint)
    app.add_url_rule("/", "page", lambda: render_template("page.html"))
    app.add_url_rule(
        "/string", "string", lambda: render_template_string("<script>s()</script>")
    )
    client = app.test_client()
    for path, count in (("/", 2), ("/ext", 1), ("/string", 1)):
        response = client.get(path)
        nonce = csp_nonce_of(response)
        assert response.get_data(as_text=True).count(f'nonce="{nonce}"') == count


@pytest.mark.parametrize(
    ("options", "config", "stamped"),
    [
        ({"preset": "strict"}, {}, True),
        ({"preset": "strict", "stamp_nonces": False}, {}, False),
        ({"preset": "strict"}, {"HEADER_POLICY_STAMP_NONCES": False}, False),
        ({"preset": PRESETS["strict"].replace(stamp_nonces=False)}, {}, False),
        ({"preset": "basic"}, {}, False),
        ({}, {"HEADER_POLICY_STAMP_NONCES": True}, True),
        ({"stamp_nonces": True}, {"HEADER_POLICY_STAMP_NONCES": False}, True),
        ({}, {"HEADER_POLICY_PRESET": "strict"}, True),
    ],
)
def test_turning_stamping_on_and_off(
    options: dict[str, t.Any], config: dict[str, t.Any], stamped: bool
) -> None:
    app = Flask("switch")
    app.testing = True
    app.config.update(config)
    HeaderPolicy(app, **options)
    app.add_url_rule(
        "/", "page", lambda: render_template_string("<script>x()</script>")
    )
    html = app.test_client().get("/").get_data(as_text=True)
    assert ("nonce=" in html) is stamped


def test_stamp_nonces_config_must_be_a_bool() -> None:
    app = Flask("bad")
    app.config["HEADER_POLICY_STAMP_NONCES"] = "maybe"
    with pytest.raises(ValueError, match="HEADER_POLICY_STAMP_NONCES"):
        HeaderPolicy(app)
    app.config["HEADER_POLICY_STAMP_NONCES"] = ["yes"]
    with pytest.raises(TypeError, match="HEADER_POLICY_STAMP_NONCES"):
        HeaderPolicy(app)


@pytest.mark.parametrize(("word", "stamped"), [("yes", True), ("FALSE", False)])
def test_stamp_nonces_config_from_the_environment(word: str, stamped: bool) -> None:
    app = Flask("env")
    app.config["HEADER_POLICY_STAMP_NONCES"] = word  # as from_prefixed_env gives it
    HeaderPolicy(app, preset="strict")
    app.add_url_rule(
        "/", "page", lambda: render_template_string("<script>x()</script>")
    )
    html = app.test_client().get("/").get_data(as_text=True)
    assert ("nonce=" in html) is stamped


def test_templates_compiled_before_installation_are_compiled_again(
    tmp_path: Path,
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(PAGE)
    app = Flask("stamped_later", root_path=str(tmp_path))
    with app.app_context():
        assert "nonce" not in render_template("page.html")  # now in the cache
    HeaderPolicy(app, preset="strict")
    app.add_url_rule("/", "page", lambda: render_template("page.html"))
    assert "nonce=" in app.test_client().get("/").get_data(as_text=True)


def test_rendering_outside_a_request_gets_no_nonce(tmp_path: Path) -> None:
    app = make_app(
        tmp_path, {"mail.html": "<style>p{}</style><b style='x:1'>"}, preset="strict"
    )
    with app.app_context():
        assert render_template("mail.html") == "<style>p{}</style><b style='x:1'>"


def test_streamed_template_gets_the_nonce_of_its_headers(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"page.html": PAGE}, preset="strict")
    app.add_url_rule("/", "page", lambda: stream_template("page.html"))
    response = app.test_client().get("/")
    nonce = csp_nonce_of(response)
    assert response.get_data(as_text=True).count(f'nonce="{nonce}"') == 2


# Hashes in the response's CSP.

HANDLER = "<button onclick=\"return confirm('Sure?')\" style='color: red'>x</button>"
STRICT_CSP = str(PRESETS["strict"].headers["Content-Security-Policy"].value)


def test_hashes_of_the_rendered_templates_only(tmp_path: Path) -> None:
    app = make_app(
        tmp_path, {"handler.html": HANDLER, "plain.html": PAGE}, preset="strict"
    )
    app.add_url_rule("/handler", "handler", lambda: render_template("handler.html"))
    app.add_url_rule("/plain", "plain", lambda: render_template("plain.html"))
    app.add_url_rule(
        "/both",
        "both",
        lambda: render_template("plain.html") + render_template("handler.html"),
    )
    client = app.test_client()
    plain = client.get("/plain")
    nonce = csp_nonce_of(plain)
    assert plain.headers["Content-Security-Policy"] == STRICT_CSP.replace(
        "{nonce}", nonce
    )
    handler_hash = hash_source("return confirm('Sure?')")
    style_hash = hash_source("color: red")
    for path in ("/handler", "/both"):
        response = client.get(path)
        nonce = csp_nonce_of(response)
        assert response.headers["Content-Security-Policy"] == (
            STRICT_CSP.replace("{nonce}", nonce)
            + f"; script-src-attr 'unsafe-hashes' {handler_hash}"
            f"; style-src-attr 'unsafe-hashes' {style_hash}"
        )


def test_report_only_gets_the_hashes_too_and_shares_the_nonce(tmp_path: Path) -> None:
    csp = ContentSecurityPolicy({"script-src": [NONCE], "style-src": [SELF]})
    app = make_app(
        tmp_path,
        {"handler.html": HANDLER},
        stamp_nonces=True,
        headers={
            "Content-Security-Policy": csp,
            "Content-Security-Policy-Report-Only": csp.with_sources(
                "script-src", "'report-sample'"
            ),
        },
    )
    app.add_url_rule("/", "handler", lambda: render_template("handler.html"))
    response = app.test_client().get("/")
    nonce = csp_nonce_of(response)
    assert csp_nonce_of(response, "Content-Security-Policy-Report-Only") == nonce
    handler_hash = hash_source("return confirm('Sure?')")
    assert response.headers["Content-Security-Policy-Report-Only"] == (
        f"script-src 'nonce-{nonce}' 'report-sample'; style-src 'self';"
        f" script-src-attr 'report-sample' 'unsafe-hashes' {handler_hash};"
        f" style-src-attr 'unsafe-hashes' {hash_source('color: red')}"
    )


def test_only_html_responses_get_hashes(tmp_path: Path) -> None:
    csp = ContentSecurityPolicy({"script-src": [NONCE]})
    app = make_app(
        tmp_path,
        {"handler.html": HANDLER},
        stamp_nonces=True,
        headers={"Content-Security-Policy": force_csp(csp)},
    )

    @app.get("/json")
    def json() -> dict[str, str]:
        return {"html": render_template("handler.html")}

    response = app.test_client().get("/json")
    assert response.headers["Content-Security-Policy"].startswith("script-src 'nonce-")
    assert "unsafe-hashes" not in response.headers["Content-Security-Policy"]


def force_csp(csp: ContentSecurityPolicy) -> t.Any:
    return only_for(["text/html", "application/json"], csp)


def test_spliced_policies_are_cached_per_policy_and_template_set(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, {"handler.html": HANDLER}, preset="strict")
    app.add_url_rule("/", "handler", lambda: render_template("handler.html"))
    client = app.test_client()
    first, second = client.get("/"), client.get("/")
    assert csp_nonce_of(first) != csp_nonce_of(second)
    state = app.extensions["header_policy"]
    assert len(state.splice._cache) == 1
    assert first.headers["Content-Security-Policy"].replace(
        csp_nonce_of(first), "N"
    ) == second.headers["Content-Security-Policy"].replace(csp_nonce_of(second), "N")


def test_a_failing_splice_never_breaks_the_response(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(tmp_path, {"handler.html": HANDLER}, preset="strict")
    app.testing = False
    app.add_url_rule("/", "handler", lambda: render_template("handler.html"))

    def broken(value: str, hashes: Hashes) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr("flask_header_policy.templates._flask.splice_hashes", broken)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/")
    assert response.status_code == 200
    assert "unsafe-hashes" not in response.headers["Content-Security-Policy"]
    assert "hashes of the rendered templates not added" in caplog.text


# trust_scripts: the explicit way for Markup built in Python.


def include_moment() -> Markup:
    return Markup(
        '<script src="https://cdn.example/moment.js"></script>\n'
        "<script>moment.locale('en')</script><b onclick='go()'>"
    )


def test_trust_scripts_stamps_one_markup_value(tmp_path: Path) -> None:
    app = make_app(tmp_path, {}, preset="strict")
    app.jinja_env.globals["include_moment"] = include_moment

    @app.get("/")
    def page() -> str:
        return render_template_string(
            "{{ include_moment() }}|{{ include_moment() | trust_scripts }}"
        )

    response = app.test_client().get("/")
    nonce = csp_nonce_of(response)
    untrusted, trusted = response.get_data(as_text=True).split("|")
    assert "nonce" not in untrusted
    assert trusted.count(f' nonce="{nonce}"') == 2
    assert hash_source("go()") in response.headers["Content-Security-Policy"]


def test_trust_scripts_works_without_stamping_and_outside_requests() -> None:
    app = Flask("trust")
    app.testing = True
    HeaderPolicy(app, preset="basic")
    app.add_url_rule(
        "/",
        "page",
        lambda: render_template_string("{{ m | trust_scripts }}", m=include_moment()),
    )
    assert app.test_client().get("/").get_data(as_text=True).count("nonce=") == 2
    with app.app_context():
        assert "nonce" not in trust_scripts(include_moment())


def test_trust_scripts_refuses_plain_text() -> None:
    with pytest.raises(TypeError, match="trust_scripts takes Markup"):
        trust_scripts("<script>alert(1)</script>")


# The debug check.


def debug_app(tmp_path: Path, **options: t.Any) -> Flask:
    app = Flask("debugged", root_path=str(tmp_path))
    app.debug = True
    app.testing = True
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "helper.html").write_text(
        "<!doctype html><script>own()</script>{{ helper() }}"
    )
    app.jinja_env.globals["helper"] = include_moment
    HeaderPolicy(app, **options)
    app.add_url_rule("/helper", "helper", lambda: render_template("helper.html"))
    app.add_url_rule(
        "/trusted",
        "trusted",
        lambda: render_template_string(
            "<script>own()</script>{{ helper()|trust_scripts }}"
        ),
    )
    app.add_url_rule("/raw", "raw", lambda: "<!doctype html><script>x()</script>")
    return app


def test_debug_warns_about_scripts_without_the_nonce(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = debug_app(tmp_path, preset="strict")
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        client.get("/helper")
    (record,) = caplog.records
    message = record.getMessage()
    assert "2 <script> tag(s)" in message
    assert "'helper'" in message and "helper.html" in message
    assert "https://cdn.example/moment.js" in message
    assert "trust_scripts" in message
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        client.get("/trusted")
        client.get("/raw")
    (record,) = caplog.records
    assert "never uses the nonce" in record.getMessage()
    assert "the view built the HTML" in record.getMessage()


def test_debug_check_is_quiet_without_a_nonce_policy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = debug_app(tmp_path, preset="basic")
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        app.test_client().get("/helper")
    assert caplog.records == []


def test_no_debug_check_outside_debug(tmp_path: Path) -> None:
    app = Flask("production")
    HeaderPolicy(app, preset="strict")
    app.get("/")(lambda: "<script>x()</script>")
    app.test_client().get("/")
    assert app.after_request_funcs == {}
    debugged = debug_app(tmp_path, preset="strict")
    debugged.test_client().get("/raw")
    assert len(debugged.after_request_funcs[None]) == 1


def test_debug_turned_on_after_init_app_is_checked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # app.run(debug=True) sets app.debug after the extension was installed.
    app = Flask("run_debug", root_path=str(tmp_path))
    HeaderPolicy(app, preset="strict")
    app.get("/")(lambda: "<!doctype html><script>x()</script>")
    app.debug = True
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        app.test_client().get("/")
    (record,) = caplog.records
    assert "1 <script> tag(s)" in record.getMessage()


def test_module_level_set_block_of_an_import_keeps_its_first_nonce() -> None:
    """The documented limit: Jinja runs an imported module once."""
    env = environment(
        {
            "lib.html": "{% set tags %}<script src=x></script>{% endset %}"
            "{% macro tag() %}<script src=y></script>{% endmacro %}",
            "page.html": '{% import "lib.html" as lib %}{{ lib.tags }}{{ lib.tag() }}',
        }
    )
    page = env.get_template("page.html")
    assert page.render() == f"<script {N} src=x></script><script {N} src=y></script>"
    env.header_policy_nonce = lambda: "M"  # type: ignore[attr-defined]
    assert page.render() == (
        f'<script {N} src=x></script><script nonce="M" src=y></script>'
    )
