"""The collector: the endpoint browsers POST reports to, and its wiring.

This module imports no SQLAlchemy (the store is imported when a collector
is installed), so that the extension can import it.

``policy.collect_reports(app)`` (:meth:`HeaderPolicy.collect_reports
<flask_header_policy.HeaderPolicy.collect_reports>`) makes a
:class:`ReportCollector` and installs it: a POST route, the ``report-uri`` /
``report-to`` / ``Reporting-Endpoints`` wiring of every CSP, the store and its
background writer, and, only when asked for with an authorization callable,
the dashboard.

A report goes through, in order: the per-client token bucket (429), the
media type (415), the 64 KiB bound (413), the JSON and shape checks (400:
nothing of the body is kept), then each report: noise (counted, not kept),
sampling, the budget of new fingerprints, and the writer's queue. The answer
is 204 whatever happens after the checks, the database included.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import datetime
import ipaddress
import os
import random
import typing as t
import urllib.parse
import weakref

from flask import current_app
from flask import Flask
from flask import Request
from flask import request
from flask import Response
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import RequestRedirect

from .._config import config_bool
from ..reporting import ReportingEndpoints
from ..rules import Declared
from .collect import blocked_source
from .collect import browser_family
from .collect import document_url
from .collect import EXTENSION_SCHEMES
from .collect import MAX_BODY
from .collect import RawReport
from .collect import read_reports
from .collect import Report
from .collect import ReportError
from .collect import scheme_of
from .limits import Counters
from .limits import FingerprintBudget
from .limits import TokenBuckets
from .wiring import CSP_HEADERS
from .wiring import policy_key
from .wiring import policy_keys
from .wiring import PolicyKey
from .wiring import wire

if t.TYPE_CHECKING:
    from ..extension import HeaderPolicy
    from .store import ReportStore

__all__ = ["CollectorOptions", "ReportCollector", "receive_reports"]

EXTENSION_KEY = "header_policy_reports"
ENDPOINT = "header_policy_reports"
_SECURE_SCHEMES = frozenset({"https", "wss"})
_MAX_AGE = 86_400.0

#: The header whose policy a report of each type (and disposition) is about.
_HEADERS = {
    "csp-violation": "Content-Security-Policy",
    "coep": "Cross-Origin-Embedder-Policy",
    "coop": "Cross-Origin-Opener-Policy",
    "permissions-policy-violation": "Permissions-Policy",
    "integrity-violation": "Integrity-Policy",
}


class CollectorOptions(t.TypedDict, total=False):
    """The keyword arguments of ``HeaderPolicy.collect_reports``; each
    overrides its config key (``url`` the key ``HEADER_POLICY_REPORTS_URL``,
    and so on)."""

    url: str
    group: str
    database: str | None
    engine_options: cabc.Mapping[str, t.Any]
    wire: bool
    rate: float | None
    burst: int
    max_clients: int
    sample: float
    max_new_fingerprints: int
    queue_size: int
    hosts: cabc.Iterable[str] | None
    dashboard: cabc.Callable[[], t.Any] | None
    dashboard_url: str | None
    enforce_days: float
    enforce_reports: int
    client_key: cabc.Callable[[Request], str]


#: Each config key and its default; the option of the same name in lower
#: case, without the prefix, overrides it. Every key is documented in
#: docs/configuration.rst (a test checks it).
DEFAULTS: dict[str, t.Any] = {
    "HEADER_POLICY_REPORTS_URL": "/__csp-reports",
    "HEADER_POLICY_REPORTS_GROUP": "header-policy",
    "HEADER_POLICY_REPORTS_DATABASE": None,
    "HEADER_POLICY_REPORTS_ENGINE_OPTIONS": {},
    "HEADER_POLICY_REPORTS_WIRE": True,
    "HEADER_POLICY_REPORTS_RATE": 5.0,
    "HEADER_POLICY_REPORTS_BURST": 100,
    "HEADER_POLICY_REPORTS_MAX_CLIENTS": 10_000,
    "HEADER_POLICY_REPORTS_SAMPLE": 1.0,
    "HEADER_POLICY_REPORTS_MAX_NEW_FINGERPRINTS": 1000,
    "HEADER_POLICY_REPORTS_QUEUE_SIZE": 10_000,
    "HEADER_POLICY_REPORTS_HOSTS": None,
    "HEADER_POLICY_REPORTS_DASHBOARD": None,
    "HEADER_POLICY_REPORTS_DASHBOARD_URL": None,
    "HEADER_POLICY_REPORTS_ENFORCE_DAYS": 14,
    "HEADER_POLICY_REPORTS_ENFORCE_REPORTS": 100,
}


def _option(key: str) -> str:
    # "HEADER_POLICY_REPORTS_MAX_CLIENTS" -> "max_clients"
    return key.split("_", 3)[3].lower()


SQLITE_FILE = "header-policy-reports.sqlite3"


def _remote_addr(request: Request) -> str:
    """The client for the rate limit: its address, an IPv6 one by its /64
    (a host is given a whole /64, and would otherwise have 2**64 buckets),
    an IPv4-mapped one by its IPv4 address."""
    address = request.remote_addr or "-"
    if ":" not in address:
        return address
    try:
        ip = ipaddress.IPv6Address(address.strip("[]").partition("%")[0])
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


@dataclasses.dataclass(frozen=True)
class _Options:
    url: str
    group: str
    database: str
    engine_options: dict[str, t.Any]
    wire: bool
    rate: float | None
    burst: int
    max_clients: int
    sample: float
    max_new_fingerprints: int
    queue_size: int
    hosts: frozenset[str] | None
    dashboard: cabc.Callable[[], t.Any] | None
    dashboard_url: str
    enforce_days: float
    enforce_reports: int
    client_key: cabc.Callable[[Request], str]


def _resolve(app: Flask, given: CollectorOptions) -> _Options:
    for key, default in DEFAULTS.items():
        app.config.setdefault(key, default)
    config = app.config
    values: dict[str, t.Any] = {
        _option(key): given.get(_option(key), config[key]) for key in DEFAULTS
    }
    values["wire"] = config_bool("HEADER_POLICY_REPORTS_WIRE", values["wire"])
    url = values["url"]
    group = values["group"]
    if not isinstance(url, str) or not url.startswith("/") or url.startswith("//"):
        raise ValueError(
            "HEADER_POLICY_REPORTS_URL must be a path such as"
            f" '/__csp-reports', not {url!r}"
        )
    # Both must be valid in Reporting-Endpoints and in a CSP: the builder says why not.
    try:
        ReportingEndpoints({group: url})
    except ValueError as error:
        raise ValueError(f"HEADER_POLICY_REPORTS_GROUP={group!r}: {error}") from None
    database = values["database"] or "sqlite:///" + _instance_file(app)
    rate = values["rate"]
    if rate is not None and (not isinstance(rate, int | float) or rate <= 0):
        raise ValueError(
            f"HEADER_POLICY_REPORTS_RATE must be > 0 or None, not {rate!r}"
        )
    sample = values["sample"]
    if not isinstance(sample, int | float) or not 0 <= sample <= 1:
        raise ValueError(
            f"HEADER_POLICY_REPORTS_SAMPLE must be between 0 and 1, not {sample!r}"
        )
    dashboard = values["dashboard"]
    if dashboard is not None and not callable(dashboard):
        raise TypeError(
            "HEADER_POLICY_REPORTS_DASHBOARD must be a callable that says whether"
            " the current request may see the dashboard (e.g. lambda:"
            f" current_user.is_admin), not {type(dashboard).__name__}"
        )
    hosts = values["hosts"]
    if hosts is not None:
        if isinstance(hosts, str) or not isinstance(hosts, cabc.Iterable):
            raise TypeError(
                "HEADER_POLICY_REPORTS_HOSTS takes a list of host names"
                f" (['example.org']), not {type(hosts).__name__}; from the"
                " environment, as JSON: '[\"example.org\"]'"
            )
        hosts = list(hosts)
        if not all(isinstance(host, str) for host in hosts):
            raise TypeError("HEADER_POLICY_REPORTS_HOSTS takes host names (str)")
    return _Options(
        url=url,
        group=group,
        database=database,
        engine_options=dict(values["engine_options"]),
        wire=bool(values["wire"]),
        rate=None if rate is None else float(rate),
        burst=_whole("burst", values["burst"], 1),
        max_clients=_whole("max_clients", values["max_clients"], 1),
        sample=float(sample),
        max_new_fingerprints=_whole(
            "max_new_fingerprints", values["max_new_fingerprints"], 1
        ),
        queue_size=_whole("queue_size", values["queue_size"], 1),
        hosts=None if hosts is None else frozenset(h.lower() for h in hosts),
        dashboard=dashboard,
        dashboard_url=values["dashboard_url"] or url.rstrip("/") + "/dashboard",
        enforce_days=_days(values["enforce_days"]),
        enforce_reports=_whole("enforce_reports", values["enforce_reports"], 0),
        client_key=given.get("client_key", _remote_addr),
    )


def _key(option: str) -> str:
    """The config key of a ``collect_reports`` option."""
    return next(key for key in DEFAULTS if _option(key) == option)


def _whole(option: str, value: t.Any, least: int) -> int:
    """An int option (from the environment, a JSON number), checked."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(
            f"{_key(option)} must be a whole number of at least {least}, not {value!r}"
        )
    return value


