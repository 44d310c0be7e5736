"""Structured Field (RFC 9651) conformance, through http_sf and our parsers.

``data/structured_field_tests.json`` holds a selection of the official
vectors from httpwg/structured-field-tests; the tables below add RFC 9651
rules applied to the headers we build on it.
"""

from __future__ import annotations

import json
import pathlib
import typing as t
import warnings

import http_sf
import pytest

from flask_header_policy.cross_origin import CrossOriginEmbedderPolicy
from flask_header_policy.cross_origin import CrossOriginOpenerPolicy
from flask_header_policy.cross_origin import parse_coep
from flask_header_policy.cross_origin import parse_coop
from flask_header_policy.errors import InvalidHeaderError
from flask_header_policy.permissions import parse_permissions_policy
from flask_header_policy.permissions import PermissionsPolicy
from flask_header_policy.permissions import UnknownFeatureWarning
from flask_header_policy.reporting import parse_reporting_endpoints
from flask_header_policy.reporting import ReportingEndpoints

_DATA = pathlib.Path(__file__).parent / "data" / "structured_field_tests.json"
VECTORS: list[dict[str, t.Any]] = json.loads(_DATA.read_text("utf-8"))["tests"]


def _ids(vectors: list[dict[str, t.Any]]) -> list[str]:
    return [f"{v['file']}:{v['name']}" for v in vectors]


def _field(vector: dict[str, t.Any]) -> str:
    # RFC 9110 §5.3: several field lines combine into one value joined by ", ".
    return ", ".join(vector["raw"])


DICTIONARIES = [v for v in VECTORS if v["header_type"] == "dictionary"]
ITEMS = [v for v in VECTORS if v["header_type"] == "item"]


def test_vectors_cover_every_kind() -> None:
    kinds = {(v["header_type"], bool(v.get("must_fail"))) for v in VECTORS}
    assert kinds == {(k, f) for k in ("dictionary", "list", "item") for f in (0, 1)}


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_http_sf_parse(vector: dict[str, t.Any]) -> None:
    raw = _field(vector).encode("utf-8")
    if vector.get("must_fail"):
        with pytest.raises(http_sf.StructuredFieldError):
            http_sf.parse(raw, tltype=vector["header_type"])
        return
    parsed = http_sf.parse(raw, tltype=vector["header_type"])
    assert json.loads(http_sf.to_json(parsed)) == vector["expected"]
    canonical = vector.get("canonical", vector["raw"])
    if not canonical:  # an empty Dictionary or List: the field is not sent
        with pytest.raises(ValueError, match="should not be emitted"):
            http_sf.ser(parsed)
    else:
        assert http_sf.ser(parsed) == ", ".join(canonical)


@pytest.mark.parametrize("vector", DICTIONARIES, ids=_ids(DICTIONARIES))
def test_lenient_dictionary_parsers(vector: dict[str, t.Any]) -> None:
    """Our lenient readers reject exactly what RFC 9651 rejects."""
    value = _field(vector)
    policy = parse_permissions_policy(value)
    endpoints = parse_reporting_endpoints(value)
    if vector.get("must_fail"):
        assert policy is None and endpoints is None
        return
    assert policy is not None and endpoints is not None
    assert list(policy) == list(vector["expected"])
    assert set(endpoints) <= set(vector["expected"])


@pytest.mark.parametrize("vector", DICTIONARIES, ids=_ids(DICTIONARIES))
def test_strict_dictionary_parsers(vector: dict[str, t.Any]) -> None:
    """Strict readers raise InvalidHeaderError, never anything else, and
    accept only what the lenient reader reads the same way."""
    value = _field(vector)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownFeatureWarning)
        try:
            policy = PermissionsPolicy.from_header(value)
        except InvalidHeaderError:
            pass
        else:
            assert not vector.get("must_fail")
            assert dict(policy.features) == parse_permissions_policy(value)
    with pytest.raises(InvalidHeaderError):
        # None of the vectors holds a String URL.
        ReportingEndpoints.from_header(value)


