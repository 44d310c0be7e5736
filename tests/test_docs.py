"""The documentation cannot drift from the code.

``make docs`` builds the site with warnings as errors; these tests check
what a build cannot: that every public name and config key is documented,
and that the tables generated from the code say what the app sends.
"""

from __future__ import annotations

import importlib.util
import pathlib
import re
import sys
import types

import pytest
from flask import Flask
from flask import make_response
from flask import render_template_string
from flask import Response
from test_exported import EXPORTED

import flask_header_policy
import flask_header_policy.audit
import flask_header_policy.pytest_plugin
from flask_header_policy import HeaderPolicy
from flask_header_policy.presets import PRESETS

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
_DIRECTIVE = re.compile(
    r"^\.\. (?:py:)?(?:auto)?"
    r"(?:module|currentmodule|class|function|data|exception|attribute|method)"
    r"::\s*(\S+)"
)


def docs_extension() -> types.ModuleType:
    """``docs/_ext/header_policy_docs.py``, the directives the build uses."""
    name = "header_policy_docs"
    if name not in sys.modules:
        path = DOCS / "_ext" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


def documented(page: pathlib.Path) -> set[str]:
    """Full names of the Python objects a page documents (``.. autoclass::``,
    ``.. data::`` with its continuation lines, ...)."""
    names: set[str] = set()
    module = ""
    lines = page.read_text("utf-8").splitlines()
    for index, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        if match is None:
            continue
        name = match.group(1).split("(")[0]
        if "module::" in line:
            module = name
            continue
        more = [name]
        # ".. data:: A" may go on with "          B" lines: more signatures.
        for following in lines[index + 1 :]:
            if not following.strip() or following.lstrip().startswith(":"):
                break
            if following.startswith(" " * 10):
                more.append(following.strip())
            else:
                break
        for each in more:
            names.add(
                each if each.startswith("flask_header_policy") else f"{module}.{each}"
            )
    return names


def public(module: types.ModuleType) -> set[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and not isinstance(value, types.ModuleType)
            and name != "annotations"
        ]
    return {f"{module.__name__}.{name}" for name in names}


def test_documented_finds_directives(tmp_path: pathlib.Path) -> None:
    page = tmp_path / "page.rst"
    page.write_text(
        ".. module:: pkg\n\n.. autoclass:: A\n    :members:\n\n"
        ".. data:: B\n          C\n\n    Text.\n\n"
        ".. autofunction:: flask_header_policy.sub.f\n",
        "utf-8",
    )
    assert documented(page) == {"pkg.A", "pkg.B", "pkg.C", "flask_header_policy.sub.f"}


def test_api_page_documents_every_public_name() -> None:
    names = documented(DOCS / "api.rst")
    wanted = {f"flask_header_policy.{name}" for name in EXPORTED}
    wanted |= public(flask_header_policy.audit)
    wanted |= public(flask_header_policy.pytest_plugin)
    assert wanted - names == set()


def test_api_page_documents_only_what_exists() -> None:
    for name in documented(DOCS / "api.rst"):
        module_name, _, attr = name.rpartition(".")
        while module_name:
            try:
                owner = importlib.import_module(module_name)
                break
            except ModuleNotFoundError:
                module_name, _, parent = module_name.rpartition(".")
                attr = f"{parent}.{attr}"
        value: object = owner
        for part in attr.split("."):
            assert hasattr(value, part), name
            value = getattr(value, part)


def config_keys_in_source() -> set[str]:
    keys: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        keys |= set(re.findall(r"\bHEADER_POLICY_[A-Z0-9_]+", path.read_text("utf-8")))
    return keys


def test_configuration_page_documents_every_key_and_no_other() -> None:
    page = (DOCS / "configuration.rst").read_text("utf-8")
    documented_keys = set(
        re.findall(r"^\.\. py:data:: (HEADER_POLICY_\w+)$", page, re.M)
    )
    in_source = config_keys_in_source()
    assert in_source, "found no HEADER_POLICY_ key in src/"
    assert in_source - documented_keys == set(), "undocumented config keys"
    assert documented_keys - in_source == set(), "documented keys the code lacks"


