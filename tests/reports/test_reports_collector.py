"""The collector endpoint: what it accepts, how it maps a report to a route
and a layer, what it filters as noise, how it wires the policy."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Blueprint
from flask import Flask
from flask import render_template
from flask.cli import FlaskGroup
from flask.testing import FlaskClient

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy import NONCE
from flask_header_policy import NONE
from flask_header_policy import only_for
from flask_header_policy import remove
from flask_header_policy import ReportingEndpoints
from flask_header_policy import SELF
from flask_header_policy.reports import ReportCollector

CSP = ContentSecurityPolicy(default_src=NONE, img_src=SELF, script_src=NONCE)
CSP_RO = "Content-Security-Policy-Report-Only"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = Flask("reports_app", instance_path=str(tmp_path / "instance"))
    app.testing = True
    return app


def build(
    app: Flask,
    headers: dict[str, t.Any] | None = None,
    **options: t.Any,
) -> tuple[HeaderPolicy, ReportCollector]:
    policy = HeaderPolicy(app, headers={CSP_RO: CSP} if headers is None else headers)
    admin = Blueprint("admin", __name__, url_prefix="/admin")

    @admin.get("/users/<int:user>")
    def user(user: int) -> str:
        return "user"

    policy.add_blueprint_headers(
        admin, {CSP_RO: CSP.with_sources("img-src", "https://cdn.example")}
    )
    app.register_blueprint(admin)

    @app.get("/")
    def index() -> str:
        return "<p>index</p>"

    @app.get("/folder/")
    def folder() -> str:
        return "folder"

    @app.get("/own")
    @policy.headers({CSP_RO: ContentSecurityPolicy(default_src=SELF)})
    def own() -> str:
        return "own"

    options.setdefault("rate", None)
    return policy, policy.collect_reports(app, **options)


def sent_policy(client: FlaskClient, path: str, header: str = CSP_RO) -> str:
    return client.get(path).headers[header]


def legacy(
    document: str = "http://localhost/",
    blocked: str = "https://evil.example/x.png",
    directive: str = "img-src",
    **extra: t.Any,
) -> dict[str, t.Any]:
    body = {
        "document-uri": document,
        "blocked-uri": blocked,
        "effective-directive": directive,
        "disposition": "report",
    }
    body.update(extra)
    return {"csp-report": body}


def post(
    client: FlaskClient,
    body: t.Any,
    content_type: str = "application/csp-report",
    user_agent: str = CHROME,
    **kwargs: t.Any,
) -> t.Any:
    data = body if isinstance(body, bytes) else json.dumps(body)
    headers = {"User-Agent": user_agent, **kwargs.pop("headers", {})}
    return client.post(
        "/__csp-reports",
        data=data,
        content_type=content_type,
        headers=headers,
        **kwargs,
    )


def stored(collector: ReportCollector, app: Flask) -> list[dict[str, t.Any]]:
    assert collector.flush(app)
    return collector.store(app).fingerprints()


# Accepting.


def test_accepts_legacy_reporting_api_and_plain_json(app: Flask) -> None:
    _, collector = build(app)
    client = app.test_client()
    policy = sent_policy(client, "/")
    report = legacy(**{"original-policy": policy})
    api = [
        {
            "type": "csp-violation",
            "url": "http://localhost/",
            "body": {
                "documentURL": "http://localhost/",
                "blockedURL": "https://evil.example/x.png",
                "effectiveDirective": "img-src",
                "originalPolicy": policy,
                "disposition": "report",
            },
        }
    ]
    assert post(client, report).status_code == 204
    assert post(client, api, "application/reports+json").status_code == 204
    assert post(client, report, "application/json").status_code == 204
    assert post(client, api, "application/json").status_code == 204
    assert post(client, api[0], "application/json").status_code == 204
    (row,) = stored(collector, app)
    assert row["count"] == 5
    counters = collector.store(app).counters()
    assert counters["received:csp-report"] == 2
    assert counters["received:reports+json"] == 3
    assert counters["accepted"] == 5


def test_every_reporting_api_type_maps_to_its_header_and_layer(app: Flask) -> None:
    _, collector = build(
        app,
        {
            "Cross-Origin-Embedder-Policy-Report-Only": "require-corp",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Permissions-Policy": "camera=()",
        },
    )
    page = "http://localhost/"
    reports = [
        {
            "type": "coep",
            "url": page,
            "body": {
                "type": "corp",
                "blockedURL": "https://x.example/a.js",
                "disposition": "reporting",
            },
        },
        {
            "type": "coop",
            "url": page,
            "body": {
                "type": "navigation-to-response",
                "effectivePolicy": "same-origin",
                "nextResponseURL": "https://y.example/",
                "disposition": "enforce",
            },
        },
        {
            "type": "permissions-policy-violation",
            "url": page,
            "body": {
                "featureId": "camera",
                "sourceFile": "http://localhost/app.js",
                "disposition": "enforce",
            },
        },
        {
            "type": "integrity-violation",
            "url": page,
            "body": {
                "documentURL": page,
                "blockedURL": "https://z.example/s.js",
                "destination": "script",
                "reportOnly": True,
            },
        },
        {
            "type": "deprecation",
            "url": page,
            "body": {"id": "UnloadHandler", "message": "unload is deprecated"},
        },
    ]
    client = app.test_client()
    assert post(client, reports, "application/reports+json").status_code == 204
    rows = {row["type"]: row for row in stored(collector, app)}
    assert set(rows) == {
        "coep", "coop", "permissions-policy-violation", "integrity-violation",
        "deprecation",
    }  # fmt: skip
    facts = {
        kind: (r["header"], r["layer"], r["directive"], r["blocked"], r["disposition"])
        for kind, r in rows.items()
    }
    assert facts == {
        "coep": (
            "Cross-Origin-Embedder-Policy-Report-Only", "app", "corp",
            "https://x.example", "report",
        ),
        "coop": (
            "Cross-Origin-Opener-Policy", "app", "same-origin", "https://y.example",
            "enforce",
        ),
        "permissions-policy-violation": (
            "Permissions-Policy", "app", "camera", "(none)", "enforce",
        ),
        # Integrity-Policy is not declared by this app: no layer.
        "integrity-violation": (None, None, "script", "https://z.example", "report"),
        "deprecation": (None, None, "UnloadHandler", "(none)", "enforce"),
    }  # fmt: skip


# Mapping to a route and a layer.


@pytest.mark.parametrize(
    ("document", "endpoint", "rule", "layer"),
    [
        ("http://localhost/", "index", "/", "app"),
        (
            "http://localhost/admin/users/42?tab=1#x",
            "admin.user",
            "/admin/users/<int:user>",
            "blueprint:admin",
        ),
        ("http://localhost/own", "own", "/own", "view"),
        ("http://localhost/folder", "folder", "/folder/", "app"),  # strict slashes
        ("http://localhost/admin/users/abc", None, None, "app"),  # 404: app layer
        ("http://localhost/%7Eweird/%2e%2e/", None, None, "app"),
    ],
)
def test_document_maps_to_route_and_declaring_layer(
    app: Flask, document: str, endpoint: str | None, rule: str | None, layer: str
) -> None:
    _, collector = build(app)
    client = app.test_client()
    assert post(client, legacy(document)).status_code == 204
    (row,) = stored(collector, app)
    assert (row["endpoint"], row["rule"], row["layer"]) == (endpoint, rule, layer)
    assert row["header"] == CSP_RO
    assert "?" not in row["document_url"] and "#" not in row["document_url"]


def test_preset_layer_and_enforced_header(app: Flask) -> None:
    policy = HeaderPolicy(app, preset="strict")

    @app.get("/")
    def index() -> str:
        return "<p>x</p>"

    collector = policy.collect_reports(app, rate=None)
    client = app.test_client()
    report = legacy(disposition="enforce")
    assert post(client, report).status_code == 204
    (row,) = stored(collector, app)
    assert (row["layer"], row["header"], row["disposition"]) == (
        "preset:strict",
        "Content-Security-Policy",
        "enforce",
    )


def test_app_mounted_under_a_prefix(app: Flask) -> None:
    _, collector = build(app)
    client = app.test_client()
    response = client.post(
        "/__csp-reports",
        base_url="http://localhost/mount",
        data=json.dumps(legacy("http://localhost/mount/admin/users/3")),
        content_type="application/csp-report",
    )
    assert response.status_code == 204
    (row,) = stored(collector, app)
    assert row["endpoint"] == "admin.user"


def test_normalised_fields_are_bounded(app: Flask) -> None:
    _, collector = build(app)
    client = app.test_client()
    report = legacy(
        "http://localhost/",
        "https://CDN.Example:443/a/very/long/path.png?token=secret",
        "script-src-elem",
        **{
            "script-sample": "x" * 5000,
            "source-file": "https://cdn.example/" + "y" * 5000,
        },
    )
    assert post(client, report, user_agent=FIREFOX).status_code == 204
    (row,) = stored(collector, app)
    assert row["blocked"] == "https://cdn.example"
    assert row["directive"] == "script-src-elem"
    assert len(row["sample"]) == 80
    assert len(row["source_file"]) == 1024
    assert row["browser"] == "Firefox"


# Noise: filtered and counted, never stored.


@pytest.mark.parametrize(
    ("report", "reason"),
    [
        (legacy(blocked="chrome-extension://abcdef/inject.js"), "extension"),
        (
            legacy(
                blocked="inline", **{"source-file": "moz-extension://1234/content.js"}
            ),
            "extension",
        ),
        (legacy(blocked="safari-web-extension://x/y.js"), "extension"),
        (legacy("about:blank"), "document"),
        (legacy("about:srcdoc"), "document"),
        (legacy("data:text/html,<p>x"), "document"),
        (legacy("https://copy-of-the-site.example/"), "foreign-origin"),
        (
            legacy(**{"original-policy": "default-src *; report-uri /__csp-reports"}),
            "foreign-policy",
        ),
    ],
)
def test_noise_is_counted_not_stored(
    app: Flask, report: dict[str, t.Any], reason: str
) -> None:
    _, collector = build(app)
    client = app.test_client()
    assert post(client, report).status_code == 204
    assert stored(collector, app) == []
    assert collector.store(app).counters()[f"noise:{reason}"] == 1


def test_own_policy_is_recognised_whatever_nonce_hashes_or_report_uri(
    app: Flask,
) -> None:
    _, collector = build(app)
    client = app.test_client()
    policy = sent_policy(client, "/")
    other_nonce = sent_policy(client, "/")
    assert policy != other_nonce  # a fresh nonce per response
    variants = [
        policy,
        other_nonce,
        policy.replace(
            "report-uri /__csp-reports", "report-uri http://localhost/__csp-reports"
        ),
        policy.replace(
            "script-src ", "script-src 'sha256-" + "A" * 43 + "=' 'unsafe-hashes' "
        ),
        sent_policy(client, "/", CSP_RO) + "; report-to header-policy",
    ]
    for text in variants:
        assert post(client, legacy(**{"original-policy": text})).status_code == 204
    (row,) = stored(collector, app)
    assert row["count"] == len(variants)
    # Another route's policy is not this route's.
    admin_policy = sent_policy(client, "/admin/users/1")
    post(client, legacy(**{"original-policy": admin_policy}))
    assert stored(collector, app)[0]["count"] == len(variants)
    assert collector.store(app).counters()["noise:foreign-policy"] == 1


def test_policy_of_a_stamped_page_is_recognised(app: Flask) -> None:
    """Stamping adds hash-only directives (script-src-attr, style-src-attr, a
    script-src-elem for javascript: URLs) to a page's CSP; a report quoting
    that policy is still the app's, not noise:foreign-policy."""
    from flask import render_template_string

    from flask_header_policy.presets import PRESETS

    policy = HeaderPolicy(
        app,
        preset="strict",
        headers={
            "Content-Security-Policy": None,
            CSP_RO: only_for("text/html", PRESETS["strict"].csp),
        },
    )
    collector = policy.collect_reports(app)

    @app.get("/page")
    def page() -> str:
        return render_template_string(
            '<button onclick="go()">Go</button><p style="color: red">x</p>'
            '<a href="javascript:void(0)">back</a><img src="https://evil.example/x.png">'
        )

    client = app.test_client()
    sent = client.get("/page", base_url="https://localhost/").headers[CSP_RO]
    assert "script-src-attr 'unsafe-hashes' 'sha256-" in sent
    assert "style-src-attr 'unsafe-hashes' 'sha256-" in sent
    assert "script-src-elem 'nonce-" in sent  # a copy of script-src, for the URL
    report = legacy("https://localhost/page", **{"original-policy": sent})
    assert post(client, report, base_url="https://localhost/").status_code == 204
    (row,) = stored(collector, app)
    assert (row["endpoint"], row["directive"]) == ("page", "img-src")
    assert "noise:foreign-policy" not in collector.store(app).counters()
    # A directive of hashes the app never sends is still not the app's.
    forged = sent.replace("script-src-attr", "script-src-attr 'self'")
    post(
        client,
        legacy("https://localhost/page", **{"original-policy": forged}),
        base_url="https://localhost/",
    )
    assert collector.flush(app)
    assert collector.store(app).counters()["noise:foreign-policy"] == 1


