"""``flask headers reports``, ``flask headers suggest`` and the dashboard."""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import re
import typing as t
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Blueprint
from flask import Flask
from flask.cli import FlaskGroup
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import hash_source
from flask_header_policy import HeaderPolicy
from flask_header_policy import NONCE
from flask_header_policy import NONE
from flask_header_policy import only_for
from flask_header_policy import SELF
from flask_header_policy import STRICT_DYNAMIC
from flask_header_policy.reports import ReportCollector
from flask_header_policy.reports.collect import Report
from flask_header_policy.reports.suggest import allows
from flask_header_policy.reports.suggest import suggest
from flask_header_policy.reports.suggest import to_data

CSP_RO = "Content-Security-Policy-Report-Only"
NOW = datetime.datetime.now(datetime.UTC)
APP_CSP = ContentSecurityPolicy(
    default_src=NONE,
    script_src=[NONCE, STRICT_DYNAMIC],
    style_src=SELF,
    img_src=SELF,
    object_src=NONE,
)
BLOG_CSP = ContentSecurityPolicy(default_src=[SELF, "https://static.example"])
VIEW_CSP = ContentSecurityPolicy(default_src=NONE, script_src=SELF)
# Never: unsafe keywords, any wildcard, a bare scheme.
FORBIDDEN = re.compile(
    r"'unsafe-inline'|'unsafe-eval'|\*|\b(?:https?|data|blob):(?!//)"
)


def make(tmp_path: Path, **options: t.Any) -> tuple[Flask, ReportCollector]:
    app = Flask("suggest_app", instance_path=str(tmp_path / "instance"))
    app.testing = True
    policy = HeaderPolicy(app, headers={CSP_RO: only_for("text/html", APP_CSP)})
    blog = Blueprint("blog", __name__, url_prefix="/blog")

    @blog.get("/post")
    def post() -> str:
        return "post"

    policy.add_blueprint_headers(blog, {CSP_RO: BLOG_CSP})
    app.register_blueprint(blog)

    @app.get("/")
    def index() -> str:
        return "index"

    @app.get("/view")
    @policy.headers({"Content-Security-Policy": VIEW_CSP})
    def view() -> str:
        return "view"

    return app, policy.collect_reports(app, rate=None, **options)


def row(
    blocked: str = "https://cdn.example",
    directive: str = "img-src",
    *,
    endpoint: str = "index",
    layer: str = "app",
    header: str = CSP_RO,
    days: float = 0,
    **changes: t.Any,
) -> Report:
    report = Report(
        type="csp-violation",
        time=NOW - datetime.timedelta(days=days),
        document_url="https://app.example/",
        endpoint=endpoint,
        rule={"index": "/", "blog.post": "/blog/post", "view": "/view"}.get(
            endpoint, "/"
        ),
        layer=layer,
        header=header,
        directive=directive,
        blocked=blocked,
        blocked_url=blocked + "/x",
        source_file="",
        sample="",
        disposition="enforce" if header == "Content-Security-Policy" else "report",
        browser="Chrome",
    )
    return dataclasses.replace(report, **changes)


def store(
    app: Flask, collector: ReportCollector, *reports: Report, count: int = 1
) -> None:
    collector.store(app).write([r for r in reports for _ in range(count)])


