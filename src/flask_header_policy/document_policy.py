"""Document-Policy: a typed, validated value object (WICG Document Policy).

The field is a Structured Field Dictionary (RFC 9651); its syntax is left to
:mod:`http_sf`. Each member configures one feature: a Boolean (a bare name is
true, ``?0`` false), an Integer, a Decimal, or a Token for an enumerated
value; a ``report-to`` parameter (a Token) names the Reporting-Endpoints
endpoint for that feature's violations, and the special member ``*`` carries
the default one. Browsers that do not know a feature skip it; browsers that
cannot parse the field ignore all of it. The same value serves
``Document-Policy-Report-Only``.

Sans-IO: nothing here imports Flask. :func:`parse_document_policy` is the
lenient reader (it never raises); :meth:`DocumentPolicy.from_header` is the
strict one.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import decimal
import math
import re
import types
import typing as t

import http_sf

from ._features import FeatureMap
from ._validate import check_value
from .errors import InvalidHeaderError

__all__ = ["DocumentPolicy", "FeatureValue", "parse_document_policy"]

_HEADER = "Document-Policy"
#: What a feature may be set to: a bool, an int, a float (a Decimal on the
#: wire), or a str naming an enumerated value (a Token on the wire).
FeatureValue = bool | int | float | str

# RFC 9651 key and token grammars.
_KEY_RE = re.compile(r"[a-z][a-z0-9_\-.*]*")
_TOKEN_RE = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_MAX_INTEGER = 999_999_999_999_999
_MAX_DECIMAL = 999_999_999_999.999


def _fail(reason: str) -> t.NoReturn:
    raise InvalidHeaderError(_HEADER, reason)


def _check_feature(name: object) -> str:
    if not isinstance(name, str):
        _fail(f"a feature name must be a str, not {type(name).__name__}")
    if name == "*":
        _fail("'*' is not a feature; give the default endpoint as report_to=")
    if not _KEY_RE.fullmatch(name):
        hint = f"; write {name.lower()!r}" if _KEY_RE.fullmatch(name.lower()) else ""
        _fail(
            f"feature {name!r} is not a structured-field key (lowercase letters,"
            f" digits and _-.*, starting with a letter){hint}"
        )
    return name


def _check_value(feature: str, value: object) -> FeatureValue:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_INTEGER:
            _fail(f"{feature}: {value} has more digits than an Integer (15)")
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > _MAX_DECIMAL:
            _fail(f"{feature}: {value!r} is not a structured-field Decimal")
        if round(value, 3) != value:
            _fail(
                f"{feature}: {value!r} has more than 3 decimal places, the most a"
                " structured-field Decimal carries"
            )
        return value
    if isinstance(value, str):
        if value in ("?0", "?1"):
            word = "False" if value == "?0" else "True"
            _fail(f"{feature}: {value!r} is the wire form of a Boolean; pass {word}")
        if not _TOKEN_RE.fullmatch(value):
            _fail(
                f"{feature}: {value!r} is not a Token (an enumerated value starts"
                " with a letter and has no spaces or quotes)"
            )
        return value
    _fail(
        f"{feature}: {value!r} is not a bool, an int, a float or a str (an"
        " enumerated value)"
    )


def _check_endpoint(where: str, endpoint: object) -> str:
    if not isinstance(endpoint, str) or not _TOKEN_RE.fullmatch(endpoint):
        _fail(
            f"{where}={endpoint!r} must name a Reporting-Endpoints endpoint (a"
            " Token, e.g. 'main'; 'none' turns reporting off for a feature)"
        )
    return endpoint


@dataclasses.dataclass(frozen=True, slots=True, init=False, repr=False)
class DocumentPolicy(FeatureMap[FeatureValue]):
    """An immutable, validated ``Document-Policy``.

    Map each feature to its value::

        DocumentPolicy(
            {"document-write": False, "oversized-images": 2.0},
            report_to="main",
        )
        # document-write=?0, oversized-images=2.0, *;report-to=main

    Equality follows the features, in order.

    :param policy: a mapping or ``(feature, value)`` pairs; a value is a
        ``bool``, an ``int``, a ``float`` (at most 3 decimal places) or a
        ``str`` naming an enumerated value.
    :param report_to: the default endpoint for every feature's reports (the
        ``*`` member).
    :param endpoints: a feature's own endpoint, overriding ``report_to``;
        ``"none"`` turns its reports off.
    :raise InvalidHeaderError: naming the feature and the value at fault.
    """

    header_name: t.ClassVar[str] = _HEADER
    _features: tuple[tuple[str, FeatureValue], ...]
    report_to: str | None
    _endpoints: tuple[tuple[str, str], ...]

    def __init__(
        self,
        policy: cabc.Mapping[str, FeatureValue]
        | cabc.Iterable[tuple[str, FeatureValue]] = (),
        /,
        *,
        report_to: str | None = None,
        endpoints: cabc.Mapping[str, str] | None = None,
    ) -> None:
        pairs = policy.items() if isinstance(policy, cabc.Mapping) else policy
        self._set(pairs, report_to, (endpoints or {}).items())

    def _set(
        self,
        pairs: cabc.Iterable[tuple[object, object]],
        report_to: object,
        endpoints: cabc.Iterable[tuple[object, object]],
    ) -> None:
        features: dict[str, FeatureValue] = {}
        for name, value in pairs:
            feature = _check_feature(name)
            if feature in features:
                _fail(f"feature {feature!r} is declared twice")
            features[feature] = _check_value(feature, value)
        own: dict[str, str] = {}
        for name, endpoint in endpoints:
            feature = _check_feature(name)
            if feature not in features:
                _fail(f"endpoints names {feature!r}, which the policy does not set")
            own[feature] = _check_endpoint(f"endpoints[{feature!r}]", endpoint)
        if report_to is not None:
            report_to = _check_endpoint("report_to", report_to)
        if not features:
            _fail("the policy has no features; declare at least one")
        object.__setattr__(self, "_features", tuple(features.items()))
        object.__setattr__(self, "report_to", report_to)
        object.__setattr__(self, "_endpoints", tuple(own.items()))

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read a value strictly with :mod:`http_sf`.

        :raise InvalidHeaderError: the value is not a structured-field
            dictionary, a feature repeats, a member is an inner list, a
            String or a Byte Sequence, or a parameter is not
            ``report-to=<token>``.
        """
        if not isinstance(value, str):
            _fail(f"from_header takes a str, not {type(value).__name__}")
        check_value(_HEADER, value)
        parsed = _parse(value, strict=True)
        if parsed is None:
            _fail("not a structured-field dictionary (RFC 9651)")
        pairs: list[tuple[str, object]] = []
        endpoints: list[tuple[str, object]] = []
        report_to: object = None
        for feature, (member, params) in parsed.items():
            for key, param in params.items():
                if key != "report-to" or not isinstance(param, http_sf.Token):
                    _fail(
                        f"{feature}: parameter {key}={param!r}; only report-to=<token>"
                    )
            endpoint = params.get("report-to")
            if feature == "*":
                if member is not True:
                    _fail("'*' takes no value, only ;report-to=<endpoint>")
                report_to = None if endpoint is None else str(endpoint)
                continue
            pairs.append((feature, _from_item(feature, member)))
            if endpoint is not None:
                endpoints.append((feature, str(endpoint)))
        new = object.__new__(cls)
        new._set(pairs, report_to, endpoints)
        return new

    @property
    def endpoints(self) -> cabc.Mapping[str, str]:
        """A read-only ``feature -> endpoint`` view of the features' own endpoints."""
        return types.MappingProxyType(dict(self._endpoints))

    def with_feature(self, feature: str, value: FeatureValue) -> t.Self:
        """Return a copy where ``feature`` has ``value`` (kept in place if set)."""
        new = object.__new__(type(self))
        features = {**dict(self._features), feature: value}
        new._set(features.items(), self.report_to, self._endpoints)
        return new

    def to_header(self) -> str:
        """Render the field value with :func:`http_sf.ser`."""
        own = dict(self._endpoints)
        members: dict[str, t.Any] = {}
        for feature, value in self._features:
            params = {}
            if feature in own:
                params["report-to"] = http_sf.Token(own[feature])
            item: t.Any = http_sf.Token(value) if isinstance(value, str) else value
            if isinstance(value, float):
                item = decimal.Decimal(repr(value))
            members[feature] = (item, params)
        if self.report_to is not None:
            members["*"] = (True, {"report-to": http_sf.Token(self.report_to)})
        return check_value(_HEADER, http_sf.ser(members))

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        extra = f", report_to={self.report_to!r}" if self.report_to else ""
        if self._endpoints:
            extra += f", endpoints={dict(self._endpoints)!r}"
        return f"{type(self).__name__}({dict(self._features)!r}{extra})"


