"""Point every CSP of the app at the collector, and know the policies we send.

Sans-IO: these functions take and return :class:`~flask_header_policy.rules.Declared`
values and header lists; the collector calls them once per endpoint.

Each enforced and report-only CSP that names no ``report-uri`` or ``report-to``
of its own gets both, at the end of each of its policies, and the endpoint
gets a ``Reporting-Endpoints`` entry for the group (added to the app's own
``Reporting-Endpoints`` when it declares one). A CSP whose value is computed
per request is left alone.

Chromium sends no report at all for a policy with ``report-to`` on a page that
is not served over HTTPS (the Reporting API needs a secure context, and
``report-uri`` is then ignored, even on 127.0.0.1). So a wired CSP gets a
plain-HTTP variant (:attr:`~flask_header_policy.rules.Declared.plain`) with
``report-uri`` only, made once per endpoint like the rest of the policy:
plain-HTTP responses report through ``report-uri``.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import re

from ..csp import parse_policy_list
from ..reporting import parse_reporting_endpoints
from ..reporting import ReportingEndpoints
from ..rules import Declared
from ..rules import Mode

__all__ = [
    "CSP_HEADERS",
    "PolicyKey",
    "policy_key",
    "policy_keys",
    "wire",
]

CSP = "Content-Security-Policy"
CSP_REPORT_ONLY = "Content-Security-Policy-Report-Only"
CSP_HEADERS = {CSP.lower(): CSP, CSP_REPORT_ONLY.lower(): CSP_REPORT_ONLY}
_REPORTING_ENDPOINTS = "reporting-endpoints"
# NUL can never be in a validated value: a safe joint for nonce templates.
_JOINT = "\x00"
_REPORTING = ("report-uri", "report-to")

#: A policy reduced to what identifies it (see :func:`policy_key`).
PolicyKey = tuple[tuple[str, tuple[str, ...]], ...]


def _texts(declared: Declared) -> list[str]:
    """The CSP texts a declaration can send (nonce slots as ``_JOINT``)."""
    texts = []
    if declared.static is not None:
        texts.append(declared.static)
    if declared.template is not None:
        texts.append(_JOINT.join(declared.template))
    if declared.otherwise is not None:
        texts.append(declared.otherwise)
    return texts


def _reports_itself(text: str) -> bool:
    return any(
        name in _REPORTING for policy in parse_policy_list(text) for name, _ in policy
    )


def _add_reporting(text: str, suffix: str) -> str:
    policies = text.split(",")
    return ",".join(
        f"{policy.rstrip(' ;')}{suffix}" if policy.strip(" \t;") else policy
        for policy in policies
    )


def _with_reporting(declared: Declared, suffix: str) -> Declared:
    """``declared`` with ``suffix`` at the end of each of its policies."""
    return dataclasses.replace(
        declared,
        static=None
        if declared.static is None
        else _add_reporting(declared.static, suffix),
        template=None
        if declared.template is None
        else tuple(
            _add_reporting(_JOINT.join(declared.template), suffix).split(_JOINT)
        ),
        otherwise=None
        if declared.otherwise is None
        else _add_reporting(declared.otherwise, suffix),
    )


def wire(
    entries: cabc.MutableMapping[str, Declared],
    *,
    url: str,
    group: str,
) -> bool:
    """Add ``report-uri url`` and ``report-to group`` to the CSPs of one
    endpoint's merged declarations, and the group to ``Reporting-Endpoints``.

    :param entries: lower-cased header name to its winning declaration;
        changed in place.
    :param url: the collector's URL (a path); it must be a valid
        ``Reporting-Endpoints`` URL and CSP ``report-uri``.
    :param group: the endpoint name for ``report-to``.
    :return: whether anything was wired.
    """
    endpoints = entries.get(_REPORTING_ENDPOINTS)
    ours = ReportingEndpoints({group: url}).to_header()
    use_report_to = True
    if endpoints is not None:
        texts = _texts(endpoints)
        known = [parse_reporting_endpoints(text) or {} for text in texts]
        if endpoints.dynamic is not None or endpoints.mode is Mode.REMOVE or not texts:
            use_report_to = False  # cannot add our group to it: report-uri only
        elif any(group in names and names[group] != url for names in known):
            use_report_to = False  # the app uses the name for something else
    plain_suffix = f"; report-uri {url}"
    suffix = plain_suffix + (f"; report-to {group}" if use_report_to else "")
    wired = False
    for key in CSP_HEADERS:
        declared = entries.get(key)
        if declared is None or declared.mode is Mode.REMOVE:
            continue
        texts = _texts(declared)
        if declared.dynamic is not None or not texts:
            continue
        if any(_reports_itself(text.replace(_JOINT, "")) for text in texts):
            continue
        amended = _with_reporting(declared, suffix)
        if use_report_to or declared.plain is not None:
            # Plain HTTP: report-uri only (see the module's docstring).
            plain = _with_reporting(declared.plain or declared, plain_suffix)
            amended = dataclasses.replace(amended, plain=plain)
        entries[key] = amended
        wired = True
    if not (wired and use_report_to):
        return wired
    if endpoints is None:
        entries[_REPORTING_ENDPOINTS] = Declared(
            "Reporting-Endpoints",
            Mode.DEFAULT,
            "the report collector",
            static=ours,
            source="reports",
        )
        return True

    def extend(text: str | None) -> str | None:
        if text is None or group in (parse_reporting_endpoints(text) or {}):
            return text
        return f"{text}, {ours}"

    entries[_REPORTING_ENDPOINTS] = dataclasses.replace(
        endpoints,
        static=extend(endpoints.static),
        otherwise=extend(endpoints.otherwise),
    )
    return True


_NONCE_RE = re.compile(r"'nonce-[^']*'")
_HASH_PREFIXES = ("'sha256-", "'sha384-", "'sha512-")


#: The directives template stamping may add to a response's CSP, each with
#: the fallbacks it copies (flask_header_policy.templates._splice).
_SPLICED = {
    "script-src-attr": ("script-src", "default-src"),
    "style-src-attr": ("style-src", "default-src"),
    "script-src-elem": ("script-src", "default-src"),
    "style-src-elem": ("style-src", "default-src"),
}


def _is_hash(source: str) -> bool:
    return source.startswith(_HASH_PREFIXES) or source == "'unsafe-hashes'"


def policy_key(text: str) -> PolicyKey:
    """One policy reduced to what identifies it across responses.

    Nonces become one placeholder; hash sources and ``'unsafe-hashes'`` are
    dropped (hashes may be added per response), and so is a directive that
    stamping may have added to hold them: a ``script-src-attr``,
    ``style-src-attr``, ``script-src-elem`` or ``style-src-elem`` with
    hashes, and otherwise nothing but ``'report-sample'`` or the sources of
    the directive it falls back to. ``report-uri`` and ``report-to`` are
    dropped (``report-to`` is taken out over plain HTTP, and browsers may
    resolve a ``report-uri`` path to a full URL). Directive names are
    lower-cased, sources kept in order.
    """
    policies = parse_policy_list(_NONCE_RE.sub("'nonce'", text.replace(_JOINT, "x")))
    if not policies:
        return ()
    entries = [
        (name, sources, tuple(source for source in sources if not _is_hash(source)))
        for name, sources in policies[0]
        if name not in _REPORTING
    ]
    first: dict[str, tuple[str, ...]] = {}
    for name, _, plain in entries:
        first.setdefault(name, plain)
    key = []
    for name, sources, plain in entries:
        fallbacks = _SPLICED.get(name)
        if fallbacks is not None and any(_is_hash(source) for source in sources):
            fallback = next((first[f] for f in fallbacks if f in first), None)
            if set(plain) <= {"'report-sample'"} or plain == fallback:
                continue
        key.append((name, plain))
    return tuple(key)


def policy_keys(declared: Declared) -> set[PolicyKey] | None:
    """The keys of every policy ``declared`` can send; ``None`` when it is
    computed per request and so cannot be known in advance."""
    if declared.dynamic is not None:
        return None
    keys = set()
    for text in _texts(declared):
        # The nonce slot becomes a nonce so that it normalises like one.
        for policy in text.replace(_JOINT, "x").split(","):
            if policy.strip(" \t;"):
                keys.add(policy_key(policy))
    return keys
