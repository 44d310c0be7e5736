"""Flask-Talisman 1.1.0's own test module, run against the drop-in.

The module is taken from Flask-Talisman's sdist on PyPI at test time (it is
not part of this repository), its import line is rewritten to import
``flask_header_policy.talisman``, and it runs in a pytest subprocess. The
tests listed in :data:`MUST_DIFFER` check behaviour that is unsafe and that
the drop-in changes on purpose; the migration guide
(``docs/tutorials/talisman.rst``) lists them with the same reasons.

Needs PyPI, once: the verified sdist is kept in ``$XDG_CACHE_HOME`` (or
``~/.cache``) ``/flask-header-policy/``. ``HEADER_POLICY_OFFLINE=1`` skips
these tests instead of failing them when there is no network.
"""

from __future__ import annotations

import ast
import difflib
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from tests.downloads import pypi_sdist
from tests.downloads import read_member

VERSION = "1.1.0"
SDIST = f"flask-talisman-{VERSION}.tar.gz"
#: PyPI's digest of the sdist: what runs is what was published.
SDIST_SHA256 = "c5f486f5f54420729f84b3c3850cd63f96e8b033a9629bee66c524ea363797ff"
MODULE = f"flask-talisman-{VERSION}/flask_talisman/talisman_test.py"
THEIR_IMPORT = "from flask_talisman import ALLOW_FROM, DENY, NONCE_LENGTH, Talisman"
OUR_IMPORT = (
    "from flask_header_policy.talisman import ALLOW_FROM, DENY, NONCE_LENGTH, Talisman"
)
CLASS = "TestTalismanExtension"
#: The tests that must differ, and why (the migration guide's list).
MUST_DIFFER = {
    "testForceSslOptionOptions": "a plain-HTTP request with X-Forwarded-Proto:"
    " https from any client is served without the redirect",
    "testHstsOptions": "HSTS is sent on a plain-HTTP request that says"
    " X-Forwarded-Proto: https",
    "testBadEndpoint": "a plain-HTTP request that says X-Forwarded-Proto:"
    " https is not redirected",
}
GUIDE = pathlib.Path(__file__).parent.parent / "docs" / "tutorials" / "talisman.rst"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A folder holding Talisman's test module with only its import changed."""
    folder = tmp_path_factory.mktemp("talisman")
    sdist = pypi_sdist("flask-talisman", VERSION, SDIST, SDIST_SHA256, folder)
    original = read_member(sdist, MODULE).decode("utf-8")
    assert original.count(THEIR_IMPORT) == 1
    rewritten = original.replace(THEIR_IMPORT, OUR_IMPORT)
    changed = [
        line
        for line in difflib.unified_diff(
            original.splitlines(), rewritten.splitlines(), lineterm="", n=0
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == [f"-{THEIR_IMPORT}", f"+{OUR_IMPORT}"]
    (folder / "talisman_test.py").write_text(rewritten, encoding="utf-8")
    # A config of its own, so this repository's (warnings are errors) is not used.
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return folder


def their_tests(folder: pathlib.Path) -> set[str]:
    tree = ast.parse((folder / "talisman_test.py").read_text(encoding="utf-8"))
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == CLASS]
    return {
        n.name
        for n in cls.body
        if isinstance(n, ast.FunctionDef) and n.name.startswith("test")
    }


def run(folder: pathlib.Path, *args: str) -> tuple[int, dict[str, str], str]:
    """Run the module; return the exit code, each test's outcome, the output."""
    report = folder / "report.xml"
    report.unlink(missing_ok=True)
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
            f"--junitxml={report}", "talisman_test.py", *args,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = {child.tag for child in case} & {"failure", "error", "skipped"}
        outcomes[case.get("name", "")] = kinds.pop() if kinds else "passed"
    return result.returncode, outcomes, result.stdout + result.stderr


def test_talismans_own_tests_pass(upstream: pathlib.Path) -> None:
    names = their_tests(upstream)
    assert set(MUST_DIFFER) < names
    deselect = [
        arg
        for name in sorted(MUST_DIFFER)
        for arg in ("--deselect", f"talisman_test.py::{CLASS}::{name}")
    ]
    code, outcomes, output = run(upstream, *deselect)
    assert code == 0, output
    assert outcomes == dict.fromkeys(names - set(MUST_DIFFER), "passed"), output
    assert f"{len(MUST_DIFFER)} deselected" in output


def test_only_the_listed_tests_differ(upstream: pathlib.Path) -> None:
    code, outcomes, output = run(upstream)
    assert code == 1
    failed = {name for name, outcome in outcomes.items() if outcome != "passed"}
    assert failed == set(MUST_DIFFER), output
    for name in MUST_DIFFER:
        assert outcomes[name] == "failure"
        assert "X-Forwarded-Proto" in output or "302" in output


def test_migration_guide_lists_each_difference() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("How we know it is a drop-in") :]
    section = section[: section.index("What the drop-in does differently")]
    listed = re.findall(r"^    \* - ``(\w+)``$", section, re.M)
    assert listed == list(MUST_DIFFER)
    # The prose counts them too.
    assert len(MUST_DIFFER) == 3 and "these three" in section
