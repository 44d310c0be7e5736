"""Flask's own example apps, from Flask's sdist on PyPI, for tests that try
our presets on apps we did not write.

Nothing of them is in this repository: :func:`examples` downloads
``flask==3.1.3``'s sdist at test time (verified against PyPI's digest,
cached, see ``tests/downloads.py``) and extracts its ``examples/tutorial``
(flaskr, the tutorial's blog) and ``examples/javascript`` (js_example, three
ways to call a JSON view). :func:`cdn_files` are the files
``js_example``'s templates load from CDNs (jQuery from ``code.jquery.com``,
two stylesheets from ``unpkg.com``), from the npm registry, for a browser
test to serve in their place.
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

#: What ``js_example``'s templates load from CDNs, with the npm package each
#: file is published in: ``(package, version, integrity, file, type)``. The
#: integrity is the npm registry's ``dist.integrity`` for the tarball.
CDN = {
    "https://code.jquery.com/jquery-3.3.1.min.js": (
        "jquery", "3.3.1",
        "sha512-Ubldcmxp5np52/ENotGxlLe6aGMvmF4R8S6tZjsP6Knsaxd/xp3Zrh50cG93lR6nPX"
        "yUFwzN3ZSOQI0wRJNdGg==",
        "package/dist/jquery.min.js", "text/javascript; charset=utf-8",
    ),
    "https://unpkg.com/normalize.css@8.0.1/normalize.css": (
        "normalize.css", "8.0.1",
        "sha512-qizSNPO93t1YUuUhP22btGOo3chcvDFqFaj2TRybP0DMxkHOCTYwp3n34fel4a31OR"
        "Xy4m1Xq0Gyqpb5m33qIg==",
        "package/normalize.css", "text/css; charset=utf-8",
    ),
    "https://unpkg.com/sakura.css@1.3.1/css/sakura.css": (
        "sakura.css", "1.3.1",
        "sha512-J1Lj9yrAAs8OMseVDTIJPh5BxhZZEUz2VKkzj1u4HgjljVnIvVbCEfJKzjWolJTIs8"
        "SCxZ0murVJg0Ah7kK/yw==",
        "package/css/sakura.css", "text/css; charset=utf-8",
    ),
}  # fmt: skip


def examples(folder: pathlib.Path) -> pathlib.Path:
    """Extract the examples of Flask's sdist into ``folder``.

    :return: the ``examples`` folder, holding ``tutorial`` and ``javascript``.
    """
    sdist = pypi_sdist("flask", FLASK_VERSION, SDIST, SDIST_SHA256, folder)
    root = f"flask-{FLASK_VERSION}/examples/"
    for name in (TUTORIAL, JAVASCRIPT):
        extract(sdist, root + name + "/", folder)
    return folder / root


def cdn_files(folder: pathlib.Path) -> dict[str, tuple[bytes, str]]:
    """Each :data:`CDN` URL's file and content type, from the npm registry.

    :param folder: a scratch folder for the downloads.
    """
    files = {}
    for url, (package, version, integrity, member, kind) in CDN.items():
        tarball = npm_tarball(package, version, integrity, folder)
        files[url] = (read_member(tarball, member), kind)
    return files
