"""Ready-made policies: ``strict``, ``basic``, ``api`` and ``owasp``.

A preset is an ordinary policy: a mapping of headers (the lowest layer, under
the app's config and ``headers=``) and, optionally, how to harden cookies.
Every value here is a documented promise (docs/presets.rst), pinned by tests.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import json
import types
import typing as t
import warnings
from importlib import resources

from .cookies import CookiePolicy
from .cross_origin import CrossOriginOpenerPolicy
from .cross_origin import CrossOriginResourcePolicy
from .csp import ContentSecurityPolicy
from .csp import NONCE
from .csp import NONE
from .csp import SELF
from .csp import STRICT_DYNAMIC
from .csp import UNSAFE_INLINE
from .framing import XContentTypeOptions
from .framing import XFrameOptions
from .hsts import StrictTransportSecurity
from .permissions import PermissionsPolicy
from .permissions import UnknownFeatureWarning
from .referrer import ReferrerPolicy
from .rules import Header
from .rules import only_for
from .rules import remove
from .rules import Value

Headers = cabc.Mapping[str, Value | Header | None]

_CSP_KEY = "content-security-policy"

#: Where a page's CSP applies; other responses (JSON, CSS, images) need none.
HTML = ("text/html", "application/xhtml+xml")


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named policy: headers, and how to harden ``Set-Cookie``.

    :param name: how errors and ``flask headers show`` name it.
    :param headers: the headers, as a layer declares them.
    :param cookies: cookie hardening, or ``None`` to leave cookies alone.
    :param stamp_nonces: stamp nonces and hashes into the app's templates
        (see ``HeaderPolicy(stamp_nonces=...)``).
    """

    name: str
    headers: Headers
    cookies: CookiePolicy | None = None
    stamp_nonces: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", types.MappingProxyType(dict(self.headers)))

    @property
    def csp(self) -> ContentSecurityPolicy:
        """The preset's ``Content-Security-Policy`` as a builder (the one for
        HTML pages when it is scoped to them), to derive a view's policy::

            only_for("text/html", PRESETS["strict"].csp.with_sources(
                "img-src", "data:"))

        A plain-text CSP is read with
        :meth:`~flask_header_policy.ContentSecurityPolicy.from_header`.

        :raise KeyError: the preset has no static CSP.
        """
        value = next(
            (v for k, v in self.headers.items() if k.lower() == _CSP_KEY), None
        )
        if isinstance(value, Header):
            value = value.value
        if isinstance(value, ContentSecurityPolicy):
            return value
        if isinstance(value, str):
            return ContentSecurityPolicy.from_header(value)
        raise KeyError(f"preset {self.name!r} has no static Content-Security-Policy")

    def replace(self, headers: Headers | None = None, **changes: t.Any) -> Preset:
        """A copy with some headers changed (``None`` drops one) or options set."""
        merged = dict(self.headers)
        for name, value in (headers or {}).items():
            for existing in [k for k in merged if k.lower() == name.lower()]:
                del merged[existing]
            if value is not None:
                merged[name] = value
        return dataclasses.replace(self, headers=merged, **changes)