def _from_item(feature: str, item: object) -> object:
    if isinstance(item, list):
        _fail(f"{feature}: an inner list is not a feature value")
    if isinstance(item, http_sf.Token):
        return str(item)
    if isinstance(item, decimal.Decimal):
        return float(item)
    if isinstance(item, bool | int):
        return item
    _fail(f"{feature}: {item!r} is not a Boolean, Integer, Decimal or Token")


def _parse(value: str, *, strict: bool) -> dict[str, t.Any] | None:
    def duplicate(key: str, context: str) -> None:
        _fail(f"feature {key!r} is declared twice (browsers keep the last)")

    try:
        return t.cast(
            "dict[str, t.Any]",
            http_sf.parse(
                value.encode("latin-1"),
                tltype="dictionary",
                on_duplicate_key=duplicate if strict else None,
            ),
        )
    except InvalidHeaderError:
        raise
    except Exception:  # http_sf may raise more than StructuredFieldError
        return None


def parse_document_policy(value: str) -> dict[str, FeatureValue] | None:
    """Read a value as a browser does; never raises.

    Returns ``None`` when the value is not a structured-field dictionary
    (browsers then ignore the whole header); otherwise each feature with a
    usable value (inner lists, Strings and Byte Sequences are skipped), the
    ``*`` member left out.

    :param value: the field value as received.
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = _parse(value, strict=False)
    except Exception:
        return None
    if parsed is None:
        return None
    result: dict[str, FeatureValue] = {}
    for feature, (member, _params) in parsed.items():
        if feature == "*" or isinstance(member, list):
            continue
        if isinstance(member, http_sf.Token):
            result[feature] = str(member)
        elif isinstance(member, decimal.Decimal):
            result[feature] = float(member)
        elif isinstance(member, bool | int):
            result[feature] = member
    return result
