"""From stored reports to the smallest change of the declarations.

For each layer that declared a violated policy (the app, a blueprint, a
view, a preset) and each of its headers, :func:`suggest` says what to add,
as a Python snippet on the value declared there
(``csp.with_sources("img-src", "https://www.gravatar.com")``) and as the
header text it would send. It never suggests ``'unsafe-inline'``,
``'unsafe-eval'``, ``*`` or a bare scheme (``https:``, ``data:``): inline code
gets nonces (stamped into templates) or, when the report's sample is the
whole script, its hash; ``eval`` gets advice, not a keyword.

A report that the current declarations already allow (the change was made
after it was sent) is not suggested again. A report-only policy is ready to
enforce when it has collected enough reports, none of them of a new kind for
some days, and every kind still reported is allowed now.

The host matching here follows CSP3 (scheme upgrade, wildcard hosts, default
ports) closely enough to tell whether a source allows an origin; paths in
sources are not compared.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import datetime
import inspect
import json
import re
import typing as t
import urllib.parse

from .._text import counted
from ..csp import ContentSecurityPolicy
from ..csp import hash_source
from ..csp import parse_policy_list
from ..errors import InvalidHeaderError
from ..rules import Declared

if t.TYPE_CHECKING:
    from flask import Flask

__all__ = ["Advice", "Change", "Readiness", "Suggestion", "suggest", "to_data"]

#: CSP3's fallback lists (the directive in force is the first one declared).
_FALLBACKS = {
    "script-src-elem": ("script-src-elem", "script-src", "default-src"),
    "script-src-attr": ("script-src-attr", "script-src", "default-src"),
    "style-src-elem": ("style-src-elem", "style-src", "default-src"),
    "style-src-attr": ("style-src-attr", "style-src", "default-src"),
    "worker-src": ("worker-src", "child-src", "script-src", "default-src"),
    "frame-src": ("frame-src", "child-src", "default-src"),
    **{
        name: (name, "default-src")
        for name in (
            "script-src",
            "style-src",
            "child-src",
            "connect-src",
            "font-src",
            "img-src",
            "manifest-src",
            "media-src",
            "object-src",
        )
    },  # fmt: skip
}
#: The directive to create when only default-src covers a report.
_CREATE = {"script-src-elem": "script-src", "style-src-elem": "style-src"}
_SCRIPT = frozenset({"script-src", "script-src-elem", "script-src-attr", "worker-src"})
_NEVER = frozenset({"'unsafe-inline'", "'unsafe-eval'", "*"})
_SCHEME_ONLY_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_HOST_SOURCE_RE = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?(?P<host>\*|(?:\*\.)?[^:/]+)"
    r"(?::(?P<port>[0-9]+|\*))?(?:/.*)?"
)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_OWN_ENDPOINTS = "header_policy_reports"
#: Browsers cut samples at 40 characters: a shorter one is the whole text.
SAMPLE_CUT = 40


@dataclasses.dataclass
class Change:
    """Add ``sources`` to ``directive`` (created when missing, with
    ``base`` first: the default-src sources it then stops inheriting;
    ``replace`` when it holds only ``'none'``, which takes no company)."""

    directive: str
    sources: list[str]
    base: list[str]
    blocked: list[str]
    reports: int = 0
    browsers: set[str] = dataclasses.field(default_factory=set)
    replace: bool = False

    def python(self) -> str:
        method = "with_directive" if self.replace else "with_sources"
        arguments = ", ".join(
            _py(s) for s in [self.directive, *self.base, *self.sources]
        )
        return f".{method}({arguments})"


@dataclasses.dataclass
class Advice:
    """What to do when no source should be added (inline code, eval…)."""

    directive: str
    blocked: str
    text: str
    python: str | None = None
    reports: int = 0


@dataclasses.dataclass
class Readiness:
    """Whether a report-only policy can become the enforced one."""

    ready: bool
    reason: str
    reports: int
    last_new: datetime.datetime | None


@dataclasses.dataclass
class Suggestion:
    """The changes for one header declared by one layer.

    :param layer: the layer as ``flask headers show`` names it
        (``app``, ``blueprint:admin``, ``view``, ``preset:strict``).
    :param where: where that value is declared, as Python.
    :param current: the value declared now (nonce shown as ``{nonce}``).
    :param python: the change as Python, on the declared value ``csp``.
    :param header: the header text after the change.
    """

    layer: str
    header: str
    declared_by: str
    where: str
    endpoints: list[str]
    current: str
    changes: list[Change] = dataclasses.field(default_factory=list)
    advice: list[Advice] = dataclasses.field(default_factory=list)
    python: str | None = None
    new_header: str | None = None
    readiness: Readiness | None = None


def _py(text: str) -> str:
    # Sources are printable ASCII (validated): JSON quoting is Python quoting.
    return json.dumps(text)


def _origin_parts(origin: str) -> tuple[str, str, int] | None:
    try:
        parts = urllib.parse.urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not parts.hostname or scheme not in _DEFAULT_PORTS:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def _scheme_allows(source_scheme: str, scheme: str) -> bool:
    # CSP3 "scheme-part matching": http allows https, ws allows wss too.
    return source_scheme == scheme or (source_scheme, scheme) in {
        ("http", "https"), ("ws", "wss"), ("http", "wss"), ("https", "wss"),
    }  # fmt: skip


def allows(
    sources: cabc.Sequence[str], origin: str, document_origin: str | None
) -> bool:
    """Whether ``sources`` (one directive) allow a URL of ``origin``, loaded
    by a document of ``document_origin``."""
    blocked = _origin_parts(origin)
    if blocked is None:
        return False
    scheme, host, port = blocked
    page = _origin_parts(document_origin) if document_origin else None
    for source in sources:
        lowered = source.lower()
        if lowered == "*":
            return True
        if lowered == "'self'":
            if (
                page is not None
                and page[1:] == (host, port)
                and (_scheme_allows(page[0], scheme))
            ):
                return True
            continue
        if lowered.startswith("'"):
            continue
        if _SCHEME_ONLY_RE.fullmatch(lowered):
            if _scheme_allows(lowered[:-1], scheme):
                return True
            continue
        match = _HOST_SOURCE_RE.fullmatch(lowered)
        if match is None:
            continue
        source_scheme = match["scheme"] or (page[0] if page else "https")
        if not _scheme_allows(source_scheme, scheme):
            continue
        source_host = match["host"]
        if source_host.startswith("*."):
            if not host.endswith(source_host[1:]):
                continue
        elif source_host != "*" and source_host != host:
            continue
        source_port = match["port"]
        if source_port == "*":
            return True
        wanted = int(source_port) if source_port else _DEFAULT_PORTS.get(source_scheme)
        if port == wanted or (
            source_port is None
            and (source_scheme, scheme) == ("http", "https")
            and port == 443
        ):
            return True
    return False


def _text(declared: Declared) -> str:
    if declared.template is not None:
        return "{nonce}".join(declared.template)
    return declared.static or ""


def _in_force(policy: dict[str, list[str]], directive: str) -> str | None:
    for name in _FALLBACKS.get(directive, (directive,)):
        if name in policy:
            return name
    return None


def _valid_source(directive: str, source: str) -> bool:
    # No wildcard at all: a report can name "https://*.example", a browser
    # never loads it, and allowing it would open every subdomain.
    if "*" in source or source in _NEVER or _SCHEME_ONLY_RE.fullmatch(source):
        return False
    try:
        ContentSecurityPolicy({directive: [source]})
    except InvalidHeaderError:
        return False
    return True


def _nonce_advice() -> str:
    """How to give a script a nonce, in this version."""
    from ..extension import HeaderPolicy

    tag = 'add nonce="{{ csp_nonce() }}" to it'
    if "stamp_nonces" in inspect.signature(HeaderPolicy.__init__).parameters:
        return (
            "stamp nonces into templates (HeaderPolicy(..., stamp_nonces=True))"
            f" or {tag}"
        )
    return tag


def _inline_advice(
    directive: str, sample: str, policy: dict[str, list[str]]
) -> tuple[str, str | None]:
    attribute = directive.endswith("-attr")
    kind = "style" if directive.startswith("style") else "script"
    whole = bool(sample) and len(sample) < SAMPLE_CUT
    hashed = hash_source(sample) if whole else None
    target = _in_force(policy, directive) or _CREATE.get(directive, directive)
    if target == "default-src":
        target = f"{kind}-src"
    if attribute:
        what = "an inline event handler" if kind == "script" else "a style attribute"
        text = (
            f"{what} was blocked: move it into a {kind} with a nonce"
            f" (addEventListener / a class) instead of allowing attributes"
        )
        if hashed is None:
            return text, None
        return (
            text + "; or allow exactly this one by its hash",
            f"csp.with_sources({_py(target)}, \"'unsafe-hashes'\", {_py(hashed)})",
        )
    text = f"an inline <{kind}> without a nonce was blocked: {_nonce_advice()}"
    if hashed is None:
        return text, None
    return (
        text + "; or allow exactly this one by its hash",
        f"csp.with_sources({_py(target)}, {_py(hashed)})",
    )


def _document_origin(row: cabc.Mapping[str, t.Any]) -> str | None:
    parts = _origin_parts(str(row.get("document_url") or ""))
    if parts is None:
        return None
    scheme, host, port = parts
    shown = f"[{host}]" if ":" in host else host
    if port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{shown}"
    return f"{scheme}://{shown}:{port}"


def _where(layer: str, declared: Declared, header: str, endpoints: list[str]) -> str:
    key = _py(header)
    wrapped = (
        "csp"
        if declared.mimetypes is None
        else (f"only_for({_py(sorted(declared.mimetypes)[0])}, csp)")
    )
    if layer.startswith("blueprint:"):
        name = layer.partition(":")[2]
        return f"policy.add_blueprint_headers({_py(name)}, {{{key}: {wrapped}}})"
    if layer == "view":
        return f"@policy.headers({{{key}: {wrapped}}}) on view {', '.join(endpoints)}"
    if layer.startswith("preset:"):
        name = layer.partition(":")[2]
        return (
            f"the preset {_py(name)} declares it: override it in the app layer,"
            f" HeaderPolicy(app, preset={_py(name)}, headers={{{key}: {wrapped}}})"
        )
    if "HEADER_POLICY_HEADERS" in declared.layer:
        return f'app.config["HEADER_POLICY_HEADERS"] = {{{key}: {wrapped}}}'
    return f"HeaderPolicy(app, headers={{{key}: {wrapped}}})"


def _classify(
    suggestion: Suggestion,
    policy: dict[str, list[str]],
    row: cabc.Mapping[str, t.Any],
) -> bool:
    """Add what ``row`` needs to ``suggestion``; ``False`` when the current
    declaration already allows it."""
    directive = str(row["directive"])
    blocked = str(row["blocked"])
    count = int(row["count"])
    browser = str(row["browser"])

    def advise(text: str, python: str | None = None) -> bool:
        for advice in suggestion.advice:
            if (advice.directive, advice.blocked, advice.text) == (
                directive,
                blocked,
                text,
            ):
                advice.reports += count
                return True
        suggestion.advice.append(Advice(directive, blocked, text, python, count))
        return True

    if blocked == "inline":
        if not directive.startswith(("script-src", "style-src")):
            return advise(f"inline content reported for {directive}: nothing to allow")
        return advise(*_inline_advice(directive, str(row.get("sample") or ""), policy))
    if blocked == "eval":
        return advise(
            "eval() or new Function() was blocked: change the code that calls it"
            " (never allow 'unsafe-eval'); with Trusted Types, 'trusted-types-eval'"
        )
    if blocked.startswith("trusted-types"):
        return advise("a Trusted Types check failed: create the value through a policy")
    in_force = _in_force(policy, directive)
    if blocked == "wasm-eval":
        source, origin = "'wasm-unsafe-eval'", None
    elif "://" in blocked:
        document = _document_origin(row)
        source = "'self'" if blocked == document else blocked
        origin = blocked
        if in_force is not None and allows(policy[in_force], origin, document):
            if not (directive in _SCRIPT and "'strict-dynamic'" in policy[in_force]):
                return False  # allowed now: the report predates the change
    else:
        return advise(
            f"{blocked!s}: URLs were blocked: never allow a bare scheme; serve"
            " the resource from a URL of your own origin"
        )
    if (
        in_force is not None
        and directive in _SCRIPT
        and ("'strict-dynamic'" in policy[in_force])
        and source != "'wasm-unsafe-eval'"
    ):
        return advise(
            f"'strict-dynamic' ignores host sources: the <script> that loads"
            f" {blocked} needs a nonce: {_nonce_advice()}"
        )
    if in_force is None or in_force == "default-src":
        target = _CREATE.get(directive, directive)
        base = [
            s for s in policy.get("default-src", [])
            if s != "'none'" and not s.startswith(("'nonce-", "'sha")) and (
                s not in ("'strict-dynamic'", "'report-sample'")
            )
        ]  # fmt: skip
    else:
        target, base = in_force, []
    replace = policy.get(target) == ["'none'"]
    if not _valid_source(target, source):
        return advise(
            f"{blocked} cannot be written as a CSP source: check who loads it"
        )
    for change in suggestion.changes:
        if change.directive == target:
            if source not in change.sources:
                change.sources.append(source)
            if origin is not None and origin not in change.blocked:
                change.blocked.append(origin)
            break
    else:
        change = Change(target, [source], base, [origin] if origin else [])
        change.replace = replace
        suggestion.changes.append(change)
    change.reports += count
    change.browsers.add(browser)
    return True


def _apply(policy: dict[str, list[str]], changes: list[Change]) -> dict[str, list[str]]:
    result = {name: list(sources) for name, sources in policy.items()}
    for change in changes:
        current = result.setdefault(change.directive, list(change.base))
        if change.replace:
            current.clear()
        for source in change.sources:
            if source not in current:
                current.append(source)
    return result


def _render(policy: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in policy.items())


def _other_advice(row: cabc.Mapping[str, t.Any]) -> str:
    kind, directive, blocked = row["type"], row["directive"], row["blocked"]
    if kind == "coep":
        return (
            f"{blocked} was blocked by Cross-Origin-Embedder-Policy ({directive}):"
            " serve it with Cross-Origin-Resource-Policy: cross-origin, or load"
            " it with CORS (crossorigin attribute)"
        )
    if kind == "coop":
        return (
            f"Cross-Origin-Opener-Policy ({directive}) cut a link to another"
            f" window ({blocked}): check that the page does not need it"
        )
    if kind == "permissions-policy-violation":
        return (
            f"the feature {directive!r} was used: if the page needs it, allow it"
            f' (PermissionsPolicy({{{_py(str(directive))}: ["self"]}})); otherwise'
            f" find the script that asks for it ({row.get('source_file') or '?'})"
        )
    if kind == "integrity-violation":
        return (
            f"a {directive or 'resource'} without integrity metadata ({blocked}):"
            " add an integrity attribute"
        )
    return f"{kind} reports: read them with flask headers reports --json"


def suggest(
    app: Flask,
    rows: cabc.Iterable[cabc.Mapping[str, t.Any]],
    *,
    now: datetime.datetime | None = None,
    quiet_days: float = 14,
    min_reports: int = 100,
) -> list[Suggestion]:
    """The suggestions for ``app`` from stored fingerprints.

    :param rows: fingerprints as :meth:`ReportStore.fingerprints` returns them.
    :param quiet_days: a report-only policy is ready to enforce after this
        many days without a new fingerprint…
    :param min_reports: …once it has collected at least this many reports.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    policy_ext = app.extensions["header_policy"].policy
    groups: dict[tuple[str, str], list[cabc.Mapping[str, t.Any]]] = {}
    for row in rows:
        if row.get("layer") and row.get("header"):
            groups.setdefault((row["layer"], row["header"]), []).append(row)
    # Every report-only CSP the app declares, reported on or not.
    declared: dict[tuple[str, str], tuple[Declared, list[str]]] = {}
    endpoints: list[str | None] = [r.endpoint for r in app.url_map.iter_rules()]
    for endpoint in [*dict.fromkeys(endpoints), None]:
        if endpoint is not None and endpoint.startswith(_OWN_ENDPOINTS):
            continue  # the collector's own routes are no page of the app
        for entry in policy_ext.effective(app, endpoint):
            key = (entry.source, entry.name)
            found = declared.setdefault(key, (entry, []))
            if endpoint is not None and endpoint not in found[1]:
                found[1].append(endpoint)
    results: list[Suggestion] = []
    for key in sorted(
        set(groups) | {k for k in declared if k[1].lower().endswith("-report-only")}
    ):
        layer, header = key
        if key not in declared:
            continue  # the declaration was removed or moved since
        entry, where_endpoints = declared[key]
        group_rows = groups.get(key, [])
        suggestion = Suggestion(
            layer=layer,
            header=header,
            declared_by=entry.layer,
            where=_where(layer, entry, header, where_endpoints),
            endpoints=where_endpoints,
            current=_text(entry) if entry.dynamic is None else entry.describe(),
        )
        is_csp = header.lower().startswith("content-security-policy")
        parsed = parse_policy_list(suggestion.current.replace("{nonce}", "x"))
        policy = {
            name: list(sources) for name, sources in (parsed[0] if parsed else [])
        }
        if is_csp and entry.template is not None:
            policy = {
                name: ["'nonce-{nonce}'" if s == "'nonce-x'" else s for s in sources]
                for name, sources in policy.items()
            }
        unresolved: list[cabc.Mapping[str, t.Any]] = []
        for row in group_rows:
            if not is_csp or row["type"] != "csp-violation":
                text = _other_advice(row)
                suggestion.advice.append(
                    Advice(
                        str(row["directive"]),
                        str(row["blocked"]),
                        text,
                        None,
                        int(row["count"]),
                    )
                )
                unresolved.append(row)
            elif entry.dynamic is None and _classify(suggestion, policy, row):
                unresolved.append(row)
        if suggestion.changes:
            for change in suggestion.changes:  # the same text whatever the order
                change.sources.sort()
                change.blocked.sort()
            suggestion.python = "csp" + "".join(c.python() for c in suggestion.changes)
            suggestion.new_header = _render(_apply(policy, suggestion.changes))
        if header.lower().endswith("-report-only"):
            suggestion.readiness = _readiness(
                group_rows, unresolved, now, quiet_days, min_reports
            )
        if suggestion.changes or suggestion.advice or suggestion.readiness:
            results.append(suggestion)
    return results


