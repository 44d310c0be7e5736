"""Flask-Talisman 1.1.0's options, translated to header declarations (sans-IO).

One function per concern: :func:`translate_headers` renders the headers
Talisman sends, as Talisman spells them; :func:`translate_cookies` and
:func:`translate_redirect` give the cookie hardening and the HTTPS redirect.
A value our typed builders accept, and render to the same text, becomes that
builder (``flask headers show`` and the audit then know it); anything else is
sent as written, with a :class:`TalismanMigrationWarning` when browsers would
ignore it. Only what could break the response (a CR, an LF) raises.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import os
import re
import sys
import typing as t
import warnings

from .._grammar import grammar_problem
from .._validate import check_value
from ..cookies import CookiePolicy
from ..csp import ContentSecurityPolicy
from ..csp import NONCE
from ..document_policy import DocumentPolicy
from ..errors import InvalidHeaderError
from ..hsts import StrictTransportSecurity
from ..https_redirect import HTTPSRedirect
from ..permissions import parse_permissions_policy
from ..rules import HeaderValue

__all__ = [
    "ALLOW_FROM",
    "DEFAULT_CSP_POLICY",
    "DEFAULT_DOCUMENT_POLICY",
    "DEFAULT_FEATURE_POLICY",
    "DEFAULT_PERMISSIONS_POLICY",
    "DEFAULT_REFERRER_POLICY",
    "DEFAULT_SESSION_COOKIE_SAMESITE",
    "DENY",
    "GOOGLE_CSP_POLICY",
    "NONCE_LENGTH",
    "ONE_YEAR_IN_SECS",
    "OPTION_DEFAULTS",
    "SAMEORIGIN",
    "VIEW_OPTIONS",
    "TalismanMigrationWarning",
    "Verbatim",
    "check_names",
    "nonce_sections",
    "check_options",
    "warn_from_caller",
    "translate_cookies",
    "translate_headers",
    "translate_redirect",
]

# Flask-Talisman's public constants, same names and values.
DENY = "DENY"
SAMEORIGIN = "SAMEORIGIN"
ALLOW_FROM = "ALLOW-FROM"
ONE_YEAR_IN_SECS = 31556926
DEFAULT_REFERRER_POLICY = "strict-origin-when-cross-origin"
DEFAULT_CSP_POLICY: dict[str, t.Any] = {
    "default-src": "'self'",
    "object-src": "'none'",
}
DEFAULT_SESSION_COOKIE_SAMESITE = "Lax"
#: Google-hosted fonts, libraries, Maps and YouTube frames allowed.
GOOGLE_CSP_POLICY: dict[str, t.Any] = {
    "font-src": "'self' themes.googleusercontent.com *.gstatic.com",
    "frame-src": "'self' www.google.com www.youtube.com",
    "script-src": "'self' ajax.googleapis.com *.googleanalytics.com"
    " *.google-analytics.com",
    "style-src": "'self' ajax.googleapis.com fonts.googleapis.com *.gstatic.com",
    "object-src": "'none'",
    "default-src": "'self' *.gstatic.com",
}
DEFAULT_PERMISSIONS_POLICY: dict[str, t.Any] = {"browsing-topics": "()"}
DEFAULT_DOCUMENT_POLICY: dict[str, t.Any] = {}
DEFAULT_FEATURE_POLICY: dict[str, t.Any] = {}
#: Characters in a nonce, as Flask-Talisman makes them (192 bits, base64url).
NONCE_LENGTH = 32

#: ``Talisman.init_app``'s keyword arguments and their defaults, in order.
OPTION_DEFAULTS: dict[str, t.Any] = {
    "feature_policy": DEFAULT_FEATURE_POLICY,
    "permissions_policy": DEFAULT_PERMISSIONS_POLICY,
    "document_policy": DEFAULT_DOCUMENT_POLICY,
    "force_https": True,
    "force_https_permanent": False,
    "force_file_save": False,
    "frame_options": SAMEORIGIN,
    "frame_options_allow_from": None,
    "strict_transport_security": True,
    "strict_transport_security_preload": False,
    "strict_transport_security_max_age": ONE_YEAR_IN_SECS,
    "strict_transport_security_include_subdomains": True,
    "content_security_policy": DEFAULT_CSP_POLICY,
    "content_security_policy_report_uri": None,
    "content_security_policy_report_only": False,
    "content_security_policy_nonce_in": None,
    "referrer_policy": DEFAULT_REFERRER_POLICY,
    "session_cookie_secure": True,
    "session_cookie_http_only": True,
    "session_cookie_samesite": DEFAULT_SESSION_COOKIE_SAMESITE,
    "x_content_type_options": True,
    "x_xss_protection": False,
}
#: The options Flask-Talisman honours per view (``@talisman(...)``).
VIEW_OPTIONS: frozenset[str] = frozenset(
    {
        "force_https",
        "frame_options",
        "frame_options_allow_from",
        "content_security_policy",
        "content_security_policy_nonce_in",
        "permissions_policy",
        "document_policy",
        "feature_policy",
    }
)

_CSP = "Content-Security-Policy"
Options = cabc.Mapping[str, t.Any]
HeaderMap = dict[str, "str | HeaderValue"]


class TalismanMigrationWarning(UserWarning):
    """The drop-in ``Talisman`` does something differently from Flask-Talisman.

    Raised (once per cause) where our behaviour is deliberately different
    (``X-Forwarded-Proto`` is not trusted; ``ALLOW-FROM`` gets a CSP
    ``frame-ancestors``), and where a value is sent as written although
    browsers will ignore it.
    """


Warn = cabc.Callable[[str], None]


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def warn_from_caller(message: str) -> None:
    """Warn at the first frame outside this package: the caller's line."""
    frame = sys._getframe(1)
    level = 2  # stacklevel 2 is the frame that called this function
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, TalismanMigrationWarning, stacklevel=level)


