"""Check a plain-text header value with the strict reader of its builder.

``"script-src self"``, ``"no-referer"`` or ``"ALLOW-FROM https://x"`` are
refused when declared, with the message the builder would give, because
each header family has one grammar in one place: its module's
``from_header``. Sans-IO: nothing here imports Flask.
"""

from __future__ import annotations

import collections.abc as cabc
import functools
import re

from .cache_control import CacheControl
from .cross_origin import CrossOriginEmbedderPolicy
from .cross_origin import CrossOriginOpenerPolicy
from .cross_origin import CrossOriginResourcePolicy
from .csp import ContentSecurityPolicy
from .errors import InvalidHeaderError
from .framing import XContentTypeOptions
from .framing import XFrameOptions
from .hsts import StrictTransportSecurity
from .permissions import PermissionsPolicy
from .referrer import ReferrerPolicy
from .reporting import ReportingEndpoints

_CSP_KEYS = frozenset(
    {"content-security-policy", "content-security-policy-report-only"}
)
_FIXED_NONCE_RE = re.compile(r"'nonce-[^']*'", re.IGNORECASE)


def _csp(value: str) -> None:
    # A field value may hold several policies separated by ","; each one is
    # read on its own, as browsers enforce each one.
    for policy in value.split(","):
        ContentSecurityPolicy.from_header(policy.strip(" \t"))


#: lower-cased header name -> the strict reader of its family.
READERS: dict[str, cabc.Callable[[str], object]] = {
    "content-security-policy": _csp,
    "content-security-policy-report-only": _csp,
    "referrer-policy": ReferrerPolicy.from_header,
    "x-frame-options": XFrameOptions.from_header,
    "x-content-type-options": XContentTypeOptions.from_header,
    "strict-transport-security": StrictTransportSecurity.from_header,
    "permissions-policy": PermissionsPolicy.from_header,
    "cross-origin-opener-policy": CrossOriginOpenerPolicy.from_header,
    "cross-origin-embedder-policy": CrossOriginEmbedderPolicy.from_header,
    "cross-origin-resource-policy": CrossOriginResourcePolicy.from_header,
    "reporting-endpoints": ReportingEndpoints.from_header,
    "cache-control": CacheControl.from_header,
}


def check_grammar(name: str, text: str, *, layer: str) -> None:
    """Raise if ``text`` is not a valid value of ``name`` (when we know its
    grammar); other headers pass unchecked.

    :raise InvalidHeaderError: the builder's message, naming ``layer``.
    """
    reader = READERS.get(name.lower())
    if reader is None:
        return
    try:
        reader(text)
    except InvalidHeaderError as error:
        raise error.with_layer(layer) from None


@functools.lru_cache(maxsize=256)
def _problem(name: str, text: str) -> InvalidHeaderError | None:
    try:
        READERS[name.lower()](text)
    except InvalidHeaderError as error:
        return error
    return None


def grammar_problem(name: str, text: str) -> InvalidHeaderError | None:
    """What the strict reader of ``name``'s family finds wrong in ``text``
    (``None``: nothing, or a header whose grammar we do not know)."""
    if name.lower() not in READERS:
        return None
    return _problem(name, text)


def check_grammar_cached(name: str, text: str, *, layer: str) -> None:
    """:func:`check_grammar` for per-request values: a value seen before is
    not parsed again (dynamic values usually come from a small set)."""
    if name.lower() not in READERS:
        return
    error = _problem(name, text)
    if error is not None:
        raise error.with_layer(layer)


def check_static_csp(name: str, text: str, *, layer: str) -> None:
    """A CSP sent unchanged on every response must not carry a nonce.

    :raise InvalidHeaderError: a fixed ``'nonce-…'`` source, which an
        attacker can read once and reuse on every page.
    """
    if name.lower() not in _CSP_KEYS:
        return
    match = _FIXED_NONCE_RE.search(text)
    if match is not None:
        raise InvalidHeaderError(
            name,
            f"{match.group()} is fixed: the same nonce on every response lets an"
            " attacker who reads one page run scripts on all of them; use the"
            " NONCE placeholder of ContentSecurityPolicy (a fresh nonce per"
            " response) or hash_source() for a fixed inline script",
            layer=layer,
        )
