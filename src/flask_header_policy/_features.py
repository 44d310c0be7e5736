"""What Permissions-Policy and Document-Policy share: features as a mapping.

Both are RFC 9651 dictionaries of features, kept as ``(feature, value)``
pairs in declaration order; :class:`FeatureMap` reads them as a read-only
mapping.
"""

from __future__ import annotations

import collections.abc as cabc
import types
import typing as t

V = t.TypeVar("V")


class FeatureMap(t.Generic[V]):
    """A read-only ``feature -> value`` mapping over ``_features``."""

    __slots__ = ()
    _features: tuple[tuple[str, V], ...]

    @property
    def features(self) -> cabc.Mapping[str, V]:
        """A read-only ``feature -> value`` view, in declaration order."""
        return types.MappingProxyType(dict(self._features))

    def __getitem__(self, feature: str) -> V:
        return self.features[feature]

    def __contains__(self, feature: object) -> bool:
        return feature in self.features

    def __iter__(self) -> cabc.Iterator[str]:
        return (name for name, _ in self._features)

    def __len__(self) -> int:
        return len(self._features)
