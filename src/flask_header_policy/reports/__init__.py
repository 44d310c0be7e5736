"""Violation reports: collect them, store them, understand them, fix the policy.

Install with ``policy.collect_reports(app)``
(:meth:`~flask_header_policy.HeaderPolicy.collect_reports`); read with
``flask headers reports`` and ``flask headers suggest``.

The modules: :mod:`.collect` reads and normalises reports (sans-IO),
:mod:`.limits` bounds what clients can make it do, :mod:`.wiring` points the
policy at the collector, :mod:`.store` and :mod:`.writer` keep them (SQLAlchemy
Core, the ``reports`` extra), :mod:`.suggest` turns them into changes of the
declarations, :mod:`.cli` and :mod:`.dashboard` show them.

Importing this package does not import SQLAlchemy: :class:`ReportStore` is
loaded on first use, and the collector imports it when it is installed.
"""

from __future__ import annotations

import typing as t

from .collect import MAX_BODY as MAX_BODY
from .collect import RawReport as RawReport
from .collect import read_reports as read_reports
from .collect import Report as Report
from .collect import ReportError as ReportError
from .collector import ReportCollector as ReportCollector

if t.TYPE_CHECKING:
    from .store import ReportStore as ReportStore

__all__ = [
    "MAX_BODY",
    "RawReport",
    "Report",
    "ReportCollector",
    "ReportError",
    "ReportStore",
    "read_reports",
]

_LAZY = {"ReportStore": ".store"}


def __getattr__(name: str) -> t.Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