def cli(app: Flask, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(FlaskGroup(create_app=lambda: app), ["headers", *args])
    return result.exit_code, result.output


def suggestions(
    app: Flask, collector: ReportCollector, **kwargs: t.Any
) -> list[dict[str, t.Any]]:
    rows = collector.store(app).fingerprints()
    return to_data(suggest(app, rows, **kwargs))


def only(items: list[dict[str, t.Any]], layer: str) -> dict[str, t.Any]:
    (item,) = [i for i in items if i["layer"] == layer]
    return item


# flask headers reports


def test_reports_without_a_collector() -> None:
    app = Flask("bare")
    HeaderPolicy(app)
    code, output = cli(app, "reports")
    assert code == 1
    assert "collects no reports: call policy.collect_reports(app)" in output


def test_reports_friendly_when_none(tmp_path: Path) -> None:
    app, _ = make(tmp_path)
    code, output = cli(app, "reports")
    assert code == 0
    assert output.startswith("No reports yet. Browsers send them to /__csp-reports")
    assert json.loads(cli(app, "reports", "--json")[1]) == {
        "reports": [],
        "counters": {},
    }
    assert not Path(app.instance_path).exists()  # reading created nothing


def test_reports_table_json_since_and_route(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(
        app,
        collector,
        row(),
        row("inline", "script-src-elem", days=10),
        row(
            "https://fonts.example",
            "font-src",
            endpoint="blog.post",
            layer="blueprint:blog",
        ),
        count=2,
    )
    collector.store(app).write([], {"noise:extension": 4})
    code, output = cli(app, "reports")
    assert code == 0
    lines = output.splitlines()
    assert lines[0].split() == [
        "Route",
        "Layer",
        "Directive",
        "Blocked",
        "Count",
        "Last",
        "seen",
        "Disposition",
        "Browser",
    ]
    assert "blog.post" in output and "blueprint:blog" in output and "font-src" in output
    assert lines[-1] == "Not stored: noise:extension 4"

    data = json.loads(cli(app, "reports", "--json")[1])
    assert len(data["reports"]) == 3
    assert {r["count"] for r in data["reports"]} == {2}
    assert data["counters"] == {"noise:extension": 4}
    datetime.datetime.fromisoformat(data["reports"][0]["last_seen"])

    recent = json.loads(cli(app, "reports", "--json", "--since", "7d")[1])["reports"]
    assert {r["directive"] for r in recent} == {"img-src", "font-src"}
    since_date = (NOW - datetime.timedelta(days=20)).date().isoformat()
    assert (
        len(
            json.loads(cli(app, "reports", "--json", "--since", since_date)[1])[
                "reports"
            ]
        )
        == 3
    )
    by_route = json.loads(cli(app, "reports", "--json", "--route", "/blog/post")[1])[
        "reports"
    ]
    assert [r["endpoint"] for r in by_route] == ["blog.post"]
    code, output = cli(app, "reports", "--route", "nope")
    assert "No reports matching these options yet." in output
    code, output = cli(app, "reports", "--since", "yesterday")
    assert code == 2 and "neither a duration" in output


def test_reports_never_interpret_what_reports_contain(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(
        app,
        collector,
        row("inline", "[red]x[/red]", sample="<script>alert(1)</script>"),
        row("[link=https://evil.example/]click[/link]", "img-src\x1b[31m"),
    )
    code, output = cli(app, "reports")
    assert code == 0
    assert "[red]x[/red]" in output
    assert "[link=https://evil.example/]click[/link]" in output
    assert "\x1b" not in output
    page_file = tmp_path / "reports.html"
    assert cli(app, "reports", "--html", str(page_file))[0] == 0
    page = page_file.read_text()
    assert (
        "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    )
    assert ".badge {" in page  # the audit report's stylesheet
    assert "<script" not in page.lower()


# flask headers suggest


def test_suggest_adds_a_host_at_the_declaring_layer(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(
        app,
        collector,
        row("https://cdn.example"),
        row(
            "https://fonts.example",
            "font-src",
            endpoint="blog.post",
            layer="blueprint:blog",
        ),
        count=3,
    )
    items = suggestions(app, collector)
    app_item = only(items, "app")
    assert app_item["python"] == 'csp.with_sources("img-src", "https://cdn.example")'
    assert app_item["where"] == (
        'HeaderPolicy(app, headers={"Content-Security-Policy-Report-Only":'
        ' only_for("text/html", csp)})'
    )
    assert app_item["new_header"] == (
        "default-src 'none'; script-src 'nonce-{nonce}' 'strict-dynamic';"
        " style-src 'self'; img-src 'self' https://cdn.example; object-src 'none';"
        " report-uri /__csp-reports; report-to header-policy"
    )
    blog = only(items, "blueprint:blog")
    # font-src is not declared: it is created with what default-src allowed.
    assert blog["python"] == (
        'csp.with_sources("font-src", "\'self\'", "https://static.example",'
        ' "https://fonts.example")'
    )
    assert blog["where"].startswith('policy.add_blueprint_headers("blog", ')
    assert blog["changes"][0]["reports"] == 3
    # The snippets are right: applied to the declared values, they allow it.
    for item, declared in ((app_item, APP_CSP), (blog, BLOG_CSP)):
        fixed = eval(item["python"], {"csp": declared})
        assert isinstance(fixed, ContentSecurityPolicy)
    code, output = cli(app, "suggest")
    assert code == 0
    assert 'change:  csp.with_sources("img-src", "https://cdn.example")' in output
    assert "img-src += https://cdn.example (3 reports, Chrome)" in output


def test_one_report_is_counted_in_the_singular(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(app, collector, row("https://cdn.example"), count=1)
    code, output = cli(app, "suggest")
    assert code == 0
    assert "img-src += https://cdn.example (1 report, Chrome) — seen once" in output
    assert "only 1 report so far" in output


def test_suggest_for_the_views_own_enforced_policy(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(
        app,
        collector,
        row(
            "https://app.example",
            "img-src",
            endpoint="view",
            layer="view",
            header="Content-Security-Policy",
        ),
        row(
            "https://cdn.example",
            "script-src-elem",
            endpoint="view",
            layer="view",
            header="Content-Security-Policy",
        ),
    )
    item = only(suggestions(app, collector), "view")
    # The page's own origin is 'self'; script-src is declared, so it grows.
    assert item["python"] == (
        'csp.with_sources("img-src", "\'self\'")'
        '.with_sources("script-src", "https://cdn.example")'
    )
    assert item["where"].startswith(
        '@policy.headers({"Content-Security-Policy": csp}) on view view'
    )
    assert item["readiness"] is None  # enforced already


def test_inline_code_gets_nonces_or_its_hash_never_unsafe_inline(
    tmp_path: Path,
) -> None:
    app, collector = make(tmp_path)
    store(
        app,
        collector,
        row("inline", "script-src-elem"),
        row(
            "inline",
            "script-src-elem",
            endpoint="blog.post",
            layer="blueprint:blog",
            sample="init();",
        ),
        row(
            "inline",
            "script-src-attr",
            endpoint="blog.post",
            layer="blueprint:blog",
            sample="go()",
        ),
        row(
            "inline",
            "style-src-elem",
            endpoint="blog.post",
            layer="blueprint:blog",
            sample="a" * 40,
        ),
    )
    items = suggestions(app, collector)
    (advice,) = only(items, "app")["advice"]
    assert 'add nonce="{{ csp_nonce() }}" to it' in advice["text"]
    assert advice["python"] is None
    blog = {a["directive"]: a for a in only(items, "blueprint:blog")["advice"]}
    assert blog["script-src-elem"]["python"] == (
        f'csp.with_sources("script-src", "{hash_source("init();")}")'
    )
    assert blog["script-src-attr"]["python"] == (
        f'csp.with_sources("script-src", "\'unsafe-hashes\'", "{hash_source("go()")}")'
    )
    assert "addEventListener" in blog["script-src-attr"]["text"]
    assert blog["style-src-elem"]["python"] is None  # 40 characters: cut, no hash
    assert "'unsafe-inline'" not in json.dumps(items)


@pytest.mark.parametrize(
    ("blocked", "directive", "words"),
    [
        ("eval", "script-src", "never allow 'unsafe-eval'"),
        ("data", "img-src", "never allow a bare scheme"),
        ("blob", "worker-src", "never allow a bare scheme"),
        (
            "https://cdn.example",
            "script-src-elem",
            "'strict-dynamic' ignores host sources",
        ),
        ("trusted-types-sink", "require-trusted-types-for", "Trusted Types"),
    ],
)
def test_advice_instead_of_unsafe_sources(
    tmp_path: Path, blocked: str, directive: str, words: str
) -> None:
    app, collector = make(tmp_path)
    store(app, collector, row(blocked, directive))
    item = only(suggestions(app, collector), "app")
    assert item["python"] is None and item["changes"] == []
    (advice,) = item["advice"]
    assert words in advice["text"]


def test_a_directive_of_none_is_replaced(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(app, collector, row("https://plugins.example", "object-src"))
    item = only(suggestions(app, collector), "app")
    assert (
        item["python"] == 'csp.with_directive("object-src", "https://plugins.example")'
    )
    assert "object-src https://plugins.example;" in item["new_header"]
    eval(item["python"], {"csp": APP_CSP})


def test_wasm_gets_its_own_keyword(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(
        app,
        collector,
        row(
            "wasm-eval",
            "script-src",
            endpoint="view",
            layer="view",
            header="Content-Security-Policy",
        ),
    )
    item = only(suggestions(app, collector), "view")
    assert item["python"] == 'csp.with_sources("script-src", "\'wasm-unsafe-eval\'")'


def test_what_is_allowed_now_is_not_suggested_again(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(
        app,
        collector,
        row(
            "https://static.example",
            "img-src",
            endpoint="blog.post",
            layer="blueprint:blog",
        ),
        row(
            "https://app.example",
            "font-src",
            endpoint="blog.post",
            layer="blueprint:blog",
        ),
    )
    assert [
        i for i in suggestions(app, collector) if i["layer"] == "blueprint:blog"
    ] == [
        {
            **only(suggestions(app, collector), "blueprint:blog"),
            "changes": [],
            "advice": [],
        }
    ]
    assert only(suggestions(app, collector), "blueprint:blog")["python"] is None


def test_other_report_types_get_advice(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(
        app,
        collector,
        row(
            "(none)",
            "camera",
            type="permissions-policy-violation",
            header="Permissions-Policy",
            endpoint="index",
        ),
    )
    # Permissions-Policy is not declared by this app: nothing to attach it to.
    assert all(i["header"] != "Permissions-Policy" for i in suggestions(app, collector))


@pytest.mark.parametrize(
    ("sources", "origin", "allowed"),
    [
        (["'self'"], "https://app.example", True),
        (["'self'"], "https://cdn.example", False),
        (["https://cdn.example"], "https://cdn.example", True),
        (["cdn.example"], "https://cdn.example", True),
        (["http://cdn.example"], "https://cdn.example", True),  # upgrade
        (["https://cdn.example"], "http://cdn.example", False),
        (["*.example"], "https://cdn.example", True),
        (["*.example"], "https://example", False),
        (["https://cdn.example:8443"], "https://cdn.example", False),
        (["https://cdn.example:*"], "https://cdn.example:8443", True),
        (["https:"], "https://anything.example", True),
        (["*"], "https://anything.example", True),
        (["'none'"], "https://app.example", False),
    ],
)
def test_allows(sources: list[str], origin: str, allowed: bool) -> None:
    assert allows(sources, origin, "https://app.example") is allowed


BLOCKED = st.sampled_from(
    ["https://cdn.example", "http://127.0.0.1:8000", "https://app.example", "inline",
     "eval", "wasm-eval", "data", "blob", "https://*.bad", "(none)", "javascript",
     "trusted-types-policy"]
)  # fmt: skip
DIRECTIVES = st.sampled_from(
    ["img-src", "script-src", "script-src-elem", "script-src-attr", "style-src-elem",
     "style-src-attr", "font-src", "connect-src", "frame-src", "worker-src",
     "frame-ancestors", "form-action", "base-uri", "media-src", "object-src"]
)  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    reports=st.lists(
        st.tuples(
            BLOCKED,
            DIRECTIVES,
            st.text(max_size=45),
            st.sampled_from(["index", "blog.post", "view"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_suggestions_are_never_unsafe_and_always_valid(
    tmp_path_factory: pytest.TempPathFactory, reports: list[tuple[str, str, str, str]]
) -> None:
    app, collector = make(tmp_path_factory.mktemp("fuzz"))
    layers = {
        "index": ("app", CSP_RO),
        "blog.post": ("blueprint:blog", CSP_RO),
        "view": ("view", "Content-Security-Policy"),
    }
    declared = {"app": APP_CSP, "blueprint:blog": BLOG_CSP, "view": VIEW_CSP}
    store(
        app,
        collector,
        *(
            row(b, d, endpoint=e, layer=layers[e][0], header=layers[e][1], sample=s)
            for b, d, s, e in reports
        ),
    )
    for item in suggestions(app, collector, min_reports=1):
        texts = [item["python"] or "", item["new_header"] or ""]
        texts += [a["python"] or "" for a in item["advice"]]
        for text in texts:
            assert not FORBIDDEN.search(text.replace("'nonce-{nonce}'", "")), text
        if item["python"]:
            fixed = eval(item["python"], {"csp": declared[item["layer"]]})
            assert isinstance(fixed, ContentSecurityPolicy)
        for advice in item["advice"]:
            if advice["python"]:
                eval(advice["python"], {"csp": declared[item["layer"]]})
    collector.store(app).dispose()


# Ready to enforce.


def readiness(
    app: Flask, collector: ReportCollector, **kwargs: t.Any
) -> dict[str, t.Any]:
    return t.cast(
        dict[str, t.Any],
        only(suggestions(app, collector, **kwargs), "app")["readiness"],
    )


def test_no_reports_yet(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    state = readiness(app, collector)
    assert state["ready"] is False and "no reports yet" in state["reason"]


def test_not_enough_reports(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(app, collector, row(days=30), count=5)
    state = readiness(app, collector, min_reports=100)
    assert state["reason"] == "not ready: only 5 reports so far (needs 100)"


def test_a_new_kind_of_report_recently(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(app, collector, row(days=30), count=200)
    store(app, collector, row("https://new.example", days=2))
    state = readiness(app, collector, quiet_days=14, min_reports=100)
    assert (
        state["reason"]
        == "not ready: a new kind of report 2 days ago (needs 14 quiet days)"
    )


def test_still_reported_and_not_allowed(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    store(app, collector, row(days=30), count=150)
    store(app, collector, row(days=1), count=50)  # same fingerprint, seen lately
    state = readiness(app, collector, quiet_days=14, min_reports=100)
    assert state["ready"] is False
    assert (
        "1 kinds of report seen in the last 14 days are not allowed yet"
        in state["reason"]
    )


def test_ready_to_enforce(tmp_path: Path) -> None:
    app, collector = make(tmp_path)
    # Reports that stopped long ago, and one that the policy allows now.
    store(app, collector, row("inline", "script-src-elem", days=40), count=150)
    store(app, collector, row("https://app.example", "img-src", days=20), count=10)
    store(app, collector, row("https://app.example", "img-src", days=1), count=1)
    state = readiness(app, collector, quiet_days=14, min_reports=100)
    assert state["ready"] is True
    assert state["reason"].startswith(
        "ready to enforce: 161 reports, no new kind for 20 days"
    )
    code, output = cli(app, "suggest", "--quiet-days", "14", "--min-reports", "100")
    assert "declare it as Content-Security-Policy in HeaderPolicy(app" in output


def test_suggest_with_nothing_to_say(tmp_path: Path) -> None:
    app = Flask("quiet", instance_path=str(tmp_path))
    policy = HeaderPolicy(app, headers={"Content-Security-Policy": VIEW_CSP})
    policy.collect_reports(app)
    assert cli(app, "suggest") == (
        0,
        "Nothing to suggest: no reports ask for a change (no reports yet).\n",
    )
    assert cli(app, "suggest", "--json") == (0, "[]\n")


# The dashboard.


def test_dashboard_is_off_by_default(tmp_path: Path) -> None:
    app, _ = make(tmp_path, dashboard_url="/admin/reports")
    client = app.test_client()
    assert client.get("/__csp-reports/dashboard").status_code == 404
    assert client.get("/admin/reports").status_code == 404


@pytest.mark.parametrize("answer", [False, None, 0, "", RuntimeError("no session")])
def test_dashboard_refuses_unless_authorized(
    tmp_path: Path, answer: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    def authorize() -> t.Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    app, _ = make(tmp_path, dashboard=authorize)
    app.testing = False  # a raising check must not turn into a 500 either
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/__csp-reports/dashboard")
    assert response.status_code == 404
    assert b"reports" not in response.data.lower()
    if isinstance(answer, Exception):
        assert "the dashboard check raised" in caplog.text


def test_dashboard_page(tmp_path: Path) -> None:
    calls: list[str] = []

    def authorize() -> bool:
        from flask import request

        calls.append(request.path)
        return request.headers.get("X-Admin") == "yes"

    app, collector = make(tmp_path, dashboard=authorize)
    store(
        app,
        collector,
        row("https://cdn.example", sample="</style><script>alert(1)</script>"),
    )
    client = app.test_client()
    assert client.get("/__csp-reports/dashboard").status_code == 404
    response = client.get("/__csp-reports/dashboard", headers={"X-Admin": "yes"})
    assert response.status_code == 200
    assert calls == ["/__csp-reports/dashboard"] * 2
    page = response.get_data(as_text=True)
    assert "https://cdn.example" in page
    assert "csp.with_sources(&#34;img-src&#34;, &#34;https://cdn.example&#34;)" in page
    assert "<script>alert" not in page
    csp = response.headers["Content-Security-Policy"]
    (nonce,) = re.findall(r"'nonce-([^']+)'", csp)
    assert csp.startswith(f"default-src 'none'; style-src 'nonce-{nonce}';")
    assert f'<style nonce="{nonce}">' in page
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Robots-Tag"] == "noindex"


def test_dashboard_when_the_database_is_down(tmp_path: Path) -> None:
    app, _ = make(
        tmp_path,
        dashboard=lambda: True,
        database="postgresql+psycopg://nobody@127.0.0.1:1/none",
    )
    app.testing = False
    assert app.test_client().get("/__csp-reports/dashboard").status_code == 503


def test_reports_when_the_database_cannot_be_read(tmp_path: Path) -> None:
    app, _ = make(
        tmp_path, database="postgresql+psycopg://nobody:secret@127.0.0.1:1/none"
    )
    code, output = cli(app, "reports")
    assert code == 1
    assert (
        "cannot read the reports at postgresql+psycopg://nobody:***@127.0.0.1:1/none"
        in output
    )
    assert "secret" not in output