def _warn(message: str) -> None:
    warn_from_caller(message)


def _quiet(message: str) -> None:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class Verbatim:
    """A header value sent exactly as written, with the :data:`NONCE`
    placeholder filled in per request.

    What the translation gives for a policy our typed builders refuse (an
    unknown CSP directive, say): Flask-Talisman sent it, so the drop-in does.
    """

    header_name: str
    text: str

    def __post_init__(self) -> None:
        check_value(self.header_name, self.text.replace(NONCE, "'nonce-x'"))

    @property
    def uses_nonce(self) -> bool:
        """Whether the text holds the :data:`NONCE` placeholder."""
        return NONCE in self.text

    def to_header(self, *, nonce: str | None = None) -> str:
        """The text, with ``'nonce-<nonce>'`` in place of :data:`NONCE`."""
        if self.uses_nonce and nonce is None:
            raise InvalidHeaderError(
                self.header_name, "the value holds NONCE but no nonce was given"
            )
        text = self.text
        if nonce is not None:
            text = text.replace(NONCE, f"'nonce-{nonce}'")
        return check_value(self.header_name, text)

    def __str__(self) -> str:
        return self.text


def nonce_sections(value: t.Any) -> list[str]:
    """``content_security_policy_nonce_in`` as a list of directive names.

    :raise TypeError: a ``str``, which Flask-Talisman iterates ("script-src"
        made the directives "s", "c", "r"… each with the nonce).
    """
    if isinstance(value, str):
        raise TypeError(
            "content_security_policy_nonce_in takes a list of directive names"
            f" (['script-src']), not the str {value!r}"
        )
    return list(value or ())


def check_names(names: cabc.Iterable[str]) -> None:
    """Raise ``TypeError`` for a name that is no Flask-Talisman option."""
    unknown = sorted(set(names) - set(OPTION_DEFAULTS))
    if unknown:
        raise TypeError(
            f"unknown Flask-Talisman option(s) {', '.join(map(repr, unknown))};"
            f" known: {', '.join(OPTION_DEFAULTS)}"
        )