def _readiness(
    rows: list[cabc.Mapping[str, t.Any]],
    unresolved: list[cabc.Mapping[str, t.Any]],
    now: datetime.datetime,
    quiet_days: float,
    min_reports: int,
) -> Readiness:
    total = sum(int(row["count"]) for row in rows)
    if not rows:
        return Readiness(False, "no reports yet: nothing is known about it", 0, None)
    last_new = max(row["first_seen"] for row in rows)
    quiet = now - last_new
    window = datetime.timedelta(days=quiet_days)
    recent = [row for row in unresolved if now - row["last_seen"] < window]
    if total < min_reports:
        reason = f"only {counted(total, 'report')} so far (needs {min_reports})"
    elif quiet < window:
        reason = (
            f"a new kind of report {counted(quiet.days, 'day')} ago"
            f" (needs {quiet_days:g} quiet days)"
        )
    elif recent:
        reason = (
            f"{len(recent)} kinds of report seen in the last {quiet_days:g} days"
            " are not allowed yet: apply the changes above first"
        )
    else:
        return Readiness(
            True,
            f"ready to enforce: {counted(total, 'report')}, no new kind for"
            f" {counted(quiet.days, 'day')}, and everything still reported is"
            " allowed",
            total,
            last_new,
        )
    return Readiness(False, "not ready: " + reason, total, last_new)


def to_data(suggestions: cabc.Iterable[Suggestion]) -> list[dict[str, t.Any]]:
    """The JSON-ready form of ``suggestions``."""

    def plain(value: t.Any) -> t.Any:
        if isinstance(value, datetime.datetime):
            return value.isoformat()
        if isinstance(value, set):
            return sorted(value)
        return value

    return [
        json.loads(json.dumps(dataclasses.asdict(s), default=plain))
        for s in suggestions
    ]
