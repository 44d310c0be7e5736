"""Permissions-Policy: a typed, validated value object (W3C Permissions Policy).

The field is a Structured Field Dictionary (RFC 9651); every bit of its
syntax is left to :mod:`http_sf`. Sans-IO: nothing here imports Flask.
:func:`parse_permissions_policy` is the lenient reader (it never raises);
:meth:`PermissionsPolicy.from_header` is the strict one.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import difflib
import re
import typing as t
import warnings

import http_sf

from ._features import FeatureMap
from ._validate import check_value
from ._validate import describe_char
from ._validate import shown
from .errors import InvalidHeaderError

_HEADER = "Permissions-Policy"

#: Policy-controlled features that browsers implement or that a W3C/WICG
#: specification or proposal defines (clipboard-*, gamepad and unload are
#: proposals or experiments, but browsers parse them).
KNOWN_FEATURES: frozenset[str] = frozenset(
    "accelerometer all-screens-capture ambient-light-sensor attribution-reporting"
    " autoplay battery bluetooth browsing-topics camera captured-surface-control"
    " clipboard-read clipboard-write compute-pressure cross-origin-isolated"
    " deferred-fetch deferred-fetch-minimal digital-credentials-get direct-sockets"
    " display-capture document-domain encrypted-media execution-while-not-rendered"
    " execution-while-out-of-viewport focus-without-user-activation fullscreen"
    " gamepad geolocation gyroscope hid identity-credentials-get idle-detection"
    " join-ad-interest-group keyboard-map language-detector local-fonts"
    " local-network-access magnetometer microphone midi navigation-override"
    " otp-credentials payment picture-in-picture private-aggregation"
    " private-state-token-issuance private-state-token-redemption"
    " publickey-credentials-create publickey-credentials-get run-ad-auction"
    " screen-wake-lock serial shared-storage shared-storage-select-url smart-card"
    " speaker-selection storage-access summarizer sync-xhr translator unload usb"
    " vertical-scroll web-share window-management xr-spatial-tracking"
    # User-Agent Client Hints delegation
    " ch-device-memory ch-downlink ch-dpr ch-ect ch-prefers-color-scheme"
    " ch-prefers-reduced-motion ch-prefers-reduced-transparency ch-rtt"
    " ch-save-data ch-ua ch-ua-arch ch-ua-bitness ch-ua-form-factors"
    " ch-ua-full-version ch-ua-full-version-list ch-ua-mobile ch-ua-model"
    " ch-ua-platform ch-ua-platform-version ch-ua-wow64 ch-viewport-height"
    " ch-viewport-width ch-width".split()
)
# Names still found in copied headers; browsers log "Unrecognized feature".
_RETIRED = {
    "interest-cohort": "FLoC was withdrawn in 2022; to opt out of its successor,"
    " the Topics API, declare browsing-topics=()",
    "vr": "it was renamed xr-spatial-tracking",
    "wake-lock": "it was renamed screen-wake-lock",
    "window-placement": "it was renamed window-management",
    "conversion-measurement": "it was renamed attribution-reporting",
    "trust-token-redemption": "it was renamed private-state-token-redemption",
}
# Powerful features (device, sensor, payment and tracking APIs) that a site
# which does not use them should switch off: the RESTRICTIVE policy.
_POWERFUL = (
    "accelerometer", "browsing-topics", "camera", "display-capture", "geolocation",
    "gyroscope", "hid", "idle-detection", "magnetometer", "microphone", "midi",
    "payment", "serial", "usb", "xr-spatial-tracking",
)  # fmt: skip

# RFC 9651 key: lcalpha or "*", then lcalpha, DIGIT, "_", "-", ".", "*".
_KEY_RE = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_ORIGIN_RE = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*://"  # scheme
    r"(?:(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])"  # host
    r"(?::[0-9]{1,5})?/?"  # port, and a harmless trailing slash
)
_MISTAKES = {
    "none": "deny a feature with an empty allowlist: () or []",
    "'none'": "deny a feature with an empty allowlist: () or []",
    "'self'": "Permissions-Policy writes self without quotes",
    "'src'": "src only applies to an <iframe allow> attribute",
    "src": "src only applies to an <iframe allow> attribute",
}

Allowlist = str | cabc.Iterable[str]


class UnknownFeatureWarning(UserWarning):
    """A Permissions-Policy feature that browsers do not know (they ignore it)."""


def _fail(reason: str) -> t.NoReturn:
    raise InvalidHeaderError(_HEADER, reason)


def _check_feature(name: object) -> str:
    if not isinstance(name, str):
        _fail(f"a feature name must be a str, not {type(name).__name__}")
    if not _KEY_RE.fullmatch(name):
        if _KEY_RE.fullmatch(name.lower()):
            _fail(f"feature {name!r} must be lowercase: write {name.lower()!r}")
        _fail(
            f"feature {name!r} is not a structured-field key (lowercase letters,"
            " digits and _-.*, starting with a letter)"
        )
    if name not in KNOWN_FEATURES:
        hint = _RETIRED.get(name)
        if hint is None:
            close = difflib.get_close_matches(name.replace("_", "-"), KNOWN_FEATURES, 1)
            hint = f"did you mean {close[0]!r}?" if close else "check the spelling"
        warnings.warn(
            f"{_HEADER}: unknown feature {name!r}, browsers ignore it; {hint}",
            UnknownFeatureWarning,
            # _check_feature <- _set <- __init__ / from_header <- the caller
            stacklevel=4,
        )
    return name


def _origin_problem(entry: str) -> str | None:
    """Why ``entry`` is not a usable allowlist origin, or ``None``."""
    if entry in _MISTAKES:
        return f"{entry!r}: {_MISTAKES[entry]}"
    bad = next((c for c in entry if not " " < c < "\x7f"), None)
    if bad is not None:
        return f"{entry!r}: character {describe_char(bad)} cannot be in an origin"
    if _ORIGIN_RE.fullmatch(entry):
        return None
    scheme, sep, rest = entry.partition("://")
    if sep and rest and any(c in rest for c in "/?#"):
        host = re.split(r"[/?#]", rest, maxsplit=1)[0]
        return f"{entry!r} has a path; an allowlist holds origins: write '{scheme}://{host}'"
    return f"{entry!r} is not *, self or an origin such as 'https://example.com'"


def _origin_of(url: str) -> str | None:
    """The origin a browser would read from ``url``, or ``None``."""
    origin = re.match(r"[^/?#]*//[^/?#]*", url)
    if origin is None or not _ORIGIN_RE.fullmatch(origin.group()):
        return None
    return origin.group()


def _as_allowlist(feature: str, value: object) -> tuple[str, ...]:
    if value is None:
        _fail(
            f"{feature}: None is ambiguous; deny the feature with () or leave it"
            " out for the browser's default"
        )
    entries = (value,) if isinstance(value, str) else value
    if not isinstance(entries, cabc.Iterable):
        _fail(
            f"{feature}: expected '*', 'self', an origin or a list, got {shown(value)}"
        )
    result: list[str] = []
    for entry in entries:
        if not isinstance(entry, str):
            _fail(f"{feature}: allowlist entries are str, not {type(entry).__name__}")
        if entry not in ("*", "self"):
            problem = _origin_problem(entry)
            if problem is not None:
                _fail(f"{feature}: {problem}")
            entry = entry.removesuffix("/")
        if entry not in result:
            result.append(entry)
    if "*" in result and len(result) > 1:
        _fail(f"{feature}: * already allows every origin; drop the other entries")
    return tuple(result)


def _check_report_to(report_to: object) -> str | None:
    if report_to is not None and (
        not isinstance(report_to, str) or not _KEY_RE.fullmatch(report_to)
    ):
        _fail(
            f"report_to={shown(report_to)} must name a Reporting-Endpoints endpoint"
            " (a structured-field key, e.g. 'permissions')"
        )
    return report_to


def _sf_parse(value: bytes, strict: bool) -> dict[str, t.Any]:
    def duplicate(key: str, context: str) -> None:
        _fail(f"feature {key!r} is declared twice (browsers keep the last)")

    hook = duplicate if strict else None
    return t.cast(
        "dict[str, t.Any]",
        http_sf.parse(value, tltype="dictionary", on_duplicate_key=hook),
    )


def _sf_error(exc: Exception) -> str:
    offending = getattr(exc, "offending_char", None)
    where = f" (character {describe_char(chr(offending))})" if offending else ""
    return f"not a structured-field dictionary (RFC 9651): {exc}{where}"


@dataclasses.dataclass(frozen=True, slots=True, init=False, repr=False)
class PermissionsPolicy(FeatureMap[tuple[str, ...]]):
    """An immutable, validated ``Permissions-Policy``.

    Map each feature to its allowlist: ``()`` or ``[]`` denies it, ``"*"``
    allows every origin, ``"self"`` this origin, and origins such as
    ``"https://maps.example"`` allow those (in a list with ``"self"``)::

        PermissionsPolicy({
            "camera": (),
            "geolocation": ["self", "https://maps.example"],
            "fullscreen": "*",
        })
        # camera=(), geolocation=(self "https://maps.example"), fullscreen=*

    An unknown feature is not an error (browsers ignore it) but issues an
    :class:`UnknownFeatureWarning`. Equality follows the features, in order.

    :param policy: a mapping or ``(feature, allowlist)`` pairs.
    :param report_to: a Reporting-Endpoints endpoint name; it is added as the
        ``report-to`` parameter of every feature.
    :raise InvalidHeaderError: naming the feature and the entry at fault.
    """

    header_name: t.ClassVar[str] = _HEADER
    _features: tuple[tuple[str, tuple[str, ...]], ...]
    report_to: str | None

    def __init__(
        self,
        policy: cabc.Mapping[str, Allowlist] | cabc.Iterable[tuple[str, Allowlist]],
        /,
        *,
        report_to: str | None = None,
    ) -> None:
        pairs = policy.items() if isinstance(policy, cabc.Mapping) else policy
        self._set(pairs, report_to)

    def _set(self, pairs: cabc.Iterable[tuple[str, object]], report_to: object) -> None:
        result: dict[str, tuple[str, ...]] = {}
        for name, value in pairs:
            feature = _check_feature(name)
            if feature in result:
                _fail(f"feature {feature!r} is declared twice")
            result[feature] = _as_allowlist(feature, value)
        if not result:
            _fail("the policy has no features; declare at least one, e.g. camera=()")
        object.__setattr__(self, "_features", tuple(result.items()))
        object.__setattr__(self, "report_to", _check_report_to(report_to))

    @classmethod
    def restrictive(cls) -> t.Self:
        """Deny the powerful features (camera, microphone, geolocation, payment,
        usb, sensors, ...) to this page and every frame it embeds."""
        return cls(dict.fromkeys(_POWERFUL, ()))

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read a value strictly with :mod:`http_sf`.

        Unknown features warn, as in the constructor.

        :raise InvalidHeaderError: the value is not a structured-field
            dictionary, a feature repeats, an entry is not ``*``, ``self``
            or an origin String, or ``report-to`` differs between features.
        """
        if not isinstance(value, str):
            _fail(f"from_header takes a str, not {type(value).__name__}")
        check_value(_HEADER, value)
        try:
            parsed = _sf_parse(value.encode("latin-1"), strict=True)
        except InvalidHeaderError:
            raise
        except ValueError as exc:
            _fail(_sf_error(exc))
        pairs: list[tuple[str, tuple[str, ...]]] = []
        reports: set[str | None] = set()
        for feature, (member, params) in parsed.items():
            for key, param in params.items():
                if key != "report-to" or not isinstance(param, str):
                    _fail(
                        f'{feature}: parameter {key}={param!r}; only report-to="name"'
                    )
            reports.add(params.get("report-to"))
            if not isinstance(member, (list, http_sf.Token, str)):
                _fail(
                    f"{feature}: {member!r} is not an allowlist; to deny: {feature}=()"
                )
            items = member if isinstance(member, list) else [(member, {})]
            entries: list[str] = []
            for item, item_params in items:
                if item_params:
                    _fail(f"{feature}: allowlist entries take no parameters")
                if isinstance(item, http_sf.Token):
                    if str(item) not in ("*", "self"):
                        problem = _MISTAKES.get(str(item), "only * and self are tokens")
                        _fail(f"{feature}: token {str(item)!r}: {problem}")
                elif item in ("*", "self"):
                    _fail(f'{feature}: "{item}" is a String; write the token {item}')
                elif not isinstance(item, str):
                    _fail(f"{feature}: {item!r} is not *, self or an origin String")
                entries.append(str(item))
            pairs.append((feature, tuple(entries)))
        if len(reports) > 1:
            _fail("report-to differs between features; declare one for all of them")
        new = object.__new__(cls)
        new._set(pairs, reports.pop() if reports else None)
        return new

    def with_feature(self, feature: str, allowlist: Allowlist) -> t.Self:
        """Return a copy where ``feature`` has ``allowlist`` (kept in place if set)."""
        new = object.__new__(type(self))
        new._set({**dict(self._features), feature: allowlist}.items(), self.report_to)
        return new

    def to_header(self) -> str:
        """Render the field value with :func:`http_sf.ser`."""
        params = {"report-to": self.report_to} if self.report_to else {}
        members: dict[str, t.Any] = {}
        for feature, allowlist in self._features:
            items = [http_sf.Token(e) if e == "self" else e for e in allowlist]
            if allowlist == ("*",):
                members[feature] = (http_sf.Token("*"), params)
            else:
                members[feature] = ([(item, {}) for item in items], params)
        return check_value(_HEADER, http_sf.ser(members))

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        body = {name: list(allowlist) for name, allowlist in self._features}
        extra = f", report_to={self.report_to!r}" if self.report_to else ""
        return f"{type(self).__name__}({body!r}{extra})"


def parse_permissions_policy(value: str) -> dict[str, tuple[str, ...]] | None:
    """Read a value as a browser does; never raises.

    Returns ``None`` when the value is not a structured-field dictionary
    (browsers then ignore the whole header). Otherwise each feature maps to
    the entries a browser would use: ``"*"``, ``"self"`` and origins;
    entries it would skip (other tokens, unparsable origins) are dropped.
    Unknown features are kept and do not warn.

    :param value: the field value as received.
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = _sf_parse(value.encode("latin-1"), strict=False)
    except Exception:  # http_sf may raise more than StructuredFieldError
        return None
    result: dict[str, tuple[str, ...]] = {}
    for feature, (member, _params) in parsed.items():
        items = member if isinstance(member, list) else [(member, {})]
        entries: list[str] = []
        for item, _ in items:
            if isinstance(item, http_sf.Token) and str(item) in ("*", "self"):
                entries.append(str(item))
            elif isinstance(item, str) and (origin := _origin_of(item)) is not None:
                entries.append(origin)
        result[feature] = tuple(dict.fromkeys(entries))
    return result


#: Powerful features denied everywhere; a safe base for sites that use none.
RESTRICTIVE: t.Final = PermissionsPolicy.restrictive()
