"""Flask's own example apps, from Flask's sdist on PyPI, for tests that try
our presets on apps we did not write.

Nothing of them is in this repository: :func:`examples` downloads
``flask==3.1.3``'s sdist at test time (verified against PyPI's digest,
cached, see ``tests/downloads.py``) and extracts its ``examples/tutorial``
(flaskr, the tutorial's blog) and ``examples/javascript`` (js_example, three
ways to call a JSON view). :func:`jquery` is the jQuery that
``js_example``'s ``jquery.html`` loads from ``code.jquery.com``, from the
npm registry.
"""

from __future__ import annotations

import pathlib

from tests.downloads import extract
from tests.downloads import npm_tarball
from tests.downloads import pypi_sdist
from tests.downloads import read_member

FLASK_VERSION = "3.1.3"
SDIST = f"flask-{FLASK_VERSION}.tar.gz"
#: PyPI's digest of the sdist.
SDIST_SHA256 = "0ef0e52b8a9cd932855379197dd8f94047b359ca0a78695144304cb45f87c9eb"
TUTORIAL = "tutorial"
JAVASCRIPT = "javascript"

JQUERY_VERSION = "3.3.1"
#: The npm registry's ``dist.integrity`` of ``jquery@3.3.1``.
JQUERY_INTEGRITY = (
    "sha512-Ubldcmxp5np52/ENotGxlLe6aGMvmF4R8S6tZjsP6Knsaxd/xp3Zrh50cG93lR6nPXyUFw"
    "zN3ZSOQI0wRJNdGg=="
)
#: Where ``jquery.html`` loads it from.
JQUERY_URL = f"https://code.jquery.com/jquery-{JQUERY_VERSION}.min.js"


def examples(folder: pathlib.Path) -> pathlib.Path:
    """Extract the examples of Flask's sdist into ``folder``.

    :return: the ``examples`` folder, holding ``tutorial`` and ``javascript``.
    """
    sdist = pypi_sdist("flask", FLASK_VERSION, SDIST, SDIST_SHA256, folder)
    root = f"flask-{FLASK_VERSION}/examples/"
    for name in (TUTORIAL, JAVASCRIPT):
        extract(sdist, root + name + "/", folder)
    return folder / root


def jquery(folder: pathlib.Path) -> bytes:
    """``jquery.min.js`` 3.3.1, as published on npm."""
    tarball = npm_tarball("jquery", JQUERY_VERSION, JQUERY_INTEGRITY, folder)
    return read_member(tarball, "package/dist/jquery.min.js")
