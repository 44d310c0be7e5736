from __future__ import annotations

import json
import pathlib
import pickle
import typing as t
import warnings

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import flask_header_policy
from flask_header_policy.errors import InvalidHeaderError
from flask_header_policy.permissions import KNOWN_FEATURES
from flask_header_policy.permissions import parse_permissions_policy
from flask_header_policy.permissions import PermissionsPolicy
from flask_header_policy.permissions import RESTRICTIVE
from flask_header_policy.permissions import UnknownFeatureWarning

# The package ships its copy of OWASP's recommended headers (presets.py reads it).
OWASP = pathlib.Path(flask_header_policy.__file__).parent / "owasp.json"
OWASP_VALUE = (
    "accelerometer=(), autoplay=(), camera=(), cross-origin-isolated=(),"
    " display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(),"
    " gyroscope=(), keyboard-map=(), magnetometer=(), microphone=(), midi=(),"
    " payment=(), picture-in-picture=(), publickey-credentials-get=(),"
    " screen-wake-lock=(), sync-xhr=(self), usb=(), web-share=(),"
    " xr-spatial-tracking=(), clipboard-read=(), clipboard-write=(), gamepad=(),"
    " hid=(), idle-detection=(), interest-cohort=(), serial=(), unload=()"
)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"camera": []}, "camera=()"),
        ({"camera": ()}, "camera=()"),
        ({"fullscreen": "*"}, "fullscreen=*"),
        ({"fullscreen": ["*"]}, "fullscreen=*"),
        ({"geolocation": "self"}, "geolocation=(self)"),
        ({"payment": "https://pay.example"}, 'payment=("https://pay.example")'),
        (
            {"geolocation": ["self", "https://maps.example"]},
            'geolocation=(self "https://maps.example")',
        ),
        ({"usb": ["self", "self"]}, "usb=(self)"),
        ({"usb": ["https://a.example/"]}, 'usb=("https://a.example")'),
        ({"usb": ["https://*.example.com:8443"]}, 'usb=("https://*.example.com:8443")'),
        ({"usb": ["http://[::1]:5000"]}, 'usb=("http://[::1]:5000")'),
        (
            {
                "camera": [],
                "geolocation": ["self", "https://maps.example"],
                "fullscreen": "*",
            },
            'camera=(), geolocation=(self "https://maps.example"), fullscreen=*',
        ),
        ([("midi", ()), ("camera", "self")], "midi=(), camera=(self)"),
    ],
)
def test_to_header(policy: t.Any, expected: str) -> None:
    value = PermissionsPolicy(policy)
    assert value.to_header() == expected
    assert str(value) == expected
    assert PermissionsPolicy.from_header(expected) == value


def test_report_to() -> None:
    policy = PermissionsPolicy({"camera": (), "usb": "self"}, report_to="perm")
    header = 'camera=();report-to="perm", usb=(self);report-to="perm"'
    assert policy.to_header() == header
    assert PermissionsPolicy.from_header(header) == policy
    assert repr(policy) == (
        "PermissionsPolicy({'camera': [], 'usb': ['self']}, report_to='perm')"
    )


def test_face() -> None:
    policy = PermissionsPolicy({"camera": (), "fullscreen": "*"})
    assert PermissionsPolicy.header_name == "Permissions-Policy"
    assert repr(policy) == "PermissionsPolicy({'camera': [], 'fullscreen': ['*']})"
    assert policy["fullscreen"] == ("*",)
    assert "camera" in policy and "usb" not in policy
    assert list(policy) == ["camera", "fullscreen"] and len(policy) == 2
    assert dict(policy.features) == {"camera": (), "fullscreen": ("*",)}
    assert hash(policy) == hash(PermissionsPolicy({"camera": [], "fullscreen": ["*"]}))
    with pytest.raises(AttributeError):
        policy.report_to = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        policy.features["usb"] = ()  # type: ignore[index]
    assert pickle.loads(pickle.dumps(policy)) == policy
    wider = policy.with_feature("camera", "self")
    assert wider.to_header() == "camera=(self), fullscreen=*"
    assert policy.to_header() == "camera=(), fullscreen=*"


def test_restrictive() -> None:
    assert PermissionsPolicy.restrictive() == RESTRICTIVE
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert RESTRICTIVE[feature] == ()
    assert all(allowlist == () for allowlist in RESTRICTIVE.features.values())
    assert set(RESTRICTIVE) <= KNOWN_FEATURES


@pytest.mark.parametrize(
    ("policy", "names"),
    [
        ({}, "no features"),
        ({"Camera": ()}, "write 'camera'"),
        ({"camera!": ()}, "'camera!'"),
        ({"camera": None}, "None is ambiguous"),
        ({"camera": "none"}, "'none'"),
        ({"camera": "'none'"}, "empty allowlist"),
        ({"camera": "'self'"}, "without quotes"),
        ({"camera": "src"}, "<iframe allow>"),
        ({"camera": ["*", "self"]}, "* already allows every origin"),
        ({"camera": "example.com"}, "'example.com' is not *, self or an origin"),
        ({"camera": "https://a.example/path"}, "write 'https://a.example'"),
        ({"camera": "https://a.example?q"}, "has a path"),
        ({"camera": "https://exämple.com"}, "'ä' (U+00E4)"),
        ({"camera": 'https://a.example"'}, "is not *, self or an origin"),
        ({"camera": [1]}, "entries are str, not int"),
        ({"camera": 5}, "got 5"),
        ({1: ()}, "must be a str"),
    ],
)
def test_invalid(policy: t.Any, names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="Permissions-Policy") as info:
        PermissionsPolicy(policy)
    assert names in str(info.value)