#: The nonce-based strict CSP Google's CSP Evaluator recommends, with every
#: fetch a server-rendered page needs opened to its own origin.
STRICT_CSP = ContentSecurityPolicy(
    {
        "default-src": [NONE],
        "script-src": [NONCE, STRICT_DYNAMIC],
        "style-src": [SELF, NONCE],
        # Bootstrap and other CSS frameworks draw icons as data: SVG images.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
)

#: What every response that is not a page gets instead (JSON, CSS, images):
#: it may load nothing and be framed by nobody. It has no nonce.
LOCKED_CSP = ContentSecurityPolicy({"default-src": [NONE], "frame-ancestors": [NONE]})

_REMOVE_STACK = {"Server": remove(), "X-Powered-By": remove()}

STRICT = Preset(
    "strict",
    {
        "Content-Security-Policy": only_for(HTML, STRICT_CSP, otherwise=LOCKED_CSP),
        "Strict-Transport-Security": StrictTransportSecurity(
            max_age=63072000, include_subdomains=True
        ),
        "X-Content-Type-Options": XContentTypeOptions.NOSNIFF,
        "X-Frame-Options": XFrameOptions.DENY,
        "Referrer-Policy": ReferrerPolicy.NO_REFERRER,
        "Cross-Origin-Opener-Policy": CrossOriginOpenerPolicy.SAME_ORIGIN,
        "Cross-Origin-Resource-Policy": CrossOriginResourcePolicy.SAME_ORIGIN,
        "Permissions-Policy": PermissionsPolicy.restrictive(),
        **_REMOVE_STACK,
    },
    cookies=CookiePolicy(secure=True, httponly=True, samesite="Lax"),
    stamp_nonces=True,
)

#: For apps that cannot adopt nonces yet: same-origin scripts, helmet-like.
BASIC = Preset(
    "basic",
    {
        "Content-Security-Policy": only_for(
            HTML,
            ContentSecurityPolicy(
                default_src=[SELF],
                base_uri=[SELF],
                font_src=[SELF, "https:", "data:"],
                form_action=[SELF],
                frame_ancestors=[SELF],
                img_src=[SELF, "data:"],
                object_src=[NONE],
                script_src=[SELF],
                script_src_attr=[NONE],
                style_src=[SELF, "https:", UNSAFE_INLINE],
                upgrade_insecure_requests=True,
            ),
        ),
        "Strict-Transport-Security": StrictTransportSecurity(
            max_age=31536000, include_subdomains=True
        ),
        "X-Content-Type-Options": XContentTypeOptions.NOSNIFF,
        "X-Frame-Options": XFrameOptions.SAMEORIGIN,
        "Referrer-Policy": ReferrerPolicy.NO_REFERRER,
        "Cross-Origin-Opener-Policy": CrossOriginOpenerPolicy.SAME_ORIGIN,
        "Cross-Origin-Resource-Policy": CrossOriginResourcePolicy.SAME_ORIGIN,
        "Origin-Agent-Cluster": "?1",
        "X-DNS-Prefetch-Control": "off",
        "X-Download-Options": "noopen",
        "X-Permitted-Cross-Domain-Policies": "none",
        "X-XSS-Protection": "0",
        "X-Powered-By": remove(),
    },
)

#: For JSON APIs: nothing may be loaded or framed, nothing cached (unless a
#: view sets its own Cache-Control: the view's own header wins).
API = Preset(
    "api",
    {
        "Content-Security-Policy": LOCKED_CSP,
        "Cache-Control": "no-store",
        "Strict-Transport-Security": StrictTransportSecurity(
            max_age=63072000, include_subdomains=True
        ),
        "X-Content-Type-Options": XContentTypeOptions.NOSNIFF,
        "X-Frame-Options": XFrameOptions.DENY,
        "Referrer-Policy": ReferrerPolicy.NO_REFERRER,
        "Cross-Origin-Resource-Policy": CrossOriginResourcePolicy.SAME_ORIGIN,
        **_REMOVE_STACK,
    },
    cookies=CookiePolicy(secure=True, httponly=True, samesite="Strict"),
)


def _owasp() -> Preset:
    data = json.loads(
        resources.files(__package__).joinpath("owasp.json").read_text("utf-8")
    )
    headers: dict[str, Value | Header | None] = {
        name: value
        for name, value in data["add"].items()
        # Meant for a logout response only: on every response it would wipe
        # the session cookie and storage on each page load.
        if name != "Clear-Site-Data"
    }
    # OWASP's list still names interest-cohort (FLoC, withdrawn): browsers
    # ignore it, and every app using the preset should not be warned of it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownFeatureWarning)
        headers["Permissions-Policy"] = PermissionsPolicy.from_header(
            data["add"]["Permissions-Policy"]
        )
    for name in data["remove"]:
        headers[name] = remove()
    return Preset("owasp", headers)


#: The OWASP Secure Headers Project's recommended values and remove list.
OWASP = _owasp()

PRESETS: cabc.Mapping[str, Preset] = types.MappingProxyType(
    {p.name: p for p in (STRICT, BASIC, API, OWASP)}
)


def resolve_preset(
    preset: str | Preset | Headers, *, source: str = "preset="
) -> Preset:
    """Turn ``preset=`` (a name, a :class:`Preset` or a mapping) into a Preset.

    :param source: where the value came from, as messages name it
        (``"HEADER_POLICY_PRESET"``).
    :raise ValueError: an unknown name; the message lists the known ones.
    :raise TypeError: anything else but a mapping.
    """
    if isinstance(preset, Preset):
        return preset
    if isinstance(preset, str):
        try:
            return PRESETS[preset]
        except KeyError:
            raise ValueError(
                f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}"
                " or pass a Preset"
            ) from None
    if not isinstance(preset, cabc.Mapping):
        raise TypeError(
            f"{source} must be a preset name ({', '.join(PRESETS)}), a Preset or"
            f" a mapping of headers, not {type(preset).__name__} {preset!r}"
        )
    return Preset("custom", preset)