def _days(value: t.Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value < float("inf")
    ):
        raise ValueError(
            f"HEADER_POLICY_REPORTS_ENFORCE_DAYS must be a number of days (0 or"
            f" more), not {value!r}"
        )
    return float(value)


def _instance_file(app: Flask) -> str:
    return os.path.join(app.instance_path, SQLITE_FILE)


def receive_reports() -> Response:
    """The report endpoint's view: answers 204, or 4xx for what it refuses.

    Exempt it from CSRF protection (browsers send no token)::

        csrf.exempt(collector.view)     # Flask-WTF's CSRFProtect
    """
    app = t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    return collector_of(app).receive(request._get_current_object())  # type: ignore[attr-defined]


class ReportCollector:
    """Collects the violation reports browsers send, for one
    :class:`~flask_header_policy.HeaderPolicy` and the apps it is installed on.

    Made by :meth:`HeaderPolicy.collect_reports`; each app's state lives in
    ``app.extensions["header_policy_reports"]``.
    """

    #: The view function of the report endpoint, for ``csrf.exempt(...)``.
    view = staticmethod(receive_reports)

    def __init__(
        self, policy: HeaderPolicy, **options: t.Unpack[CollectorOptions]
    ) -> None:
        self.policy = policy
        self.options = options

    def init_app(self, app: Flask) -> None:
        """Install the collector on ``app`` (the policy must be installed)."""
        state = app.extensions.get("header_policy")
        if state is None or state.policy is not self.policy:
            raise RuntimeError(
                "install the HeaderPolicy on this app before collecting reports:"
                " HeaderPolicy(app) or policy.init_app(app)"
            )
        options = _resolve(app, self.options)
        collector = _AppCollector(app, self.policy, options)
        app.extensions[EXTENSION_KEY] = collector
        app.add_url_rule(
            options.url, endpoint=ENDPOINT, view_func=receive_reports, methods=["POST"]
        )
        if options.wire:
            url = _public_path(app, options.url)
            group = options.group

            def amend(endpoint: str | None, merged: dict[str, Declared]) -> None:
                wire(merged, url=url, group=group)

            state.amenders.append(amend)
            state.restack()
        if options.dashboard is not None:
            from .dashboard import install_dashboard

            install_dashboard(app, self.policy, options.dashboard_url)

    def _collector(self, app: Flask | None) -> _AppCollector:
        if app is None:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
        return collector_of(t.cast(Flask, app))

    def flush(self, app: Flask | None = None, timeout: float = 10.0) -> bool:
        """Wait until every report accepted so far is in the database.

        :param app: the app (default: the current app).
        :return: ``False`` if ``timeout`` seconds were not enough.
        """
        return self._collector(app).writer.flush(timeout)

    def store(self, app: Flask | None = None) -> ReportStore:
        """The app's :class:`~.store.ReportStore`."""
        return self._collector(app).store

    def counters(self, app: Flask | None = None) -> dict[str, int]:
        """This process's counters since it started (received, accepted,
        dropped by reason); the database holds every process's."""
        return self._collector(app).counters.totals()