def check_options(options: Options) -> None:
    """Raise ``TypeError`` for a name that is no Flask-Talisman option, and
    ``ValueError`` for report-only without a report URI (as Talisman does)."""
    check_names(options)
    if (
        options.get("content_security_policy_report_only")
        and options.get("content_security_policy_report_uri") is None
    ):
        raise ValueError(
            "content_security_policy_report_only=True needs a URI in"
            " content_security_policy_report_uri (browsers need somewhere to"
            " send the reports)"
        )


# A CSP (or Feature-Policy) directive name: ALPHA / DIGIT / "-".
_DIRECTIVE_NAME_RE = re.compile(r"[A-Za-z0-9-]+")


def _raw_text(header: str, option: str, text: str) -> str:
    """``text`` as given, refused if it holds a control character: CR and LF
    (or NEL) are not separators between sources, they would split the
    response, as in every other value."""
    try:
        return check_value(header, text)
    except InvalidHeaderError as error:
        raise InvalidHeaderError(header, f"{option}: {error.reason}") from None


def _dict_sources(header: str, option: str, name: str, text: str) -> list[str]:
    """The sources of one directive of a dict policy. A ``;`` or ``,`` in
    them would end the directive (or the policy) and start another that
    browsers enforce: a directive smuggled in, refused."""
    words = _raw_text(header, option, text).split()
    for word in words:
        for char, what in ((";", "directive"), (",", "policy")):
            if char in word:
                raise InvalidHeaderError(
                    header,
                    f"{option}[{name!r}]: {char!r} in {word!r} would end the"
                    f" {what} and start another; give each directive its own"
                    " key, and percent-encode the character in a URL",
                )
    return words


def _directives(
    option: str, policy: t.Any, header: str = "Content-Security-Policy"
) -> list[tuple[str, list[str]]]:
    """``(name, sources)`` pairs of a CSP-like policy given as Talisman takes
    it: a ``;``-separated string, or a mapping of names to a source string or
    a list of sources. A repeated name keeps its first place, last value.

    :raise InvalidHeaderError: a control character anywhere; in a mapping, a
        name that is not one directive name, or a source holding ``;`` or
        ``,`` (Flask-Talisman sent them, and so injected a directive).
    """
    pairs: dict[str, list[str]] = {}
    if not isinstance(policy, str | cabc.Mapping):
        raise TypeError(f"{option} takes a dict or a str, not {type(policy).__name__}")
    if isinstance(policy, str):
        for part in _raw_text(header, option, policy).split(";"):
            tokens = part.split()
            if tokens:
                pairs[tokens[0]] = tokens[1:]
        return list(pairs.items())
    for name, content in policy.items():
        if content is None or content is False:
            continue
        name = str(name)
        if not _DIRECTIVE_NAME_RE.fullmatch(name):
            raise InvalidHeaderError(
                header,
                f"{option}: {name!r} is not a directive name (letters, digits"
                " and '-'); give each directive its own key",
            )
        if content is True:
            sources: list[str] = []
        elif isinstance(content, str):
            sources = _dict_sources(header, option, name, content)
        else:
            sources = [
                word
                for item in content
                for word in _dict_sources(header, option, name, str(item))
            ]
        pairs[name] = sources
    return list(pairs.items())


def _render(directives: cabc.Iterable[tuple[str, list[str]]]) -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in directives)


def _csp_value(
    name: str, directives: list[tuple[str, list[str]]], warn: Warn
) -> str | HeaderValue:
    text = _render(directives)
    try:
        policy = ContentSecurityPolicy([(n, s or True) for n, s in directives])
    except InvalidHeaderError as error:
        warn(f"{name}: {error.reason} (sent as written, as Flask-Talisman did)")
        return Verbatim(name, text)
    if str(policy) == text:
        return policy
    return Verbatim(name, text)