@pytest.mark.parametrize("vector", ITEMS, ids=_ids(ITEMS))
def test_item_parsers(vector: dict[str, t.Any]) -> None:
    value = _field(vector)
    assert parse_coop(value) is None
    assert parse_coep(value) is None
    for cls in (CrossOriginOpenerPolicy, CrossOriginEmbedderPolicy):
        with pytest.raises(InvalidHeaderError):
            cls.from_header(value)


# RFC 9651 rules applied to Permissions-Policy: (field lines, parsed, canonical).
PERMISSIONS = [
    (
        ["camera=()", "usb=(self)"],
        {"camera": (), "usb": ("self",)},
        "camera=(), usb=(self)",
    ),
    (["camera=(),usb=*"], {"camera": (), "usb": ("*",)}, "camera=(), usb=*"),
    (["camera=()\t,\tusb=*"], {"camera": (), "usb": ("*",)}, "camera=(), usb=*"),
    (["camera=()  ,  usb=*"], {"camera": (), "usb": ("*",)}, "camera=(), usb=*"),
    (
        ['camera=(  self   "https://a.example"  )'],
        {"camera": ("self", "https://a.example")},
        'camera=(self "https://a.example")',
    ),
    (['camera=();report-to="r"'], {"camera": ()}, 'camera=();report-to="r"'),
    (['camera=*;report-to="r"'], {"camera": ("*",)}, 'camera=*;report-to="r"'),
    (["camera=self"], {"camera": ("self",)}, "camera=(self)"),
]


@pytest.mark.parametrize(("lines", "parsed", "canonical"), PERMISSIONS)
def test_permissions_policy_syntax(
    lines: list[str], parsed: dict[str, tuple[str, ...]], canonical: str
) -> None:
    value = ", ".join(lines)
    assert parse_permissions_policy(value) == parsed
    policy = PermissionsPolicy.from_header(value)
    assert policy.to_header() == canonical
    assert PermissionsPolicy.from_header(canonical) == policy


@pytest.mark.parametrize(
    "value",
    [
        "camera = ()",  # no whitespace around "=" (RFC 9651 §3.2)
        "camera=(self,usb)",  # inner list items are separated by spaces only
        "camera=(self\tusb)",
        'camera=();report-to ="r"',
        'camera=() ;report-to="r"',
        "camera=(),",
        "camera=(),,usb=()",
        "camera=(self",
        "camera=('self')",
        "-camera=()",
        'camera=("https://a.example\\x")',  # only \" and \\ escape in a String
    ],
)
def test_permissions_policy_rejects(value: str) -> None:
    assert parse_permissions_policy(value) is None
    with pytest.raises(InvalidHeaderError, match="not a structured-field dictionary"):
        PermissionsPolicy.from_header(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('default="https://r.example/x"', {"default": "https://r.example/x"}),
        ('a="/a",b="/b"', {"a": "/a", "b": "/b"}),
        ('a="/a";weight=2', {"a": "/a"}),
        ('a="/\\"q\\""', None),  # a valid String holding an invalid URL
        ('a="/a", a="/b"', {"a": "/b"}),  # duplicate keys: the last wins
        ("a='/a'", None),
        ('a="/a" , b="/b"', {"a": "/a", "b": "/b"}),
    ],
)
def test_reporting_endpoints_syntax(
    value: str, expected: dict[str, str] | None
) -> None:
    parsed = parse_reporting_endpoints(value)
    if expected is None:
        assert not parsed
    else:
        assert parsed == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("same-origin", CrossOriginOpenerPolicy.SAME_ORIGIN),
        ("   same-origin", CrossOriginOpenerPolicy.SAME_ORIGIN),
        ('same-origin;report-to="e"', CrossOriginOpenerPolicy.SAME_ORIGIN),
        ('same-origin; report-to="e"', CrossOriginOpenerPolicy.SAME_ORIGIN),
        ('same-origin ;report-to="e"', None),  # no space before ";"
        ("same-origin;report-to", CrossOriginOpenerPolicy.SAME_ORIGIN),
        ("(same-origin)", None),  # an Inner List is not an Item
        ("same-origin, same-origin", None),  # nor is a List
        ("?1", None),
    ],
)
def test_coop_item_syntax(value: str, expected: CrossOriginOpenerPolicy | None) -> None:
    assert parse_coop(value) is expected
