"""The distribution: a license, project URLs, an sdist that can be checked."""

from __future__ import annotations

import email.parser
import pathlib
import tarfile
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
flit_core = pytest.importorskip("flit_core.buildapi", reason="pip install -e '.[dev]'")


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> tarfile.TarFile:
    out = tmp_path_factory.mktemp("dist")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        name = flit_core.build_sdist(str(out))
    return tarfile.open(out / name)


def _members(sdist: tarfile.TarFile) -> set[str]:
    return {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}


def test_sdist_carries_tests_changes_and_license(sdist: tarfile.TarFile) -> None:
    members = _members(sdist)
    for path in (
        "LICENSE",
        "CHANGES.rst",
        "README.md",
        "pyproject.toml",
        "tests/conftest.py",
        "tests/test_packaging.py",
        "tests/browser/conftest.py",
        "docs/conf.py",
        "examples/security.py",
        "src/flask_header_policy/__init__.py",
        "src/flask_header_policy/owasp.json",
    ):
        assert path in members, path
    assert not [m for m in members if "__pycache__" in m or m.startswith("docs/_build")]


def test_metadata_names_license_urls_and_only_core_dependencies(
    sdist: tarfile.TarFile,
) -> None:
    (info,) = [m for m in sdist.getmembers() if m.name.endswith("/PKG-INFO")]
    file = sdist.extractfile(info)
    assert file is not None
    metadata = email.parser.Parser().parsestr(file.read().decode("utf-8"))
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata.get_all("License-File") == ["LICENSE"]
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert set(urls) == {"Documentation", "Changes", "Source", "Issues"}
    assert all(url.startswith("https://") for url in urls.values())
    runtime = [
        r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r
    ]
    assert runtime == ["flask>=3.1", "http-sf>=1.5"]


def test_license_is_bsd_3_clause() -> None:
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "Neither the name of the copyright holder" in text


def test_wheel_carries_the_license(tmp_path: pathlib.Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        name = flit_core.build_wheel(str(tmp_path))
    with zipfile.ZipFile(tmp_path / name) as wheel:
        names = wheel.namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert not [n for n in names if n.startswith("tests/")]