def collector_of(app: Flask) -> _AppCollector:
    """The collector installed on ``app``.

    :raise LookupError: none is installed.
    """
    try:
        return t.cast(_AppCollector, app.extensions[EXTENSION_KEY])
    except KeyError:
        raise LookupError(
            "This app collects no reports: call policy.collect_reports(app)"
        ) from None


def _public_path(app: Flask, url: str) -> str:
    # Headers are built once, not per request: the app's root comes from
    # APPLICATION_ROOT (set it when the app is mounted under a prefix).
    root = (app.config.get("APPLICATION_ROOT") or "/").rstrip("/")
    return root + url


class _Declarations(t.NamedTuple):
    entries: tuple[Declared, ...]
    by_key: dict[str, Declared]
    policies: dict[str, set[PolicyKey] | None]


class _AppCollector:
    """What one app's collector keeps: options, store, writer, limits."""

    def __init__(self, app: Flask, policy: HeaderPolicy, options: _Options) -> None:
        # SQLAlchemy is imported here, when a collector is installed: the
        # extension imports this module, and must work without it.
        from .store import ReportStore
        from .writer import Writer

        self.app = t.cast("cabc.Callable[[], Flask]", weakref.ref(app))
        self.policy = policy
        self.options = options
        self.counters = Counters()
        self.store = ReportStore(options.database, options.engine_options)
        self.writer = Writer(
            self.store, self.counters, queue_size=options.queue_size, logger=app.logger
        )
        self.buckets = (
            None
            if options.rate is None
            else TokenBuckets(options.rate, options.burst, options.max_clients)
        )
        self.budget = FingerprintBudget(options.max_new_fingerprints)
        self.random = random.Random()
        self._declarations: dict[str | None, _Declarations] = {}
        self._logged: set[str] = set()

    # The endpoint.

    def receive(self, request: Request) -> Response:
        try:
            client = str(self.options.client_key(request))
        except Exception as error:  # the app's function: never a 500 for it
            self._log_once("client_key", error)
            client = _remote_addr(request)
        if self.buckets is not None and not self.buckets.take(client):
            self.counters.add("rate-limited")
            return _answer(
                "too many reports from this client", 429, self.buckets.retry_after()
            )
        try:
            body = _read_body(request)
            raws = read_reports(
                body, request.mimetype, request.headers.get("User-Agent", "")
            )
        except ReportError as error:
            self.counters.add(_REFUSED[error.status])
            return _answer(error.reason, error.status)
        if len(raws) > 1 and self.buckets is not None:
            granted = 1 + self.buckets.take(client, len(raws) - 1)
            self.counters.add("rate-limited", len(raws) - granted)
            raws = raws[:granted]
        now = datetime.datetime.now(datetime.UTC)
        host = _hostname(request.host)
        accepted: list[Report] = []
        for raw in raws:
            self.counters.add(f"received:{raw.format}")
            try:
                report = self._admit(raw, now, host, request.script_root)
            except Exception as error:  # never a 500 for one odd report
                self.counters.add("error")
                self._log_once("admit", error)
                continue
            if report is not None:
                accepted.append(report)
        self.counters.add("accepted", self.writer.submit(accepted))
        return Response(status=204)

    def _admit(
        self, raw: RawReport, now: datetime.datetime, host: str, script_root: str
    ) -> Report | None:
        """The report to store, or ``None`` when it is dropped (counted)."""
        reason = self._noise(raw, host)
        if reason is not None:
            self.counters.add(f"noise:{reason}")
            return None
        document = t.cast(str, document_url(raw.document_url))
        endpoint, rule = self.route(raw.document_url, script_root)
        header_name = _HEADERS.get(raw.type)
        if header_name is not None and raw.disposition == "report":
            header_name += "-Report-Only"
        declared: Declared | None = None
        if header_name is not None:
            declarations = self.declarations(endpoint)
            declared = declarations.by_key.get(header_name.lower())
            if raw.type == "csp-violation" and raw.original_policy is not None:
                known = declarations.policies.get(header_name.lower(), set())
                if known is not None and policy_key(raw.original_policy) not in known:
                    self.counters.add("noise:foreign-policy")
                    return None
        if self.options.sample < 1 and self.random.random() >= self.options.sample:
            self.counters.add("sampled-out")
            return None
        report = Report(
            type=raw.type,
            time=now - datetime.timedelta(seconds=min(raw.age, _MAX_AGE)),
            document_url=document,
            endpoint=endpoint,
            rule=rule,
            layer=None if declared is None else declared.source,
            header=None if declared is None else declared.name,
            directive=raw.directive,
            blocked=blocked_source(raw.blocked_url),
            blocked_url=raw.blocked_url,
            source_file=raw.source_file,
            sample=raw.sample,
            disposition=raw.disposition,
            browser=browser_family(raw.user_agent),
        )
        if not self.budget.admit(report.fingerprint):
            self.counters.add("fingerprint-flood")
            return None
        return report

    def _noise(self, raw: RawReport, host: str) -> str | None:
        urls = (raw.blocked_url, raw.source_file, raw.document_url)
        if any(scheme_of(url) in EXTENSION_SCHEMES for url in urls):
            return "extension"
        document = document_url(raw.document_url)
        if document is None:
            return "document"  # about:blank, about:srcdoc, data:, blob:, none
        allowed = self.options.hosts or {host}
        if _hostname(urllib.parse.urlsplit(document).netloc) not in allowed:
            return "foreign-origin"
        return None

    # Facts about the app, computed once per endpoint.

    def route(self, url: str, script_root: str = "") -> tuple[str | None, str | None]:
        """The endpoint and URL rule a document URL maps to (``None, None``
        when it matches no route)."""
        app = self.app()
        try:
            parts = urllib.parse.urlsplit(url)
            path = urllib.parse.unquote(parts.path or "/")
            if script_root and path.startswith(script_root):
                path = path[len(script_root) :] or "/"
            adapter = app.url_map.bind(
                app.config.get("SERVER_NAME") or parts.netloc or "localhost",
                url_scheme=parts.scheme or "http",
            )
            for _ in range(2):  # one strict-slashes redirect at most
                try:
                    rule, _args = adapter.match(path, method="GET", return_rule=True)
                    return rule.endpoint, rule.rule
                except RequestRedirect as redirect:
                    path = urllib.parse.unquote(
                        urllib.parse.urlsplit(redirect.new_url).path
                    )
        except (HTTPException, ValueError):
            pass
        return None, None

    def declarations(self, endpoint: str | None) -> _Declarations:
        """The effective declarations of ``endpoint`` and the policy keys of
        its CSPs, recomputed when the policy's declarations change."""
        app = self.app()
        try:
            entries = self.policy.effective(app, endpoint)
        except Exception as error:  # an inconsistent policy: nothing to compare
            self._log_once(f"declarations:{endpoint}", error)
            return _Declarations((), {}, dict.fromkeys(CSP_HEADERS))
        cached = self._declarations.get(endpoint)
        if cached is not None and cached.entries is entries:
            return cached
        by_key = {d.key: d for d in entries}
        policies: dict[str, set[PolicyKey] | None] = {
            key: policy_keys(by_key[key]) for key in CSP_HEADERS if key in by_key
        }
        fresh = _Declarations(entries, by_key, policies)
        self._declarations[endpoint] = fresh
        return fresh

    def _log_once(self, what: str, error: Exception) -> None:
        if what in self._logged:
            return
        self._logged.add(what)
        self.app().logger.error(
            "Header policy reports: %s failed (logged once): %r", what, error
        )


_REFUSED = {400: "invalid", 413: "too-large", 415: "unsupported-type"}


def _answer(reason: str, status: int, retry_after: int | None = None) -> Response:
    response = Response(reason + "\n", status=status, mimetype="text/plain")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _hostname(netloc: str) -> str:
    try:
        return (urllib.parse.urlsplit("//" + netloc).hostname or "").lower()
    except ValueError:
        return ""


def _read_body(request: Request) -> bytes:
    """At most :data:`MAX_BODY` + 1 bytes of the body, whatever
    ``Content-Length`` says (a chunked body has none)."""
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise ReportError(413, f"report body over {MAX_BODY // 1024} KiB")
    chunks: list[bytes] = []
    size = 0
    try:
        stream = request.stream
        while size <= MAX_BODY:
            chunk = stream.read(MAX_BODY + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:  # the app's MAX_CONTENT_LENGTH is smaller
        raise ReportError(413, "report body too large") from None
    except (OSError, HTTPException):  # the client went away mid-body
        raise ReportError(400, "the body could not be read") from None
    if size > MAX_BODY:
        raise ReportError(413, f"report body over {MAX_BODY // 1024} KiB")
    return b"".join(chunks)
