"""Pin the public API: what ``import flask_header_policy`` offers by name."""

from __future__ import annotations
import __future__

import types

import flask_header_policy

#: Every public name of the package. Update this set, on purpose, when the
#: public API grows (builders, presets) or shrinks.
EXPORTED = {
    # The extension and how a header is declared.
    "HeaderPolicy",
    "Header",
    "HeaderValue",
    "Mode",
    "append",
    "force",
    "only_for",
    "remove",
    "InvalidHeaderError",
    # Per-request parts.
    "csp_nonce",
    "NonceUnavailableError",
    "CookiePolicy",
    "HTTPSRedirect",
    "Preset",
    "PRESETS",
    "UnknownConfigKeyWarning",
    "HeaderNameWarning",
    # Templates: trust one Markup value built in Python.
    "trust_scripts",
    # Typed builders.
    "CacheControl",
    "ContentDisposition",
    "ContentSecurityPolicy",
    "CrossOriginEmbedderPolicy",
    "CrossOriginOpenerPolicy",
    "CrossOriginResourcePolicy",
    "DocumentPolicy",
    "PermissionsPolicy",
    "ReferrerPolicy",
    "ReportingEndpoints",
    "StrictTransportSecurity",
    "UnknownFeatureWarning",
    "XContentTypeOptions",
    "XFrameOptions",
    "hash_source",
    # CSP keyword constants (plain str).
    "NONCE",
    "NONE",
    "REPORT_SAMPLE",
    "SELF",
    "STRICT_DYNAMIC",
    "TRUSTED_TYPES_EVAL",
    "UNSAFE_ALLOW_REDIRECTS",
    "UNSAFE_EVAL",
    "UNSAFE_HASHES",
    "UNSAFE_INLINE",
    "WASM_UNSAFE_EVAL",
}


def public_names() -> set[str]:
    """Public names, minus submodules and the ``__future__`` import."""
    names = set()
    for name in dir(flask_header_policy):
        value = getattr(flask_header_policy, name)
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if value is __future__.annotations:
            continue
        names.add(name)
    return names


def test_exported_names() -> None:
    assert public_names() == EXPORTED


def test_all_matches_when_present() -> None:
    declared = getattr(flask_header_policy, "__all__", None)
    if declared is not None:
        assert sorted(declared) == sorted(EXPORTED)


def test_exported_objects_are_our_own() -> None:
    # Re-exports come from the package's modules, never from Flask or typing.
    for name in EXPORTED:
        value = getattr(flask_header_policy, name)
        if type(value) is str:
            assert value == getattr(flask_header_policy.csp, name)
            continue
        if name == "PRESETS":  # a read-only mapping, not a class or function
            assert value is flask_header_policy.presets.PRESETS
            continue
        module = value.__module__
        assert module.startswith("flask_header_policy."), (name, module)


#: The public names of ``flask_header_policy.audit``.
AUDIT_EXPORTED = {
    "ALGORITHMS",
    "Blocked",
    "DEFAULT_ALGORITHM",
    "Finding",
    "GradeResult",
    "SCORE_TABLE",
    "Severity",
    "TEST_NAMES",
    "TestResult",
    "compare_nonces",
    "curve",
    "grade_for_score",
    "grade_response",
    "passes",
}


def test_audit_exported_names() -> None:
    from flask_header_policy import audit

    names = {
        name
        for name in dir(audit)
        if not name.startswith("_")
        and not isinstance(getattr(audit, name), types.ModuleType)
        and getattr(audit, name) is not __future__.annotations
    }
    assert names == AUDIT_EXPORTED
