"""The ``HEADER_POLICY_*`` config keys: known names, and values from the
environment (``app.config.from_prefixed_env()`` gives strings).

Sans-IO: reads a plain mapping, imports no Flask.
"""

from __future__ import annotations

import collections.abc as cabc
import difflib
import sys
import warnings

#: Every config key the extension reads. A key that starts with
#: ``HEADER_POLICY_`` and is not here warns (a typo would be ignored).
CONFIG_KEYS: frozenset[str] = frozenset(
    {
        "HEADER_POLICY_HEADERS",
        "HEADER_POLICY_PRESET",
        "HEADER_POLICY_HSTS_ONLY_SECURE",
        "HEADER_POLICY_COOKIES",
        "HEADER_POLICY_HTTPS_REDIRECT",
        "HEADER_POLICY_STAMP_NONCES",
        # The report collector's (policy.collect_reports).
        "HEADER_POLICY_REPORTS_URL",
        "HEADER_POLICY_REPORTS_GROUP",
        "HEADER_POLICY_REPORTS_DATABASE",
        "HEADER_POLICY_REPORTS_ENGINE_OPTIONS",
        "HEADER_POLICY_REPORTS_WIRE",
        "HEADER_POLICY_REPORTS_RATE",
        "HEADER_POLICY_REPORTS_BURST",
        "HEADER_POLICY_REPORTS_MAX_CLIENTS",
        "HEADER_POLICY_REPORTS_SAMPLE",
        "HEADER_POLICY_REPORTS_MAX_NEW_FINGERPRINTS",
        "HEADER_POLICY_REPORTS_QUEUE_SIZE",
        "HEADER_POLICY_REPORTS_HOSTS",
        "HEADER_POLICY_REPORTS_DASHBOARD",
        "HEADER_POLICY_REPORTS_DASHBOARD_URL",
        "HEADER_POLICY_REPORTS_ENFORCE_DAYS",
        "HEADER_POLICY_REPORTS_ENFORCE_REPORTS",
    }
)
PREFIX = "HEADER_POLICY_"

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


class UnknownConfigKeyWarning(UserWarning):
    """An app config key starts with ``HEADER_POLICY_`` but is not one the
    extension reads (a typo, most likely); it is ignored."""


def warn_unknown_keys(config: cabc.Mapping[str, object]) -> None:
    """Warn once per unknown ``HEADER_POLICY_*`` key, with the closest known
    key when there is one."""
    for key in config:
        if not isinstance(key, str) or not key.startswith(PREFIX):
            continue
        if key in CONFIG_KEYS:
            continue
        close = difflib.get_close_matches(key, sorted(CONFIG_KEYS), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        known = ", ".join(sorted(CONFIG_KEYS))
        warnings.warn(
            f"unknown config key {key!r} is ignored{hint} (the keys are {known})",
            UnknownConfigKeyWarning,
            stacklevel=outside_package(),
        )


def outside_package() -> int:
    """The ``stacklevel`` of the first caller outside this package (the
    app's ``HeaderPolicy(app)`` or ``init_app(app)`` line)."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(
        "flask_header_policy"
    ):
        frame = frame.f_back
        level += 1
    return level


def config_bool(key: str, value: object) -> bool:
    """A boolean setting, also when it comes from the environment as text.

    :raise ValueError: a string or number that is not a boolean spelling.
    :raise TypeError: any other type.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    if isinstance(value, str | int):
        raise ValueError(
            f"{key}={value!r} is not a boolean: write true/false, 1/0 or"
            " yes/no (any case)"
        )
    raise TypeError(f"{key} must be a bool, not {type(value).__name__} {value!r}")


def bool_word(value: object) -> bool | None:
    """``True``/``False`` for a boolean spelling (``"yes"``, ``"0"``,
    ``True``...), else ``None``."""
    try:
        return config_bool("", value)
    except (TypeError, ValueError):
        return None
