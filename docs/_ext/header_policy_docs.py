"""Sphinx directives that render facts from the code at build time.

Each directive asks the package (or an example app) and renders what it
answers, so the pages cannot drift from the code:

``.. preset-table:: strict``
    every header a preset sends, its value and when it applies, read from an
    app configured with that preset (:func:`preset_rows`).
``.. observatory-results::``
    every Observatory result name with its score modifier and meaning, from
    :data:`flask_header_policy.audit.SCORE_TABLE`, grouped by test.
``.. http-example:: docs/examples/csp.py``
    the response an example app gives (``:path:``, ``:base-url:``,
    ``:headers:`` to pick some, ``:body:`` to show the body too), through
    Flask's test client.
``.. flask-command:: --app examples.declarative headers show``
    the output of a ``flask`` command, run with Click's test runner
    (``:env:``, ``:exit-code:``, ``:stderr:``, ``:prompt:``).
``.. script-output:: docs/examples/grader.py``
    what an example script prints.
``.. file-diff:: OLD NEW``
    a unified diff of two files (a template before and after a fix).
``.. rewrite-table:: docs/examples/talisman_options.py``
    the ``ROWS`` of an example, one option and its rewrite per row, read
    from its source (a test runs them).

A directive that cannot render (an unknown preset, a result the grouping does
not know, an example that fails) raises an error, which fails the build.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import difflib
import importlib.util
import inspect
import io
import os
import pathlib
import re
import runpy
import shlex
import sys
import types
import typing as t
import warnings

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

if t.TYPE_CHECKING:
    from flask import Flask
    from sphinx.application import Sphinx

ROOT = pathlib.Path(__file__).resolve().parents[2]

#: Observatory result name prefix -> the test it belongs to.
RESULT_PREFIXES = {
    "csp-": "content-security-policy",
    "cookies-": "cookies",
    "cross-origin-resource-sharing-": "cross-origin-resource-sharing",
    "redirection-": "redirection",
    "referrer-policy-": "referrer-policy",
    "hsts-": "strict-transport-security",
    "sri-": "subresource-integrity",
    "x-content-type-options-": "x-content-type-options",
    "x-frame-options-": "x-frame-options",
    "corp-": "cross-origin-resource-policy",
    "coop-": "cross-origin-opener-policy",
    "coep-": "cross-origin-embedder-policy",
    # The Observatory's subresource-integrity test gives it (it reads the body).
    "html-not-parseable": "subresource-integrity",
}


# Facts, without Sphinx: the tests call these too.


@dataclasses.dataclass(frozen=True)
class PresetRow:
    """One header of a preset as the docs show it.

    :param name: the header name.
    :param value: the value sent (``'nonce-{nonce}'`` stands for the nonce).
    :param when: when it is sent, in words; empty for every response.
    :param mimetypes: the response types it is limited to, if any.
    :param otherwise: the value for other response types, if any.
    :param secure_only: sent on HTTPS requests only.
    :param http_value: what plain-HTTP requests get instead, if it differs
        (a CSP without upgrade-insecure-requests).
    """

    name: str
    value: str
    when: str
    mimetypes: tuple[str, ...] = ()
    otherwise: str | None = None
    secure_only: bool = False
    http_value: str | None = None


@dataclasses.dataclass(frozen=True)
class PresetFacts:
    """What a preset does: headers sent, headers removed, cookie hardening,
    and whether it stamps nonces and hashes into templates."""

    name: str
    rows: tuple[PresetRow, ...]
    removed: tuple[str, ...]
    cookies: str
    stamps: bool = False


def preset_facts(name: str) -> PresetFacts:
    """Read a preset's effective policy from an app that uses it.

    :raise KeyError: no preset has this name.
    """
    from flask import Flask

    from flask_header_policy import HeaderPolicy
    from flask_header_policy.presets import PRESETS
    from flask_header_policy.rules import Mode

    preset = PRESETS[name]
    app = Flask(f"preset_{name}")
    policy = HeaderPolicy(app, preset=preset)
    rows: list[PresetRow] = []
    removed: list[str] = []
    for declared in policy.effective(app, None):
        if declared.mode is Mode.REMOVE:
            removed.append(declared.name)
            continue
        value = "{nonce}".join(declared.template) if declared.template else ""
        value = value or declared.static or ""
        when: list[str] = []
        mimetypes = tuple(sorted(declared.mimetypes or ()))
        if mimetypes:
            when.append(f"{' and '.join(mimetypes)} responses only")
            if declared.otherwise is not None:
                when[-1] += f"; other responses get ``{declared.otherwise}``"
            else:
                when[-1] += "; none on others"
        if declared.secure_only:
            when.append("HTTPS requests only")
        http_value = None
        if declared.plain is not None:
            http_value = declared.plain.static or "{nonce}".join(
                declared.plain.template or ()
            )
            when.append(
                "plain-HTTP requests get it without ``upgrade-insecure-requests``"
            )
        if declared.mode is Mode.FORCE:
            when.append("replaces the response's own (``force``)")
        elif declared.mode is Mode.APPEND:
            when.append("merged into the response's own (``append``)")
        rows.append(
            PresetRow(
                declared.name,
                value,
                "; ".join(when),
                mimetypes,
                declared.otherwise,
                declared.secure_only,
                http_value,
            )
        )
    cookies = preset.cookies
    if cookies is None:
        described = "left alone"
    else:
        added = []
        if cookies.secure:
            added.append("``Secure`` (on HTTPS requests)")
        if cookies.httponly:
            added.append("``HttpOnly``")
        if cookies.samesite:
            added.append(f"``SameSite={cookies.samesite}``")
        described = ", ".join(added) + " added to each cookie that lacks them"
    stamps = app.extensions["header_policy"].splice is not None
    return PresetFacts(name, tuple(rows), tuple(removed), described, stamps)


def observatory_groups() -> dict[str, list[tuple[str, int, str]]]:
    """Every Observatory result, grouped by test, in the table's order.

    :raise ValueError: a result whose test the prefixes do not name.
    """
    from flask_header_policy.audit import SCORE_TABLE
    from flask_header_policy.audit import TEST_NAMES

    groups: dict[str, list[tuple[str, int, str]]] = {n: [] for n in TEST_NAMES}
    for result, (modifier, meaning) in SCORE_TABLE.items():
        tests = [test for p, test in RESULT_PREFIXES.items() if result.startswith(p)]
        if len(tests) != 1 or tests[0] not in groups:
            raise ValueError(
                f"Observatory result {result!r} belongs to no known test: add its"
                " prefix to RESULT_PREFIXES in docs/_ext/header_policy_docs.py"
            )
        groups[tests[0]].append((result, modifier, meaning))
    return groups


def _package_module(file: pathlib.Path) -> tuple[pathlib.Path, str] | None:
    """For a file of an example package (``docs/examples/shop/fixed.py``):
    the folder to import from and the module's dotted name (``shop.fixed``)."""
    top = file.parent
    while (top / "__init__.py").is_file():
        top = top.parent
    if top == file.parent:
        return None
    return top, ".".join(file.relative_to(top).with_suffix("").parts)