# The generated tables.


def _preset_app(name: str) -> Flask:
    app = Flask(__name__)
    app.secret_key = "test"
    HeaderPolicy(app, preset=name)
    stack = ("Server", "X-Powered-By", *PRESETS[name].headers)

    @app.get("/page")
    def page() -> Response:
        response = make_response("<p>Hi</p>")
        response.set_cookie("c", "1")
        return response

    @app.get("/template")
    def template() -> str:
        return render_template_string("<script>go()</script>")

    @app.get("/data")
    def data() -> Response:
        response = make_response({"ok": True})
        # The stack headers a preset may remove, set by the app itself.
        for header in stack[:2]:
            response.headers[header] = "leak"
        return response

    return app


def _nonce_free(value: str) -> str:
    return re.sub(r"'nonce-[A-Za-z0-9_-]+'", "'nonce-{nonce}'", value)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_table_is_what_the_preset_sends(name: str) -> None:
    facts = docs_extension().preset_facts(name)
    client = _preset_app(name).test_client()
    page = client.get("/page", base_url="https://localhost/")
    data = client.get("/data", base_url="https://localhost/")
    plain = client.get("/page")
    for row in facts.rows:
        html = row.mimetypes == () or "text/html" in row.mimetypes
        assert html, row
        assert _nonce_free(page.headers[row.name]) == row.value, row
        other = row.otherwise if row.mimetypes else row.value
        assert data.headers.get(row.name) == other, row
        assert (row.name in plain.headers) is not row.secure_only, row
        if row.http_value is not None:
            assert _nonce_free(plain.headers[row.name]) == row.http_value, row
            assert "upgrade-insecure-requests" in row.value, row
    # Nothing is sent that the table does not show.
    shown = {row.name.lower() for row in facts.rows}
    own = {"content-type", "content-length", "set-cookie", "vary"}
    assert {k.lower() for k in page.headers.keys()} - own == shown
    for removed in facts.removed:
        assert removed not in data.headers
    stamped = client.get("/template", base_url="https://localhost/").get_data(True)
    assert stamped.startswith("<script nonce=") is facts.stamps, stamped
    assert facts.stamps is (name == "strict")
    cookie = page.headers["Set-Cookie"]
    if facts.cookies == "left alone":
        assert cookie == "c=1; Path=/"
    else:
        for attribute in re.findall(r"``([^`]+)``", facts.cookies):
            assert attribute in cookie, (attribute, cookie)


def test_preset_table_names_an_unknown_preset() -> None:
    with pytest.raises(KeyError):
        docs_extension().preset_facts("nope")


def test_observatory_table_groups_every_result() -> None:
    groups = docs_extension().observatory_groups()
    listed = [result for results in groups.values() for result, _, _ in results]
    assert sorted(listed) == sorted(flask_header_policy.audit.SCORE_TABLE)
    assert all(groups.values()), "a test without results"


def test_observatory_table_fails_on_a_result_of_no_known_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = {**flask_header_policy.audit.SCORE_TABLE, "nel-missing": (-5, "No NEL")}
    monkeypatch.setattr(flask_header_policy.audit, "SCORE_TABLE", table)
    with pytest.raises(ValueError, match="nel-missing"):
        docs_extension().observatory_groups()


def test_public_target_maps_module_paths_to_exported_names() -> None:
    target = docs_extension()._public_target
    assert target("XFrameOptions.DENY") == "flask_header_policy.XFrameOptions.DENY"
    assert (
        target("flask_header_policy.framing.XFrameOptions.DENY")
        == "flask_header_policy.XFrameOptions.DENY"
    )
    assert target("flask_header_policy.hsts.parse_hsts") is None
    assert target("collections.abc.Mapping") is None
