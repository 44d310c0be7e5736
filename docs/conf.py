"""Sphinx configuration: ``make docs`` builds it into ``docs/_build/html``.

The build runs offline with ``-W --keep-going -n``: every warning is an error
and every cross-reference must resolve. Types from other projects (the
standard library, Flask, Werkzeug, ...) cannot be linked without downloading
their inventories, so they are listed in ``nitpick_ignore_regex`` instead.
"""

from __future__ import annotations

import pathlib
import sys
from importlib import metadata

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
# docs/_ext holds our own directives; the repo root makes ``examples`` and
# ``docs.examples`` importable for the directives that run them.
sys.path[:0] = [str(DOCS / "_ext"), str(ROOT)]

project = "Flask-Header-Policy"
copyright = "Flask-Header-Policy developers"  # noqa: A001 - Sphinx's name
release = metadata.version("flask-header-policy")
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "myst_parser",
    "header_policy_docs",
]

# The pages are reStructuredText. Markdown (MyST) only renders the two files
# that live elsewhere in the repo and are included whole: benchmarks/README.md
# and docs/contracts.md.
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "examples", "contracts.md"]
templates_path: list[str] = []

# Warnings are errors, and every reference must resolve (-W -n in the Makefile).
nitpicky = True
_EXTERNAL = (
    *sorted(sys.stdlib_module_names),
    "_typeshed",
    "click",
    "flask",
    "http_sf",
    "httpx",
    "jinja2",
    "markupsafe",
    "psycopg",
    "pytest",
    "rich",
    "sqlalchemy",
    "typing_extensions",
    "werkzeug",
)
_BUILTINS = (
    "None",
    "Ellipsis",
    "NotImplemented",
    "object",
    "type",
    "str",
    "bytes",
    "int",
    "float",
    "bool",
    "list",
    "tuple",
    "dict",
    "set",
    "frozenset",
    "Exception",
    "RuntimeError",
    "UserWarning",
    "ValueError",
    "KeyError",
    "TypeError",
    "AssertionError",
)
nitpick_ignore_regex = [
    (r"py:.*", rf"({'|'.join(_EXTERNAL)})(\..*)?"),
    (r"py:.*", rf"({'|'.join(_BUILTINS)})"),
    # Type variables and the TypedDict of CSP keywords: described in prose.
    (r"py:class", r"flask_header_policy\..*\.(F|V|_Keywords)"),
    # Jinja's own names, as the extension API's signatures spell them.
    (r"py:class", r"(Environment|Parser|nodes\.Node|nodes\..*|t\.Self)"),
]

# autodoc: signatures stay short, types go in the parameter descriptions.
autodoc_typehints = "description"
# Names some modules import under TYPE_CHECKING only (an import cycle, or
# SQLAlchemy, which the reports extra brings): how to resolve them.
autodoc_type_aliases = {
    "HeaderPolicy": "flask_header_policy.HeaderPolicy",
    "ReportStore": "flask_header_policy.reports.ReportStore",
}
autodoc_typehints_description_target = "all"
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True}
python_use_unqualified_type_names = True
add_module_names = False

# MyST, for the included Markdown files: headings become reST sections.
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"{project} {version}"
html_static_path = ["_static"]
html_theme_options = {"navigation_with_keys": True}
html_show_sourcelink = False
pygments_style = "friendly"
pygments_dark_style = "monokai"