def _structured(option: str, policy: t.Any) -> str:
    """Permissions-Policy and Document-Policy, rendered as Talisman does."""
    if isinstance(policy, str):
        return policy.strip()
    if not isinstance(policy, cabc.Mapping):
        raise TypeError(f"{option} takes a dict or a str, not {type(policy).__name__}")
    return ", ".join(f"{feature}={value}" for feature, value in policy.items())


def _frame_ancestors(allow_from: t.Any) -> list[str]:
    if allow_from is None or not str(allow_from).strip():
        raise InvalidHeaderError(
            "X-Frame-Options",
            "frame_options=ALLOW_FROM needs frame_options_allow_from (the"
            " origins allowed to frame the page)",
        )
    sources = str(allow_from).split()
    for source in sources:
        if ";" in source or "," in source:
            raise InvalidHeaderError(
                "X-Frame-Options",
                f"frame_options_allow_from: {source!r} is not an origin",
            )
    return sources


def translate_headers(options: Options, *, warn: bool | Warn = True) -> HeaderMap:
    """The headers Flask-Talisman sends for ``options``, in its order.

    HSTS is among them; the extension sends it on HTTPS requests only.

    :param options: every option of :data:`OPTION_DEFAULTS`.
    :param warn: ``True`` issues a :class:`TalismanMigrationWarning` for each
        value sent although browsers ignore it (or handled differently);
        ``False`` stays quiet; a callable receives each message instead.
    :raise InvalidHeaderError: a value that cannot be sent (a control
        character), or ``ALLOW-FROM`` without origins.
    """
    if warn is True:
        say: Warn = _warn
    elif warn is False:
        say = _quiet
    else:
        say = warn
    return _translate_headers(options, say)


def _translate_headers(options: Options, warn: Warn) -> HeaderMap:
    headers: HeaderMap = {}
    feature_policy = options["feature_policy"]
    if feature_policy:
        directives = _directives("feature_policy", feature_policy, "Feature-Policy")
        if directives:
            headers["Feature-Policy"] = _render(directives)
    permissions = options["permissions_policy"]
    text = _structured("permissions_policy", permissions) if permissions else ""
    if text:
        if parse_permissions_policy(text) is None:
            warn(
                f"Permissions-Policy: {text!r} is not a structured-field"
                " dictionary, so browsers ignore all of it; it is sent as"
                " Flask-Talisman did (an allowlist is space-separated:"
                ' (self "https://example.com"))'
            )
        headers["Permissions-Policy"] = text
    document = options["document_policy"]
    text = _structured("document_policy", document) if document else ""
    if text:
        try:
            typed = DocumentPolicy.from_header(text)
        except InvalidHeaderError as error:
            check_value("Document-Policy", text)
            warn(f"Document-Policy: {text!r} is sent as written, but: {error.reason}")
            headers["Document-Policy"] = text
        else:
            headers["Document-Policy"] = typed if str(typed) == text else text
    frame_options = options["frame_options"]
    ancestors: list[str] | None = None
    if frame_options:
        value = str(frame_options)
        if value == ALLOW_FROM:
            ancestors = _frame_ancestors(options["frame_options_allow_from"])
            value = f"{ALLOW_FROM} {' '.join(ancestors)}"
            warn(
                "X-Frame-Options: ALLOW-FROM is ignored by current browsers (they"
                " let any site frame the page); it is sent as Flask-Talisman did,"
                f" and Content-Security-Policy: frame-ancestors {' '.join(ancestors)}"
                " is added, which browsers enforce"
            )
        headers["X-Frame-Options"] = value
    if options["x_xss_protection"]:
        headers["X-XSS-Protection"] = "1; mode=block"
    if options["x_content_type_options"]:
        headers["X-Content-Type-Options"] = "nosniff"
    if options["force_file_save"]:
        headers["X-Download-Options"] = "noopen"
    report_only = bool(options["content_security_policy_report_only"])
    csp_name = f"{_CSP}-Report-Only" if report_only else _CSP
    policy = options["content_security_policy"]
    if policy:
        nonce_in = set(nonce_sections(options["content_security_policy_nonce_in"]))
        directives = [
            (name, [*sources, NONCE] if name in nonce_in else sources)
            for name, sources in _directives("content_security_policy", policy)
        ]
        report_uri = options["content_security_policy_report_uri"]
        if report_uri and all(name != "report-uri" for name, _ in directives):
            directives.append(("report-uri", [_report_uri(csp_name, report_uri)]))
        if ancestors is not None and not report_only:
            if all(name != "frame-ancestors" for name, _ in directives):
                directives.append(("frame-ancestors", ancestors))
            ancestors = None
        if directives:
            headers[csp_name] = _csp_value(csp_name, directives, warn)
    if ancestors is not None:  # no enforced policy to carry frame-ancestors
        headers[_CSP] = _csp_value(_CSP, [("frame-ancestors", ancestors)], warn)
    if options["strict_transport_security"]:
        headers["Strict-Transport-Security"] = _hsts(options, warn)
    referrer = options["referrer_policy"]
    if referrer:
        headers["Referrer-Policy"] = str(referrer)
    for header, rendered in headers.items():
        if isinstance(rendered, str):
            check_value(header, rendered)
            if grammar_problem(header, rendered) is not None:
                # Flask-Talisman sent it (the warnings above say why it is
                # worth fixing): so does the drop-in, past our grammar check.
                headers[header] = Verbatim(header, rendered)
    return headers