def load_example(path: str | os.PathLike[str]) -> types.ModuleType:
    """Import an example file (relative to the repo root) as a fresh module.

    A file of an example package is imported by its dotted name, so that its
    relative imports work, as ``flask --app`` imports it.
    """
    file = ROOT / path
    package = _package_module(file)
    if package is not None:
        top, name = package
        sys.modules.pop(name, None)
        sys.path.insert(0, str(top))
        try:
            return importlib.import_module(name)
        finally:
            sys.path.remove(str(top))
    name = "header_policy_docs_example_" + file.stem
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Flask finds the app's folder through it
    spec.loader.exec_module(module)
    return module


def example_response(
    app: Flask,
    path: str = "/",
    *,
    base_url: str = "https://localhost/",
    method: str = "GET",
    headers: t.Sequence[str] | None = None,
    request_headers: t.Sequence[tuple[str, str]] = (),
    body: bool = False,
) -> str:
    """The status line and header fields of one response, as sent.

    :param headers: only these fields (in this order); all when ``None``.
    :param request_headers: header fields to send with the request.
    :param body: add the body, after an empty line, as text.
    """
    client = app.test_client()
    response = client.open(
        path, base_url=base_url, method=method, headers=list(request_headers)
    )
    fields = response.headers.to_wsgi_list()
    text = response.get_data(as_text=True) if body else ""
    response.close()
    if headers is not None:
        wanted = [h.lower() for h in headers]
        picked = [f for f in fields if f[0].lower() in wanted]
        missing = set(wanted) - {f[0].lower() for f in picked}
        if missing:
            raise ValueError(f"{path} sent no {', '.join(sorted(missing))}")
        fields = sorted(picked, key=lambda f: wanted.index(f[0].lower()))
    lines = [f"HTTP/1.1 {response.status}"]
    lines += [f"{name}: {value}" for name, value in fields]
    if body:
        lines += ["", text.rstrip("\n")]
    return "\n".join(lines)


