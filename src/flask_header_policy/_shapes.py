"""Wrong shapes get a ``TypeError`` that shows the expected one (sans-IO).

A layer's headers are a mapping of header name to value; a list of pairs,
a ``"Name: value"`` line or a bare decorator are common first tries, and
each gets a message that shows the mapping to write instead.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

_EXAMPLE = "{'X-Frame-Options': 'DENY'}"


def _as_mapping_text(pairs: list[tuple[str, str]]) -> str:
    body = ", ".join(f"{name!r}: {value!r}" for name, value in pairs[:3])
    more = ", ..." if len(pairs) > 3 else ""
    return "{" + body + more + "}"


def _hint(headers: object) -> str:
    """What the caller probably meant, as a mapping literal, or ``""``."""
    if isinstance(headers, str):
        lines = [line for line in headers.splitlines() if line.strip()]
        pairs = []
        for line in lines:
            name, colon, value = line.partition(":")
            if not colon or not name.strip():
                return ""
            pairs.append((name.strip(), value.strip()))
        return f"; write {_as_mapping_text(pairs)}" if pairs else ""
    if isinstance(headers, cabc.Iterable) and not isinstance(headers, bytes):
        try:
            items = list(t.cast("cabc.Iterable[object]", headers))
        except Exception:  # an odd iterable: no hint, the TypeError still says it
            return ""
        pairs = []
        for item in items:
            if not (isinstance(item, tuple | list) and len(item) == 2):
                return ""
            pairs.append((str(item[0]), str(item[1])))
        return f"; write {_as_mapping_text(pairs)}" if pairs else ""
    return ""


def check_headers_shape(headers: object, *, where: str) -> None:
    """Raise unless ``headers`` is a mapping (or ``None``).

    :param where: what declared it, as the message names it: ``"app"``,
        ``"HEADER_POLICY_HEADERS"``, ``"view 'index'"``.
    :raise TypeError: naming the expected shape, with the mapping to write
        when ``headers`` looks like pairs or ``"Name: value"`` lines.
    """
    if headers is None or isinstance(headers, cabc.Mapping):
        return
    raise TypeError(
        f"the headers of {where} must be a mapping of header name to value,"
        f" e.g. {_EXAMPLE}, not {type(headers).__name__} {_short(headers)}"
        f"{_hint(headers)}"
    )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
