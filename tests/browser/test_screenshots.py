"""``make screenshots`` (docs/screenshots.py) renders legible PNGs."""

from __future__ import annotations

import pathlib
import runpy
import struct
import typing as t

import pytest

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = pathlib.Path(__file__).resolve().parents[2]


def png_size(path: pathlib.Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.browser
def test_screenshots(tmp_path: pathlib.Path, browser: Browser) -> None:
    script = runpy.run_path(str(ROOT / "docs" / "screenshots.py"))
    report = script["report_html"]()
    assert "docs/examples/audit_demo.py" in report and "/legacy" in report
    shown = script["show_html"]()
    assert "blueprint:api" in shown and "<svg" in shown
    shoot = script["shoot"]
    shoot(browser, report, tmp_path / "report.png", width=1100, height=1500)
    shoot(browser, shown, tmp_path / "show.png", width=1400, selector="svg")
    assert png_size(tmp_path / "report.png") == (1100, 1500)
    width, height = png_size(tmp_path / "show.png")
    assert 800 < width <= 1400 and 300 < height < 1000