def flask_command(
    args: t.Sequence[str],
    *,
    env: t.Mapping[str, str] | None = None,
    exit_code: int = 0,
    stderr: bool = False,
) -> str:
    """The output of ``flask ARGS``, run from the repo root.

    :param env: environment variables for the run (``COLUMNS``).
    :param exit_code: the exit status the command must end with.
    :param stderr: include what it writes to stderr, interleaved as a
        terminal shows it; otherwise stdout only.
    :raise RuntimeError: the command ended with another status.
    """
    from click.testing import CliRunner
    from flask.cli import FlaskGroup

    # --app puts the app's folder first on sys.path (docs/examples, whose
    # module names are generic): undo that afterwards.
    path = list(sys.path)
    try:
        with contextlib.chdir(ROOT):
            result = CliRunner().invoke(
                FlaskGroup(), list(args), env=env, catch_exceptions=False
            )
    finally:
        sys.path[:] = path
    if result.exit_code != exit_code:
        raise RuntimeError(
            f"flask {shlex.join(args)} exited with {result.exit_code},"
            f" not {exit_code}:\n{result.output}"
        )
    output = result.output if stderr else result.stdout
    # The commands end no line in spaces; stripping keeps the page tidy if
    # one ever did.
    return "\n".join(line.rstrip() for line in output.splitlines())


def script_output(path: str | os.PathLike[str]) -> str:
    """What running an example script prints (``python -m`` for a module of
    an example package)."""
    file = ROOT / path
    package = _package_module(file)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
        warnings.simplefilter("error")
        if package is None:
            runpy.run_path(str(file), run_name="__main__")
        else:
            top, name = package
            sys.path.insert(0, str(top))
            try:
                runpy.run_module(name, run_name="__main__", alter_sys=True)
            finally:
                sys.path.remove(str(top))
    return buffer.getvalue().rstrip("\n")


def _one_line(source: str) -> str:
    """Python source as one line: ``f(\n    x,\n)`` becomes ``f(x)``."""
    text = " ".join(source.split())
    text = re.sub(r"([(\[{]) ", r"\1", text)
    return re.sub(r",? ([)\]}])", r"\1", text)


def rewrite_rows(
    path: str | os.PathLike[str],
) -> list[tuple[list[str], list[str], str]]:
    """The rows of an option table: ``ROWS = [Row(dict(...), dict(...), note)]``.

    Each row is the source of the first ``dict(...)``'s keywords, the second's
    (a ``headers={...}`` keyword becomes one ``"Name": value`` item per
    header), and the note, read from the file without running it.

    :raise ValueError: the file has no such ``ROWS``.
    """
    source = (ROOT / path).read_text("utf-8")
    tree = ast.parse(source)
    rows = next(
        (
            node.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == ["ROWS"]
            and isinstance(node.value, ast.List)
        ),
        None,
    )
    if rows is None:
        raise ValueError(f"{path} has no ROWS = [...] list")

    def keywords(node: ast.expr) -> list[str]:
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "dict"):
            raise ValueError(f"{path}: a Row takes dict(...) calls")
        cells = []
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg == "headers" and isinstance(value, ast.Dict):
                for key, item in zip(value.keys, value.values, strict=True):
                    pair = f"{ast.get_source_segment(source, t.cast(ast.expr, key))}: "
                    cells.append(
                        _one_line(pair + (ast.get_source_segment(source, item) or ""))
                    )
            else:
                segment = ast.get_source_segment(source, value) or ""
                cells.append(_one_line(f"{keyword.arg}={segment}"))
        return cells

    table = []
    for row in rows.elts:
        if not isinstance(row, ast.Call) or len(row.args) < 2:
            raise ValueError(f"{path}: each row is Row(dict(...), dict(...), ...)")
        note_node = row.args[2] if len(row.args) > 2 else None
        note = ast.literal_eval(note_node) if note_node is not None else ""
        table.append((keywords(row.args[0]), keywords(row.args[1]), note))
    return table


