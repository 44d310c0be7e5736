"""Third-party files the tests need, fetched at test time and verified.

Nothing downloaded here is part of this repository: a test asks for a
package by name, version and the digest its registry publishes, gets it from
the cache or from the registry (PyPI through ``pip download``, npm through
its registry's tarball URL), and fails unless the bytes have that digest, so
what runs is what was published.

The cache is ``$XDG_CACHE_HOME`` (or ``~/.cache``) ``/flask-header-policy/``.
``HEADER_POLICY_OFFLINE=1`` skips a test that cannot download instead of
failing it.
"""

from __future__ import annotations

import base64
import collections.abc as cabc
import hashlib
import os
import pathlib
import subprocess
import sys
import tarfile
import typing as t
import urllib.request

import pytest

OFFLINE_ENV = "HEADER_POLICY_OFFLINE"
NPM_REGISTRY = "https://registry.npmjs.org"
#: A registry's tarballs are small; a longer answer is not the package.
MAX_TARBALL = 50 * 1024 * 1024


def cache_dir() -> pathlib.Path:
    """Where verified downloads are kept between test runs."""
    home = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(home) / "flask-header-policy"


def _verified(path: pathlib.Path, digest: str) -> bool:
    """Whether the file has ``digest``: ``"sha512:<hex>"``, or a bare sha256."""
    algorithm, _, expected = digest.rpartition(":")
    if not path.is_file():
        return False
    return hashlib.new(algorithm or "sha256", path.read_bytes()).hexdigest() == expected


def _unavailable(message: str) -> t.NoReturn:
    if os.environ.get(OFFLINE_ENV) == "1":
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


def _cached(
    name: str,
    digest: str,
    folder: pathlib.Path,
    download: cabc.Callable[[pathlib.Path], pathlib.Path],
) -> pathlib.Path:
    """``name`` from the cache, or ``download(folder)`` (then cached when
    the home folder is writable), verified against ``digest``."""
    cached = cache_dir() / name
    if _verified(cached, digest):
        return cached
    fetched = download(folder)
    assert _verified(fetched, digest), f"{name} does not have the published digest"
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(fetched.read_bytes())
        partial.replace(cached)
    except OSError:
        pass  # a read-only home: download again next time
    return fetched


def pypi_sdist(
    project: str, version: str, filename: str, sha256: str, folder: pathlib.Path
) -> pathlib.Path:
    """The sdist ``filename`` of ``project==version`` from PyPI (``pip
    download --no-binary :all:``), verified against PyPI's ``sha256``.

    :param folder: a scratch folder for the download.
    """

    def download(folder: pathlib.Path) -> pathlib.Path:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--no-binary", ":all:", f"{project}=={version}", "--dest", str(folder),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        sdist = folder / filename
        if result.returncode != 0 or not sdist.exists():
            _unavailable(
                f"cannot download {filename} from PyPI (pip exited"
                f" {result.returncode}): {result.stderr.strip()[-2000:]}"
            )
        return sdist

    return _cached(filename, sha256, folder, download)


def npm_tarball(
    package: str, version: str, integrity: str, folder: pathlib.Path
) -> pathlib.Path:
    """``package@version``'s tarball from the npm registry, verified against
    the ``dist.integrity`` the registry publishes for it
    (``"sha512-<base64>"``).

    :param folder: a scratch folder for the download.
    """
    algorithm, _, encoded = integrity.partition("-")
    assert algorithm == "sha512", f"not an npm sha512 integrity: {integrity!r}"
    digest = f"sha512:{base64.b64decode(encoded, validate=True).hex()}"
    filename = f"{package}-{version}.tgz"
    url = f"{NPM_REGISTRY}/{package}/-/{filename}"

    def download(folder: pathlib.Path) -> pathlib.Path:
        target = folder / filename
        try:
            with urllib.request.urlopen(url, timeout=60) as answer:
                data = answer.read(MAX_TARBALL + 1)
        except OSError as exc:
            _unavailable(f"cannot download {url}: {exc}")
        assert len(data) <= MAX_TARBALL, f"{url} is larger than {MAX_TARBALL} bytes"
        target.write_bytes(data)
        return target

    return _cached(filename, digest, folder, download)


def read_member(archive: pathlib.Path, member: str) -> bytes:
    """One file of a ``.tar.gz``, by its path in the archive."""
    with tarfile.open(archive) as tar:
        extracted = tar.extractfile(member)
        assert extracted is not None, f"{member} is not a file in {archive.name}"
        return extracted.read()


def extract(archive: pathlib.Path, prefix: str, dest: pathlib.Path) -> pathlib.Path:
    """Extract the members of ``archive`` under ``prefix`` into ``dest``.

    Only regular files and folders are written, through the ``data`` filter
    (no links, no absolute paths, no ``..``).

    :return: ``dest / prefix``.
    """
    with tarfile.open(archive) as tar:
        members = [
            m
            for m in tar.getmembers()
            if (m.isfile() or m.isdir()) and m.name.startswith(prefix)
        ]
        assert members, f"nothing under {prefix} in {archive.name}"
        tar.extractall(dest, members=members, filter="data")
    return dest / prefix