def test_hosts_option_allows_other_names(app: Flask) -> None:
    _, collector = build(app, hosts=["www.example.org", "example.org"])
    client = app.test_client()
    post(client, legacy("https://www.example.org/"))
    post(client, legacy("http://localhost/"))  # the Host of the POST is not in it
    (row,) = stored(collector, app)
    assert row["document_url"] == "https://www.example.org/"
    assert collector.store(app).counters()["noise:foreign-origin"] == 1


def test_sampling(app: Flask) -> None:
    _, collector = build(app, sample=0.25)
    app.extensions["header_policy_reports"].random.seed(7)
    client = app.test_client()
    for _ in range(400):
        post(client, legacy())
    rows = stored(collector, app)
    counters = collector.store(app).counters()
    kept = rows[0]["count"]
    assert kept + counters["sampled-out"] == 400
    assert 60 < kept < 140


def test_rate_limit_per_client(app: Flask) -> None:
    _, collector = build(app, rate=1, burst=3)
    client = app.test_client()
    assert [post(client, legacy()).status_code for _ in range(3)] == [204] * 3
    refused = post(client, legacy())
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    # Another client has its own bucket.
    other = post(client, legacy(), environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 204
    # A batch takes one token per report; what does not fit is dropped.
    batch = [
        {
            "type": "csp-violation",
            "url": "http://localhost/",
            "body": {
                "documentURL": "http://localhost/",
                "effectiveDirective": "img-src",
                "blockedURL": f"https://h{i}.example/",
            },
        }
        for i in range(5)
    ]
    assert (
        post(
            client,
            batch,
            "application/reports+json",
            environ_base={"REMOTE_ADDR": "10.0.0.3"},
        ).status_code
        == 204
    )
    assert sum(row["count"] for row in stored(collector, app)) == 4 + 3
    assert collector.store(app).counters()["rate-limited"] == 1 + 2


def test_an_ipv6_client_is_its_64_block(app: Flask) -> None:
    """One host gets a whole /64: counted by address, it had 2**64 buckets."""
    _, collector = build(app, rate=1, burst=2)
    client = app.test_client()

    def from_(address: str) -> int:
        return t.cast(
            int,
            post(client, legacy(), environ_base={"REMOTE_ADDR": address}).status_code,
        )

    assert [from_(f"2001:db8:1:2::{n:x}") for n in range(1, 4)] == [204, 204, 429]
    assert from_("2001:db8:1:3::1") == 204  # another /64, another client
    # An IPv4-mapped address is its IPv4 address.
    assert [from_("10.1.1.1"), from_("::ffff:10.1.1.1"), from_("10.1.1.1")] == [
        204,
        204,
        429,
    ]
    assert collector.counters(app)["rate-limited"] == 2


def test_client_key_option(app: Flask) -> None:
    _, collector = build(
        app, rate=1, burst=1, client_key=lambda request: request.headers["X-Client"]
    )
    client = app.test_client()
    codes = [
        post(client, legacy(), headers={"X-Client": name}).status_code
        for name in ("a", "b", "a")
    ]
    assert codes == [204, 204, 429]


# Wiring the policy.


def test_every_csp_gets_report_uri_and_report_to_over_https(app: Flask) -> None:
    build(
        app,
        {
            "Content-Security-Policy": only_for(
                "text/html", CSP, otherwise="default-src 'none'"
            ),
            CSP_RO: ContentSecurityPolicy(default_src=SELF),
        },
    )

    @app.get("/api")
    def api() -> dict[str, int]:
        return {"n": 1}

    client = app.test_client()
    secure = client.get("/", base_url="https://localhost")
    suffix = "; report-uri /__csp-reports; report-to header-policy"
    assert secure.headers["Content-Security-Policy"].endswith(suffix)
    assert "'nonce-" in secure.headers["Content-Security-Policy"]
    assert secure.headers[CSP_RO] == "default-src 'self'" + suffix
    assert secure.headers["Reporting-Endpoints"] == 'header-policy="/__csp-reports"'
    # Non-HTML responses get the `otherwise` policy, wired too.
    json_response = client.get("/api", base_url="https://localhost")
    assert (
        json_response.headers["Content-Security-Policy"]
        == "default-src 'none'" + suffix
    )
    # Plain HTTP: report-uri only (Chromium would drop every report otherwise).
    plain = client.get("/")
    assert plain.headers[CSP_RO] == "default-src 'self'; report-uri /__csp-reports"
    assert plain.headers["Content-Security-Policy"].endswith(
        "; report-uri /__csp-reports"
    )


def test_plain_http_variant_is_made_once_without_a_wrapper(app: Flask) -> None:
    # report-to is left out of plain-HTTP responses by the policy's plain
    # variant, made once per endpoint: no WSGI wrapper of the collector's.
    build(app)
    assert app.wsgi_app.__name__ == "header_policy_wsgi_app"
    entries = {
        d.key: d for d in app.extensions["header_policy"].policy.effective(app, "index")
    }
    wired = entries[CSP_RO.lower()]
    assert wired.template is not None and "report-to" in "".join(wired.template)
    assert wired.plain is not None and wired.plain.template is not None
    assert "report-to" not in "".join(wired.plain.template)
    assert "report-uri /__csp-reports" in "".join(wired.plain.template)


def test_plain_http_drops_report_to_behind_stamped_hashes(
    app: Flask, tmp_path: Path
) -> None:
    # The hashes of a stamped template are spliced after the policy is
    # built, and may add a directive after report-to: taking report-to out
    # of the text as sent (the wrapper this replaced) missed it there.
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text(
        "<button onclick=\"return confirm('Sure?')\">x</button>"
    )
    app.template_folder = str(templates)
    HeaderPolicy(app, preset="strict").collect_reports(app, rate=None)
    app.add_url_rule("/page", "page", lambda: render_template("page.html"))
    client = app.test_client()
    for base_url, report_to in (("http://app.test", False), ("https://app.test", True)):
        csp = client.get("/page", base_url=base_url).headers["Content-Security-Policy"]
        assert "script-src-attr 'unsafe-hashes' 'sha256-" in csp
        assert "report-uri /__csp-reports" in csp
        assert ("report-to header-policy" in csp) is report_to


def test_stamped_pages_over_plain_http_lose_report_to_too(app: Flask) -> None:
    """Stamping appends hash directives after the wired ``report-to``; over
    plain HTTP it must still go (Chromium sends no report at all for a policy
    with report-to on a page that is not served over HTTPS)."""
    from flask import render_template_string

    from flask_header_policy.presets import PRESETS

    policy = HeaderPolicy(
        app,
        preset="strict",
        headers={
            "Content-Security-Policy": only_for("text/html", PRESETS["strict"].csp),
            CSP_RO: only_for("text/html", PRESETS["strict"].csp),
        },
    )
    policy.collect_reports(app)

    @app.get("/page")
    def page() -> str:
        return render_template_string(
            '<button onclick="go()">Go</button><p style="color: red">x</p>'
        )

    client = app.test_client()
    for header in ("Content-Security-Policy", CSP_RO):
        secure = client.get("/page", base_url="https://app.example/").headers[header]
        assert "; report-to header-policy; script-src-attr " in secure
        plain = client.get("/page", base_url="http://app.example/").headers[header]
        assert "script-src-attr 'unsafe-hashes' 'sha256-" in plain
        assert "report-uri /__csp-reports" in plain
        assert "report-to" not in plain
        assert plain == secure.replace("; report-to header-policy", "").replace(
            secure.split("'nonce-")[1].split("'")[0],
            plain.split("'nonce-")[1].split("'")[0],
        )


def test_policies_with_their_own_reporting_are_left_alone(app: Flask) -> None:
    own = ContentSecurityPolicy(
        default_src=SELF, report_uri="https://reports.example/x"
    )
    build(app, {"Content-Security-Policy": own, CSP_RO: remove()})
    response = app.test_client().get("/", base_url="https://localhost")
    assert response.headers["Content-Security-Policy"] == own.to_header()
    assert "Reporting-Endpoints" not in response.headers


def test_the_apps_reporting_endpoints_gains_the_group(app: Flask) -> None:
    build(
        app,
        {
            CSP_RO: ContentSecurityPolicy(default_src=SELF),
            "Reporting-Endpoints": ReportingEndpoints({"default": "/elsewhere"}),
        },
    )
    response = app.test_client().get("/", base_url="https://localhost")
    assert response.headers["Reporting-Endpoints"] == (
        'default="/elsewhere", header-policy="/__csp-reports"'
    )
    assert response.headers[CSP_RO].endswith("report-to header-policy")


def test_a_dynamic_reporting_endpoints_means_report_uri_only(app: Flask) -> None:
    build(
        app,
        {
            CSP_RO: ContentSecurityPolicy(default_src=SELF),
            "Reporting-Endpoints": lambda request, response: 'a="/a"',
        },
    )
    response = app.test_client().get("/", base_url="https://localhost")
    assert response.headers[CSP_RO] == "default-src 'self'; report-uri /__csp-reports"
    assert response.headers["Reporting-Endpoints"] == 'a="/a"'


def test_wire_false_and_application_root(app: Flask) -> None:
    app.config["APPLICATION_ROOT"] = "/shop"
    build(app, {CSP_RO: ContentSecurityPolicy(default_src=SELF)}, url="/csp")
    response = app.test_client().get("/", base_url="https://localhost")
    assert response.headers[CSP_RO].endswith(
        "; report-uri /shop/csp; report-to header-policy"
    )
    assert response.headers["Reporting-Endpoints"] == 'header-policy="/shop/csp"'

    other = Flask("unwired")
    other.testing = True
    build(other, {CSP_RO: ContentSecurityPolicy(default_src=SELF)}, wire=False)
    response = other.test_client().get("/", base_url="https://localhost")
    assert response.headers[CSP_RO] == "default-src 'self'"


def test_show_lists_the_wiring_as_its_own_layer(app: Flask) -> None:
    build(app)
    cli = FlaskGroup(create_app=lambda: app)
    result = CliRunner().invoke(
        cli, ["headers", "show", "--endpoint", "index", "--json"]
    )
    (row,) = json.loads(result.output)
    headers = {h["name"]: h for h in row["headers"]}
    assert headers["Reporting-Endpoints"]["layer"] == "reports"
    assert headers[CSP_RO]["layer"] == "app"
    assert "report-uri /__csp-reports" in headers[CSP_RO]["value"]


# Installing and configuring.


def test_config_keys_and_arguments(app: Flask) -> None:
    app.config.update(
        HEADER_POLICY_REPORTS_URL="/r",
        HEADER_POLICY_REPORTS_GROUP="csp",
        HEADER_POLICY_REPORTS_RATE=2,
        HEADER_POLICY_REPORTS_BURST=7,
    )
    policy = HeaderPolicy(app, headers={CSP_RO: CSP})
    policy.collect_reports(app, burst=9)
    state = app.extensions["header_policy_reports"]
    assert (state.options.url, state.options.group) == ("/r", "csp")
    assert (state.buckets.rate, state.buckets.burst) == (2.0, 9.0)
    assert state.options.database == "sqlite:///" + str(
        Path(app.instance_path) / "header-policy-reports.sqlite3"
    )
    assert not Path(app.instance_path).exists()  # created on first use
    rules = {rule.rule: rule for rule in app.url_map.iter_rules()}
    assert rules["/r"].methods == {"POST", "OPTIONS"}


def test_factory_pattern(tmp_path: Path) -> None:
    policy = HeaderPolicy(headers={CSP_RO: CSP})
    collector = policy.collect_reports(rate=None)
    app = Flask("factory", instance_path=str(tmp_path))
    app.testing = True
    policy.init_app(app)
    response = app.test_client().get("/", base_url="https://localhost")
    assert "report-to header-policy" in response.headers[CSP_RO]
    assert post(app.test_client(), legacy()).status_code == 204
    assert collector.flush(app)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"url": "reports"}, ValueError),
        ({"url": "//evil.example/x"}, ValueError),
        ({"group": "Not A Key"}, ValueError),
        ({"sample": 1.5}, ValueError),
        ({"rate": 0}, ValueError),
        ({"dashboard": True}, TypeError),
        # A str is iterable: "example.com" became the hosts "e", "x", "a"…
        # and every report was dropped as noise:foreign-origin.
        ({"hosts": "example.com"}, TypeError),
        ({"hosts": ["example.com", 5]}, TypeError),
        # From the environment, as from_prefixed_env leaves non-JSON text.
        ({"burst": "abc"}, ValueError),
        ({"max_clients": "many"}, ValueError),
        ({"queue_size": 0}, ValueError),
        ({"enforce_days": "two weeks"}, ValueError),
        ({"enforce_reports": -1}, ValueError),
        ({"max_new_fingerprints": True}, ValueError),
    ],
)
def test_bad_options_fail_at_install(
    app: Flask, options: dict[str, t.Any], error: type[Exception]
) -> None:
    policy = HeaderPolicy(app)
    (name,) = options
    key = "HEADER_POLICY_REPORTS_" + name.upper()
    with pytest.raises(error, match=key):
        policy.collect_reports(app, **options)