# Directives.


def _literal(text: str, language: str, caption: str | None = None) -> nodes.Node:
    block = nodes.literal_block(text, text, language=language)
    if caption is None:
        return block
    container = nodes.container(
        "", literal_block=True, classes=["literal-block-wrapper"]
    )
    container += nodes.caption(caption, "", nodes.Text(caption))
    container += block
    return container


class _Directive(SphinxDirective):
    def parse_rst(self, lines: list[str]) -> list[nodes.Node]:
        """Parse generated reST into nodes, as if written here."""
        container = nodes.container()
        self.state.nested_parse(
            StringList(lines, source=f"<{self.name} directive>"),
            self.content_offset,
            container,
        )
        return list(container.children)


def _literal_text(text: str) -> str:
    """``text`` as an inline literal, even with backquotes or backslashes."""
    return f":code:`{text.replace(chr(92), chr(92) * 2).replace('`', chr(92) + '`')}`"


class PresetTable(_Directive):
    """``.. preset-table:: NAME``: the headers a preset sends, from the code."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        facts = preset_facts(self.arguments[0])
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 22 53 25",
            "   :class: preset-table",
            "",
            "   * - Header",
            "     - Value",
            "     - When",
        ]
        for row in facts.rows:
            lines += [
                f"   * - ``{row.name}``",
                f"     - {_literal_text(row.value)}",
                f"     - {row.when or 'every response'}",
            ]
        lines.append("")
        forced = [row.name for row in facts.rows if "``force``" in row.when]
        if forced:
            names = ", ".join(f"``{name}``" for name in forced)
            lines.append(f"**Mode**: {names} replace the response's own; every other")
            lines.append("header yields to a response that sets it itself.")
        else:
            lines.append("**Mode**: the default for every header: a view that sets one")
            lines.append("itself (its own ``Cache-Control``, say) keeps its own value.")
        lines.append("")
        if facts.removed:
            names = ", ".join(
                f"``{name}``" for name in sorted(facts.removed, key=str.lower)
            )
            lines.append(f"**Removed** from every response: {names}")
            lines.append("(as the app answers: a header the WSGI server adds")
            lines.append("afterwards, such as its ``Server``, is out of reach,")
            lines.append("see :doc:`concepts`).")
        else:
            lines.append("**Removed**: nothing.")
        lines += ["", f"**Cookies**: {facts.cookies}."]
        if facts.stamps:
            lines += [
                "",
                "**Templates**: nonces and hashes stamped into them"
                " (:doc:`stamping`); ``stamp_nonces=False`` turns it off.",
            ]
        else:
            lines += ["", "**Templates**: left alone."]
        return self.parse_rst(lines)


class RewriteTable(_Directive):
    """``.. rewrite-table:: FILE``: the ``ROWS`` of FILE side by side.

    ``:headers:`` names the two columns (comma-separated); a row's note goes
    under its second cell.
    """

    required_arguments = 1
    option_spec: t.ClassVar[dict[str, t.Callable[[str], t.Any]]] = {
        "headers": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        file = self.arguments[0]
        self.env.note_dependency(str(ROOT / file))
        wanted = self.options.get("headers", "Before, After")
        names = [name.strip() for name in wanted.split(",")]
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 40 60",
            "   :class: rewrite-table",
            "",
            f"   * - {names[0]}",
            f"     - {names[1]}",
        ]
        for before, after, note in rewrite_rows(file):
            for marker, items, extra in (
                ("   * - ", before, ""),
                ("     - ", after, note),
            ):
                paragraphs = [_literal_text(item) for item in items]
                if extra:
                    paragraphs.append(f"*{extra}*")
                lines.append(marker + paragraphs[0])
                for paragraph in paragraphs[1:]:
                    lines += ["", "       " + paragraph]
        return self.parse_rst(lines)


class ObservatoryResults(_Directive):
    """``.. observatory-results::``: every result name, modifier and meaning."""

    def run(self) -> list[nodes.Node]:
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 45 10 45",
            "",
            "   * - Result",
            "     - Modifier",
            "     - Meaning",
        ]
        for test, results in observatory_groups().items():
            lines += [f"   * - **{test}**", "     -", "     -"]
            for result, modifier, meaning in results:
                lines += [
                    f"   * - ``{result}``",
                    f"     - {modifier:+d}" if modifier else "     - 0",
                    f"     - {meaning}",
                ]
        return self.parse_rst(lines)


class HttpExample(_Directive):
    """``.. http-example:: FILE``: one response of the example app in FILE.

    The directive's content, if any, is request header fields, one a line.
    """

    required_arguments = 1
    has_content = True
    option_spec: t.ClassVar[dict[str, t.Callable[[str], t.Any]]] = {
        "app": directives.unchanged,
        "path": directives.unchanged,
        "base-url": directives.unchanged,
        "method": directives.unchanged,
        "headers": directives.unchanged,
        "caption": directives.unchanged,
        "body": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        file = self.arguments[0]
        self.env.note_dependency(str(ROOT / file))
        module = load_example(file)
        app = getattr(module, self.options.get("app", "app"))
        path = self.options.get("path", "/")
        base_url = self.options.get("base-url", "https://localhost/")
        method = self.options.get("method", "GET")
        wanted = self.options.get("headers")
        headers = [h.strip() for h in wanted.split(",")] if wanted else None
        sent = [
            (name.strip(), value.strip())
            for name, _, value in (line.partition(":") for line in self.content)
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            text = example_response(
                app,
                path,
                base_url=base_url,
                method=method,
                headers=headers,
                request_headers=sent,
                body="body" in self.options,
            )
        url = base_url.rstrip("/") + path
        caption = f"{method} {url}"
        if sent:
            caption += " with " + ", ".join(f"{n}: {v}" for n, v in sent)
        caption = self.options.get("caption", caption)
        return [_literal(text, "http", caption)]


class FlaskCommand(_Directive):
    """``.. flask-command:: ARGS``: what ``flask ARGS`` prints.

    Options: ``:env: NAME=value ...`` (shown before the command),
    ``:exit-code: N`` (the status it must end with; 0 by default),
    ``:stderr:`` (show stderr too), and ``:prompt: TEXT``, the command line
    to show instead of ``flask ARGS``, for an app that the docs build with
    a factory of their own (the output is still that of ``flask ARGS``).
    """

    required_arguments = 1
    final_argument_whitespace = True
    option_spec: t.ClassVar[dict[str, t.Callable[[str], t.Any]]] = {
        "env": directives.unchanged,
        "exit-code": directives.nonnegative_int,
        "stderr": directives.flag,
        "prompt": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        args = shlex.split(self.arguments[0])
        if "--app" in args:
            target = args[args.index("--app") + 1].partition(":")[0]
            if target.endswith(".py"):
                self.env.note_dependency(str(ROOT / target))
        env = dict(
            pair.partition("=")[::2]
            for pair in shlex.split(self.options.get("env", ""))
        )
        output = flask_command(
            args,
            env=env,
            exit_code=self.options.get("exit-code", 0),
            stderr="stderr" in self.options,
        )
        shown = self.options.get("prompt") or f"flask {shlex.join(args)}"
        prefix = "".join(f"{name}={shlex.quote(value)} " for name, value in env.items())
        text = f"$ {prefix}{shown}\n{output}"
        return [_literal(text, "console")]


class ScriptOutput(_Directive):
    """``.. script-output:: FILE``: what running the example FILE prints."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        file = self.arguments[0]
        self.env.note_dependency(str(ROOT / file))
        package = _package_module(ROOT / file)
        command = file if package is None else f"-m {package[1]}"
        text = f"$ python {command}\n{script_output(file)}"
        return [_literal(text, "console")]