@pytest.mark.parametrize("report_to", ["", "Perm", "a b", 5])
def test_invalid_report_to(report_to: t.Any) -> None:
    with pytest.raises(InvalidHeaderError, match="report_to"):
        PermissionsPolicy({"camera": ()}, report_to=report_to)


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("", "no features"),
        ("camera=(none)", "token 'none'"),
        ('camera="self"', "write the token self"),
        ('camera=("*")', "write the token *"),
        ("Camera=()", "'C'"),
        ('camera=("https://a/b")', "has a path"),
        ("camera", "True is not an allowlist"),
        ("camera=1", "1 is not an allowlist"),
        ("camera=(1)", "1 is not *, self or an origin String"),
        ("camera=(self;x)", "entries take no parameters"),
        ("camera=();foo=1", "parameter foo=1"),
        ("camera=();report-to=perm", "parameter report-to"),
        ("camera=(), camera=()", "'camera' is declared twice"),
        ("camera=(self", "End of inner list"),
        ("camera=(),", "not a structured-field dictionary"),
        ('camera=();report-to="a", usb=()', "report-to differs"),
        ("camera=()\r\n", "'\\r' (CR)"),
    ],
)
def test_from_header_invalid(value: str, names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="Permissions-Policy") as info:
        PermissionsPolicy.from_header(value)
    assert names in str(info.value)


def test_unknown_feature_warns() -> None:
    with pytest.warns(UnknownFeatureWarning, match="'camara'.*did you mean 'camera'"):
        policy = PermissionsPolicy({"camara": ()})
    assert policy.to_header() == "camara=()"
    with pytest.warns(UnknownFeatureWarning, match="'sync-xhr'"):
        PermissionsPolicy({"sync_xhr": ()})


def test_warning_points_at_caller() -> None:
    with pytest.warns(UnknownFeatureWarning) as record:
        PermissionsPolicy({"not-a-feature": ()})
        PermissionsPolicy.from_header("not-a-feature=()")
    assert [w.filename for w in record] == [__file__, __file__]


def test_proposed_features_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PermissionsPolicy(
            dict.fromkeys(
                ["clipboard-read", "clipboard-write", "gamepad", "unload", "sync-xhr"],
                (),
            )
        )


def test_owasp_value() -> None:
    """The OWASP value is accepted, rendered unchanged, and warns once: for
    interest-cohort (FLoC), which browsers no longer recognise."""
    value = json.loads(OWASP.read_text())["add"]["Permissions-Policy"]
    assert value == OWASP_VALUE
    with pytest.warns(UnknownFeatureWarning) as record:
        policy = PermissionsPolicy.from_header(value)
    assert len(record) == 1
    message = str(record[0].message)
    assert "'interest-cohort'" in message and "browsing-topics=()" in message
    assert policy.to_header() == value
    assert policy["sync-xhr"] == ("self",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("camera=()", {"camera": ()}),
        ("camera=*", {"camera": ("*",)}),
        ("camera=self", {"camera": ("self",)}),
        ('camera="https://a.example"', {"camera": ("https://a.example",)}),
        ("camera=(self *)", {"camera": ("self", "*")}),
        (
            'camera=(self "https://a.example/path" foo 1)',
            {"camera": ("self", "https://a.example")},
        ),
        ('camera=("not an origin")', {"camera": ()}),
        ("camera", {"camera": ()}),
        ("camera=*, camera=()", {"camera": ()}),
        ("camera=();report-to=x;y", {"camera": ()}),
        ("unknown=()", {"unknown": ()}),
        ("", {}),
        ("camera=(),", None),
        ("Camera=()", None),
        ("camera=(self", None),
        ("camera=()\x00", None),
        ('camera=("ü")', None),
        ('camera=("\u2603")', None),
    ],
)
def test_parse_lenient(value: str, expected: dict[str, tuple[str, ...]] | None) -> None:
    assert parse_permissions_policy(value) == expected


def test_parse_non_string() -> None:
    assert parse_permissions_policy(None) is None  # type: ignore[arg-type]
    assert parse_permissions_policy(b"camera=()") is None  # type: ignore[arg-type]


_entries = st.sampled_from(["self", "*", "https://a.example", "http://b.example:8080"])


@settings(deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(sorted(KNOWN_FEATURES)),
        st.lists(_entries, max_size=3).filter(lambda e: "*" not in e or e == ["*"]),
        min_size=1,
    ),
    st.none() | st.sampled_from(["perm", "default"]),
)
def test_round_trip(policy: dict[str, list[str]], report_to: str | None) -> None:
    value = PermissionsPolicy(policy, report_to=report_to)
    assert PermissionsPolicy.from_header(value.to_header()) == value
    assert parse_permissions_policy(value.to_header()) == dict(value.features)


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_parse_never_raises(value: str) -> None:
    result = parse_permissions_policy(value)
    assert result is None or isinstance(result, dict)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(["camera", "=", "(", ")", "self", "*", '"', ",", ";", " ", "a"])
    ).map("".join)
)
def test_parse_never_raises_near_grammar(value: str) -> None:
    result = parse_permissions_policy(value)
    assert result is None or isinstance(result, dict)
