"""The benchmarks' apps send what their rows claim (nothing is timed here).

Every row is checked as ``overhead.py`` and ``instructions.py`` check it
before measuring; the floor must send exactly the strict preset's headers.
"""

from __future__ import annotations

import collections.abc as cabc
import importlib.util
import sys
import typing as t
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def apps() -> cabc.Iterator[t.Any]:
    pytest.importorskip("flask_talisman")
    pytest.importorskip("secure")
    # By path, under a name of its own: tests/apps is another "apps".
    spec = importlib.util.spec_from_file_location(
        "benchmark_apps", BENCHMARKS / "apps.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmark_apps"] = module  # dataclasses look it up
    sys.path.insert(0, str(BENCHMARKS))  # for its "from floor import ..."
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))
        del sys.modules["benchmark_apps"]


def test_every_row_sends_what_it_claims(apps: t.Any) -> None:
    cases = apps.cases()
    assert [case.name for case in cases] == list(apps.ROWS)
    problems = apps.check_all(cases)
    assert {name: found for name, found in problems.items() if found} == {}
    by_name = {case.name: case for case in cases}
    for route in ("/", "/page", "/json"):
        floor = by_name[f"floor (by hand) {route}"]
        assert floor.same_as == f"strict {route}"
        assert apps.same_headers(floor, by_name[floor.same_as]) == []


def test_a_floor_that_differs_is_caught(apps: t.Any) -> None:
    strict, floor = apps.cases(["floor (by hand) /json"])[1:]
    apps.check_all([strict, floor])
    floor.sent = [h for h in floor.sent if h[0] != "X-Frame-Options"]
    assert apps.same_headers(floor, strict)