class FileDiff(_Directive):
    """``.. file-diff:: OLD NEW``: a unified diff of two files of the repo,
    named by their paths in the repo."""

    required_arguments = 2

    def run(self) -> list[nodes.Node]:
        old, new = self.arguments
        for name in (old, new):
            self.env.note_dependency(str(ROOT / name))
        diff = difflib.unified_diff(
            (ROOT / old).read_text("utf-8").splitlines(),
            (ROOT / new).read_text("utf-8").splitlines(),
            fromfile=old,
            tofile=new,
            lineterm="",
        )
        text = "\n".join(diff)
        if not text:
            raise self.error(f"{old} and {new} do not differ")
        return [_literal(text, "diff")]


def _class_hints(
    app: Sphinx,
    what: str,
    name: str,
    obj: t.Any,
    options: t.Any,
    signature: str | None,
    return_annotation: str | None,
) -> None:
    """Record a class's parameter types from its ``__init__``.

    Sphinx reads them from ``inspect.signature(cls)``, which leaves the
    string annotations of ``from __future__ import annotations`` unresolved
    (``Headers``, ``cabc.Mapping``); ``__init__`` resolves in its module.
    """
    from sphinx.ext.autodoc.typehints import record_typehints

    init = getattr(obj, "__init__", None)
    if what not in ("class", "exception") or not inspect.isfunction(init):
        return
    record_typehints(app, what, name, init, options, signature or "", "")


