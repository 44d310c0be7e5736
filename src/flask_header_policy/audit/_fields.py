"""Header fields as the audit reads them, from whatever the caller passes.

The grader receives ``(name, value)`` pairs with repeated fields kept. It
looks them up by lower-cased name and, where the Observatory reads one
combined value, joins repeated fields with ``", "`` as an HTTP client does
(RFC 9110 §5.3). Malformed entries are skipped: the audit never raises.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from ._decode import decode_text

__all__ = ["Fields", "collect", "decode_body", "is_text"]

_WS = " \t"


class Fields:
    """Response header fields by lower-cased name, values in order."""

    __slots__ = ("_by_name", "pairs")

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        #: every well-formed ``(name, value)`` pair, values trimmed.
        self.pairs = pairs
        self._by_name: dict[str, list[str]] = {}
        for name, value in pairs:
            self._by_name.setdefault(name.lower(), []).append(value)

    def all(self, name: str) -> list[str]:
        """Every value of ``name``, in order (empty when absent)."""
        return list(self._by_name.get(name.lower(), ()))

    def has(self, name: str) -> bool:
        """Whether at least one ``name`` field is present."""
        return name.lower() in self._by_name

    def first(self, name: str) -> str | None:
        """The first value of ``name``, or ``None``."""
        values = self._by_name.get(name.lower())
        return values[0] if values else None

    def joined(self, name: str) -> str | None:
        """All values of ``name`` joined with ``", "``, or ``None``."""
        values = self._by_name.get(name.lower())
        return ", ".join(values) if values else None


def collect(headers: object) -> Fields:
    """Build :class:`Fields` from pairs, a mapping or Werkzeug ``Headers``.

    Anything that is not a two-item pair of strings is skipped.
    """
    pairs: list[tuple[str, str]] = []
    try:
        items: t.Any
        if isinstance(headers, cabc.Mapping):
            items = headers.items()
        elif hasattr(headers, "to_wsgi_list"):
            items = headers.to_wsgi_list()
        else:
            items = headers
        for item in items:
            if (
                isinstance(item, tuple | list)
                and len(item) == 2
                and isinstance(item[0], str)
                and isinstance(item[1], str)
            ):
                pairs.append((item[0].strip(_WS), item[1].strip(_WS)))
    except Exception:  # noqa: BLE001 - an odd iterable must not break the audit
        pass
    return Fields(pairs)


def decode_body(body: object, content_type: str | None) -> str | None:
    """Return ``body`` as text, decoded with the Content-Type charset.

    Only WHATWG encoding labels are honoured (see
    :func:`~._decode.decode_text`): any other label, and a missing one, mean
    UTF-8 with replacement characters, so the cost stays linear whatever the
    label. ``None`` if there is no usable body.
    """
    if isinstance(body, str):
        return body
    if not isinstance(body, bytes | bytearray | memoryview):
        return None
    return decode_text(bytes(body), content_type)


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# How much of a body is looked at: binary data shows itself early.
_SNIFF = 4096


def is_text(body: object, content_type: str | None) -> bool:
    """Whether ``body`` is text an HTML parser can read at all.

    ``False`` when the start of the body, decoded as the Content-Type (or a
    byte order mark) says, holds a NUL character: an image, compressed bytes
    sent without ``Content-Encoding``, and other binary data do; HTML does
    not. An empty or missing body is text.
    """
    if isinstance(body, str):
        return "\x00" not in body[:_SNIFF]
    if not isinstance(body, bytes | bytearray | memoryview):
        return True
    head = bytes(body[: _SNIFF * 4])
    for bom, codec in _BOMS:
        if head.startswith(bom):
            text = head[len(bom) :].decode(codec, errors="replace")
            return "\x00" not in text[:_SNIFF]
    text = decode_body(head, content_type) or ""
    return "\x00" not in text[:_SNIFF]
