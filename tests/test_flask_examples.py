"""Flask's own example apps keep their own test suites green under ``strict``.

Flask 3.1.3's sdist (PyPI, verified and cached: ``tests/apps/flask_examples.py``)
ships two apps with their tests: ``examples/tutorial`` (flaskr: register, log
in, write, edit and delete posts, SQLite) and ``examples/javascript``
(js_example: a JSON view called by fetch, XHR and jQuery). Each suite runs,
unedited, in a pytest subprocess with ``-p tests.apps.strict_install``, which
installs ``HeaderPolicy(app, preset="strict")`` in the app's factory
(flaskr) or on its module-level app (js_example) before their
``conftest.py`` imports it. That plugin records every response the apps
sent, so the test also shows that the strict policy answered their
requests: a nonce-based CSP on each HTML page, the locked one on the rest.

Needs PyPI once; ``HEADER_POLICY_OFFLINE=1`` skips instead of failing.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import typing as t
import xml.etree.ElementTree as ET

import pytest
from tests.apps.flask_examples import examples
from tests.apps.flask_examples import JAVASCRIPT
from tests.apps.flask_examples import TUTORIAL

from flask_header_policy.presets import LOCKED_CSP

ROOT = pathlib.Path(__file__).parent.parent
#: The app each example's tests import, and how many tests each suite has
#: (so that a suite that collects nothing cannot pass).
SUITES = {TUTORIAL: ("flaskr", 24), JAVASCRIPT: ("js_example", 8)}
STRICT_PAGE = re.compile(
    r"^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/_=-]{22,}' 'strict-dynamic';"
    r" style-src 'self' 'nonce-[A-Za-z0-9+/_=-]{22,}'; img-src 'self' data:;"
)


@pytest.fixture(scope="module")
def flask_examples(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return examples(tmp_path_factory.mktemp("flask-examples"))


def run_suite(
    folder: pathlib.Path, example: str, mode: str
) -> tuple[int, dict[str, str], str, dict[str, t.Any]]:
    """Run the example's own tests from its folder (its own pytest config).

    :param mode: ``HEADER_POLICY_MODE`` for the plugin.
    :return: the exit code, each test's outcome, the output, and what the
        plugin recorded.
    """
    report = folder / "report.xml"
    record = folder / "responses.json"
    report.unlink(missing_ok=True)
    record.unlink(missing_ok=True)
    env = {
        **os.environ,
        # The example's folder stands for its `pip install -e .`; the
        # repository root makes the plugin importable.
        "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
        "HEADER_POLICY_EXAMPLE": example,
        "HEADER_POLICY_MODE": mode,
        "HEADER_POLICY_RECORD": str(record),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         f"--junitxml={report}", "-p", "tests.apps.strict_install"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = {child.tag for child in case} & {"failure", "error", "skipped"}
        name = f"{case.get('classname')}::{case.get('name')}"
        outcomes[name] = kinds.pop() if kinds else "passed"
    recorded = json.loads(record.read_text(encoding="utf-8"))
    return result.returncode, outcomes, result.stdout + result.stderr, recorded


@pytest.mark.parametrize("mode", ["stamped", "unstamped"])
@pytest.mark.parametrize("name", list(SUITES))
def test_their_suite_passes_under_strict(
    flask_examples: pathlib.Path, name: str, mode: str
) -> None:
    example, count = SUITES[name]
    code, outcomes, output, recorded = run_suite(flask_examples / name, example, mode)
    assert code == 0, output
    assert len(outcomes) == count, output
    assert set(outcomes.values()) == {"passed"}, outcomes

    # The policy answered their requests: every response they made left
    # through it, with the strict CSP of its kind.
    assert recorded["apps"] >= 1
    responses = recorded["responses"]
    assert isinstance(responses, list) and len(responses) >= count // 2
    pages = 0
    for response in responses:
        (csp,) = response["csp"]
        if (response["content_type"] or "").startswith("text/html"):
            assert STRICT_PAGE.match(csp), response
            pages += 1
        else:
            assert csp == str(LOCKED_CSP), response
    assert pages > 0


@pytest.mark.parametrize("name", list(SUITES))
def test_the_bare_app_sends_no_csp(flask_examples: pathlib.Path, name: str) -> None:
    """The control: the same run, recorded the same way without the policy,
    passes and sends no CSP, so the CSP above is the policy's doing."""
    example, count = SUITES[name]
    code, outcomes, output, recorded = run_suite(flask_examples / name, example, "bare")
    assert code == 0, output
    assert len(outcomes) == count
    assert recorded["apps"] >= 1 and recorded["responses"]
    assert all(response["csp"] == [] for response in recorded["responses"])


def test_the_docs_page_gives_these_counts() -> None:
    """``docs/tried.rst`` states how many of their tests ran: the numbers
    these tests pin."""
    text = (ROOT / "docs" / "tried.rst").read_text(encoding="utf-8")
    section = text[text.index("Their own test suites") : text.index("In Chromium")]
    rows = re.findall(r"^    \* - (\w+)\n      - (\d+)$", section, re.M)
    assert rows == [(app, str(count)) for app, count in SUITES.values()]