def _report_uri(header: str, value: t.Any) -> str:
    """One URI: whitespace, ``;`` or ``,`` in it would add sources, end the
    directive or start a policy (``/r; script-src *`` enforces script-src)."""
    text = _raw_text(header, "content_security_policy_report_uri", str(value))
    if not text or any(char in text for char in " \t;,"):
        raise InvalidHeaderError(
            header,
            f"content_security_policy_report_uri: {text!r} is not one URI"
            " (whitespace, ';' and ',' would change the policy; percent-encode"
            " them)",
        )
    return text


def _hsts(options: Options, warn: Warn) -> str | HeaderValue:
    max_age = options["strict_transport_security_max_age"]
    subdomains = bool(options["strict_transport_security_include_subdomains"])
    preload = bool(options["strict_transport_security_preload"])
    text = f"max-age={max_age}"
    text += "; includeSubDomains" if subdomains else ""
    text += "; preload" if preload else ""
    try:
        typed = StrictTransportSecurity(max_age, subdomains, preload)
    except (InvalidHeaderError, TypeError) as error:
        reason = getattr(error, "reason", str(error))
        warn(f"Strict-Transport-Security: {text!r} is sent as written, but: {reason}")
        return text
    return typed if str(typed) == text else text


def translate_cookies(
    options: Options, *, session_cookie_name: str = "session"
) -> CookiePolicy | None:
    """The hardening of the session cookie that the ``session_cookie_*``
    options ask for, without touching ``app.config``.

    ``Secure`` is added on HTTPS responses only, and attributes the app's
    config already sets (``SESSION_COOKIE_SAMESITE``) are kept.
    """
    secure = bool(options["session_cookie_secure"])
    httponly = bool(options["session_cookie_http_only"])
    samesite = options["session_cookie_samesite"] or None
    if not (secure or httponly or samesite):
        return None
    return CookiePolicy(
        secure=secure,
        httponly=httponly,
        samesite=samesite,
        only=frozenset({session_cookie_name}),
    )


def translate_redirect(
    options: Options, *, exempt: cabc.Callable[[t.Any], bool] | None = None
) -> HTTPSRedirect | None:
    """The HTTPS redirect of ``force_https``: 302, or 301 with
    ``force_https_permanent``, as Flask-Talisman answers; loopback hosts and
    ``app.testing`` redirected too, off under ``app.debug``."""
    if not options["force_https"] and exempt is None:
        return None
    return HTTPSRedirect(
        status=301 if options["force_https_permanent"] else 302,
        redirect_loopback=True,
        in_testing=True,
        exempt=exempt,
    )
