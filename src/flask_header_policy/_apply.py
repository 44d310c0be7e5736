"""Merge one endpoint's winning declarations into a WSGI header list (sans-IO).

Everything here is built once per endpoint. Per response, the common case is
one set of the response's header names, one ``isdisjoint`` test and one
``list.extend`` of prebuilt ``(name, value)`` tuples.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from ._grammar import check_grammar_cached
from ._validate import check_value
from .csp import parse_policy_list
from .errors import InvalidHeaderError
from .reporting import parse_reporting_endpoints
from .rules import CASE_INSENSITIVE_MEMBERS
from .rules import check_semantics
from .rules import Declared
from .rules import HeaderValue
from .rules import Mode
from .rules import split_members

HeaderList = list[tuple[str, str]]


class RequestState(t.Protocol):
    """What conditional and dynamic declarations may ask of the request."""

    request: t.Any

    def response(self) -> t.Any: ...

    def nonce(self) -> str: ...


OnError = cabc.Callable[[Declared, Exception], None]


class _Static:
    """Static declarations merged in one go: names, ready pairs, rules."""

    __slots__ = ("rules", "names", "items")

    def __init__(self, rules: cabc.Sequence[Declared]) -> None:
        self.rules = tuple(rules)
        self.names = frozenset(d.key for d in self.rules)
        self.items = tuple(
            (d.name, t.cast(str, d.static))
            for d in self.rules
            if d.mode is not Mode.REMOVE
        )


class CompiledPolicy:
    """The effective declarations of one endpoint, ready to apply.

    Static declarations that need nothing but the scheme (HSTS is sent on
    HTTPS only) are prebuilt twice, for plain and secure requests; the rest
    (mimetype-scoped, dynamic, nonce) are "conditional" and need a
    :class:`RequestState`.

    :param entries: the winning declaration for each header name, in the
        order they will be applied (lower layers first).
    """

    __slots__ = (
        "entries",
        "needs_state",
        "problems",
        "sends_nonce",
        "_plain",
        "_secure",
        "_conditional",
        "_conditional_plain",
    )

    def __init__(self, entries: cabc.Sequence[Declared]) -> None:
        self.entries = tuple(entries)
        # What plain-HTTP responses get: HTTPS-only values left out or
        # replaced by their plain variant (a CSP without upgrade-insecure-requests).
        plain = [d.plain or d for d in self.entries]
        plain = [d for d in plain if not d.cancel and not d.secure_only]
        static = [d for d in self.entries if _is_static(d)]
        self._plain = _Static([d for d in plain if _is_static(d)])
        self._secure = _Static(static)
        self._conditional = tuple(d for d in self.entries if not _is_static(d))
        self._conditional_plain = tuple(d for d in plain if not _is_static(d))
        #: Whether :meth:`apply` needs a :class:`RequestState`.
        self.needs_state = bool(self._conditional or self._conditional_plain)
        #: Inconsistencies between the winning declarations, found once.
        self.problems = reporting_problems(self.entries)
        #: Whether a CSP of this endpoint can carry the request's nonce (one
        #: with ``NONCE``, or a per-request one that may use it).
        self.sends_nonce = any(
            d.template is not None or (d.dynamic is not None and d.key in _CSP_HEADERS)
            for d in self.entries
            if d.key in _CSP_HEADERS
        )

    def apply(
        self,
        headers: HeaderList,
        is_secure: bool,
        state: RequestState | None = None,
        on_error: OnError | None = None,
    ) -> None:
        """Merge the declarations into ``headers`` in place."""
        group = self._secure if is_secure else self._plain
        conditional = self._conditional if is_secure else self._conditional_plain
        present = {name.lower() for name, _ in headers}
        if present.isdisjoint(group.names):
            headers.extend(group.items)
            if not conditional:
                return
            present.update(name.lower() for name, _ in group.items)
        else:
            for declared in group.rules:
                merge(headers, present, declared.name, declared.static, declared.mode)
        if state is None:
            return
        mimetypes: frozenset[str] | None = None
        for declared in conditional:
            if declared.secure_only and not is_secure:
                continue
            if declared.mimetypes is not None:
                if mimetypes is None:
                    mimetypes = _mimetypes(headers)
                if declared.mimetypes.isdisjoint(mimetypes):
                    if declared.otherwise is not None:
                        merge(
                            headers,
                            present,
                            declared.name,
                            declared.otherwise,
                            declared.mode,
                        )
                    continue
            try:
                value = _resolve(declared, state)
            except Exception as error:  # a user's callable may raise anything
                if on_error is None:
                    raise
                on_error(declared, error)
                continue
            if value is not None or declared.mode is Mode.REMOVE:
                merge(headers, present, declared.name, value, declared.mode)


_CSP_HEADERS = ("content-security-policy", "content-security-policy-report-only")


def _is_static(declared: Declared) -> bool:
    """Ready before the request: a fixed value (or removal) for every type."""
    return (
        declared.static is not None or declared.mode is Mode.REMOVE
    ) and declared.mimetypes is None


def reporting_problems(entries: cabc.Iterable[Declared]) -> list[InvalidHeaderError]:
    """CSP ``report-to`` names that no ``Reporting-Endpoints`` entry defines.

    Browsers drop reports for a name they have no endpoint for, so a policy
    that reports to ``csp`` must send ``Reporting-Endpoints: csp="…"`` too.
    Dynamic values are not known in advance and are not checked.
    """
    by_key = {d.key: d for d in entries}
    endpoints: set[str] = set()
    declared_endpoints = by_key.get("reporting-endpoints")
    if declared_endpoints is not None and declared_endpoints.static is not None:
        endpoints = set(parse_reporting_endpoints(declared_endpoints.static) or {})
    problems = []
    for key in _CSP_HEADERS:
        declared = by_key.get(key)
        if declared is None or declared.dynamic is not None:
            continue
        text = declared.static or "".join(declared.template or ())
        for policy in parse_policy_list(text):
            for name, sources in policy:
                missing = [
                    s for s in sources if name == "report-to" and s not in endpoints
                ]
                for group in missing:
                    problems.append(
                        InvalidHeaderError(
                            declared.name,
                            f"report-to {group!r} names no endpoint: declare"
                            f' Reporting-Endpoints with {group}="<url>" in the'
                            " same or a lower layer",
                            layer=declared.layer,
                        )
                    )
    return problems


def _resolve(declared: Declared, state: RequestState) -> str | None:
    if declared.static is not None or declared.mode is Mode.REMOVE:
        return declared.static
    if declared.template is not None:
        return state.nonce().join(declared.template)
    assert declared.dynamic is not None
    value = declared.dynamic(state.request, state.response())
    if value is None:
        return None
    checked = False  # a builder's value is valid by construction
    if isinstance(value, HeaderValue):
        checked = True
        if getattr(value, "uses_nonce", False):
            value = value.to_header(nonce=state.nonce())  # type: ignore[call-arg]
        else:
            value = value.to_header()
    if not isinstance(value, str):
        raise InvalidHeaderError(
            declared.name,
            f"the callable returned {type(value).__name__}, not a str, a typed"
            " builder or None",
            layer=declared.layer,
        )
    value = check_value(declared.name, value, layer=declared.layer)
    if not checked:
        check_grammar_cached(declared.name, value, layer=declared.layer)
    check_semantics(declared.name, value, declared.mode, declared.layer)
    return value


def _mimetypes(headers: HeaderList) -> frozenset[str]:
    """What ``only_for`` matches against: every Content-Type field's mimetype
    and its ``type/*`` wildcard.

    Every value counts, not just the first: a browser renders by the last
    (Fetch splits the fields, and each field, on commas), a proxy may keep
    the first, so a response with two must not escape a branch meant for
    either.
    """
    found: frozenset[str] = frozenset()
    for name, value in headers:
        # The length test spares a lower() for nearly every other header.
        if len(name) == 12 and name.lower() == "content-type":
            parsed = _PARSED.get(value)
            if parsed is None:
                parsed = _parse_content_type(value)
            found = parsed if not found else found | parsed
    return found


# An app sends few distinct Content-Type values: each is parsed once.
_PARSED: dict[str, frozenset[str]] = {}


def _parse_content_type(value: str) -> frozenset[str]:
    found: set[str] = set()
    for member in split_members(value) if "," in value else (value,):
        mimetype = member.partition(";")[0].strip().lower()
        found.add(mimetype)
        found.add(mimetype.partition("/")[0] + "/*")
    parsed = frozenset(found)
    if len(_PARSED) >= 256:
        _PARSED.clear()  # a bound, for apps that vary the value per response
    _PARSED[value] = parsed
    return parsed


def merge(
    headers: HeaderList, present: set[str], name: str, value: str | None, mode: Mode
) -> None:
    """Merge one header into a WSGI header list, keeping ``present`` in step."""
    key = name.lower()
    if mode is Mode.DEFAULT:
        if key not in present:
            headers.append((name, t.cast(str, value)))
            present.add(key)
        return
    if key in present:
        old = [v for n, v in headers if n.lower() == key]
        headers[:] = [(n, v) for n, v in headers if n.lower() != key]
        present.discard(key)
    else:
        old = []
    if mode is Mode.REMOVE:
        return
    assert value is not None
    if mode is Mode.APPEND and old:
        value = merge_members(old, value, name)
    headers.append((name, value))
    present.add(key)


def merge_members(old: cabc.Iterable[str], new: str, name: str = "") -> str:
    """Join comma-list values, dropping repeated members, keeping the first.

    Members are split as :func:`~.rules.split_members` does (not inside
    quotes or ``<...>``) and kept byte for byte. They compare
    case-insensitively only for the headers in
    :data:`~.rules.CASE_INSENSITIVE_MEMBERS` (``Vary``: field names), exactly
    for every other header (``Link`` URLs, ``Allow`` methods).
    """
    fold = name.lower() in CASE_INSENSITIVE_MEMBERS
    members: dict[str, str] = {}
    for value in (*old, new):
        for member in split_members(value):
            members.setdefault(member.lower() if fold else member, member)
    return ", ".join(members.values())