def _data_docstring(
    app: Sphinx, what: str, name: str, obj: t.Any, options: t.Any, lines: list[str]
) -> None:
    """Give a re-exported constant the ``#:`` comment of its own module.

    autodoc looks for the comment in the module the directive names
    (``flask_header_policy``), finds none there, and falls back to the
    docstring of the value's type (``str``, ``tuple``).
    """
    if what not in ("data", "attribute") or obj.__doc__ != type(obj).__doc__:
        return
    from sphinx.pycode import ModuleAnalyzer

    attr = name.rpartition(".")[2]
    lines.clear()
    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith("flask_header_policy."):
            continue
        if getattr(module, attr, None) is not obj:
            continue
        comment = ModuleAnalyzer.for_module(module_name).find_attr_docs()
        found = comment.get(("", attr))
        if found:
            lines.extend(found)
            return


def _public_target(target: str) -> str | None:
    """The documented name of a re-exported object a reference misses.

    ``XFrameOptions.DENY`` (written in ``framing.py``) and
    ``flask_header_policy.framing.XFrameOptions.DENY`` both mean
    ``flask_header_policy.XFrameOptions.DENY``, where api.rst documents it.
    """
    import flask_header_policy

    parts = target.split(".")
    for start in range(len(parts)):
        head = parts[start]
        value = vars(flask_header_policy).get(head)
        if value is not None and not isinstance(value, types.ModuleType):
            module = ".".join(parts[:start])
            owner = sys.modules.get(module) if module else None
            if owner is None or getattr(owner, head, None) is value:
                return ".".join(["flask_header_policy", *parts[start:]])
    return None


def _missing_reference(
    app: Sphinx, env: t.Any, node: t.Any, contnode: nodes.Element
) -> nodes.Element | None:
    if node.get("refdomain") != "py":
        return None
    target = _public_target(node["reftarget"])
    if target is None or target == node["reftarget"]:
        return None
    domain = env.get_domain("py")
    retry = node.deepcopy()
    retry["reftarget"] = target
    return t.cast(
        "nodes.Element | None",
        domain.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], target, retry, contnode
        ),
    )


def setup(app: Sphinx) -> dict[str, t.Any]:
    app.connect("autodoc-process-signature", _class_hints)
    app.connect("missing-reference", _missing_reference)
    app.connect("autodoc-process-docstring", _data_docstring)
    app.add_directive("preset-table", PresetTable)
    app.add_directive("observatory-results", ObservatoryResults)
    app.add_directive("rewrite-table", RewriteTable)
    app.add_directive("file-diff", FileDiff)
    app.add_directive("http-example", HttpExample)
    app.add_directive("flask-command", FlaskCommand)
    app.add_directive("script-output", ScriptOutput)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