def test_needs_the_policy_installed_first(app: Flask) -> None:
    policy = HeaderPolicy()
    with pytest.raises(RuntimeError, match="install the HeaderPolicy"):
        policy.collect_reports(app)


# Resilience.


def test_database_down_answers_204_counts_and_logs_once(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 1: every connection is refused at once.
    _, collector = build(app, database="postgresql+psycopg://nobody@127.0.0.1:1/none")
    app.extensions["header_policy_reports"].writer.retry_delays = (0.01,)
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        codes = []
        for _ in range(3):
            codes.append(post(client, legacy()).status_code)
            collector.flush(app, timeout=30)
    assert codes == [204, 204, 204]
    assert collector.counters(app)["dropped:database"] == 3
    logged = [r for r in caplog.records if "cannot write" in r.getMessage()]
    assert len(logged) == 1
    assert "nobody@127.0.0.1:1/none" in logged[0].getMessage()


def test_csrf_protection_must_exempt_the_collector(app: Flask) -> None:
    from flask_wtf.csrf import CSRFProtect

    app.config["SECRET_KEY"] = "test"
    app.config["WTF_CSRF_CHECK_DEFAULT"] = True
    csrf = CSRFProtect(app)
    _, collector = build(app)
    client = app.test_client()
    assert post(client, legacy()).status_code == 400  # CSRF token missing
    csrf.exempt(collector.view)
    assert post(client, legacy()).status_code == 204


def test_the_core_imports_and_runs_without_sqlalchemy(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "sqlalchemy" or name.startswith("sqlalchemy."):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        sys.meta_path.insert(0, Block())
        from click.testing import CliRunner
        from flask import Flask
        from flask.cli import FlaskGroup
        import flask_header_policy
        import flask_header_policy.cli
        import flask_header_policy.reports
        app = Flask("core")
        policy = flask_header_policy.HeaderPolicy(app, preset="strict")
        assert app.test_client().get("/").status_code == 404
        try:
            policy.collect_reports(app)
        except ImportError as error:
            print("IMPORT", error)
        result = CliRunner().invoke(
            FlaskGroup(create_app=lambda: app), ["headers", "reports"]
        )
        print("CLI", result.exit_code, result.output.strip())
        assert "sqlalchemy" not in sys.modules
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert (
        "IMPORT collecting reports needs sqlalchemy:"
        " pip install 'flask-header-policy[reports]'" in done.stdout
    )
    assert "CLI 1 Error: reports need sqlalchemy" in done.stdout


def test_a_failing_client_key_falls_back_to_the_address(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: t.Any) -> str:
        raise KeyError("X-Client")

    _, collector = build(app, rate=1, burst=1, client_key=broken)
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        codes = [post(client, legacy()).status_code for _ in range(2)]
    assert codes == [204, 429]
    assert (
        len([r for r in caplog.records if "client_key failed" in r.getMessage()]) == 1
    )
