"""The one error the project raises for a bad header declaration."""

from __future__ import annotations

import typing as t


class InvalidHeaderError(ValueError):
    """A header name or value cannot be sent as declared.

    The message names the header, shows the offending character or token
    (escaped) and says which layer declared it, for example::

        Invalid value for header 'X-Custom' declared by blueprint 'api':
        control character '\\r' at index 5 (CR, LF, NUL and other control
        characters could split or corrupt the response)

    :param header: the header name as declared.
    :param reason: what is wrong, in one sentence.
    :param layer: where it was declared: ``"app"``, ``"blueprint 'name'"``,
        ``"view 'endpoint'"``; ``None`` when it is not known yet.
    :param part: ``"name"`` or ``"value"``.
    """

    def __init__(
        self,
        header: str,
        reason: str,
        *,
        layer: str | None = None,
        part: str = "value",
    ) -> None:
        self.header = header
        self.reason = reason
        self.layer = layer
        self.part = part
        super().__init__(self._message())

    def _message(self) -> str:
        where = f" declared by {self.layer}" if self.layer else ""
        return f"Invalid {self.part} for header {self.header!r}{where}: {self.reason}"

    def with_layer(self, layer: str) -> InvalidHeaderError:
        """Return a copy that names the layer, unless one is named already."""
        if self.layer is not None:
            return self
        return type(self)(self.header, self.reason, layer=layer, part=self.part)

    def __reduce__(self) -> tuple[t.Any, ...]:
        return (_rebuild, (type(self), self.header, self.reason, self.layer, self.part))


def _rebuild(
    cls: type[InvalidHeaderError],
    header: str,
    reason: str,
    layer: str | None,
    part: str,
) -> InvalidHeaderError:
    return cls(header, reason, layer=layer, part=part)
