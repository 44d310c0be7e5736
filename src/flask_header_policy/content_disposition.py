"""Content-Disposition for responses: a typed, validated value object.

A non-ASCII file name is sent twice, as Werkzeug's ``send_file`` does: an
ASCII ``filename`` for old clients (RFC 6266 Appendix D) and
``filename*=UTF-8''...`` (RFC 8187), which recipients prefer. Quoting and
RFC 8187 decoding are Werkzeug's (:func:`~werkzeug.http.dump_options_header`,
:func:`~werkzeug.http.parse_options_header`). Sans-IO: nothing here imports
Flask.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t
import unicodedata
from urllib.parse import quote

from werkzeug.http import dump_options_header
from werkzeug.http import parse_options_header

from ._validate import check_value
from ._validate import describe_char
from ._validate import is_token
from ._validate import shown
from .errors import InvalidHeaderError

_HEADER = "Content-Disposition"
_DISPOSITIONS = ("attachment", "inline")
# RFC 8187 attr-char, minus ALPHA / DIGIT which quote() never escapes.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"
_UNSAFE_NAME_RE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# One ";"-separated parameter: name, then a quoted-string or a plain value.
_PARAM_RE = re.compile(r';[ \t]*([^;=]*?)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^;]*)')


def _fail(reason: str) -> t.NoReturn:
    raise InvalidHeaderError(_HEADER, reason)


def ascii_fallback(filename: str) -> str:
    """The ASCII name sent in ``filename`` next to ``filename*``.

    Accents are dropped after NFKD normalisation (``résumé`` becomes
    ``resume``); separators and control characters that normalisation may
    produce become ``_``; a name left empty becomes ``download`` (keeping
    the extension: ``報告.pdf`` becomes ``download.pdf``).
    """
    simple = unicodedata.normalize("NFKD", filename)
    simple = simple.encode("ascii", "ignore").decode("ascii")
    simple = _UNSAFE_NAME_RE.sub("_", simple).strip(" ")
    if not simple or simple.startswith("."):
        simple = "download" + simple
    return simple


@dataclasses.dataclass(frozen=True, slots=True)
class ContentDisposition:
    """An immutable, validated ``Content-Disposition``.

    ::

        ContentDisposition("attachment", "report.pdf")
        # attachment; filename=report.pdf
        ContentDisposition("attachment", "résumé.pdf")
        # attachment; filename=resume.pdf; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf

    :param disposition: ``"attachment"`` (download) or ``"inline"`` (show in
        the browser), any case.
    :param filename: the name to save the file under: a name, not a path.
    :raise InvalidHeaderError: another disposition, or a file name with a
        control character (CR, LF, NUL, ...) or a path separator.
    """

    header_name: t.ClassVar[str] = _HEADER
    disposition: str = "attachment"
    filename: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.disposition, str) or (
            self.disposition.lower() not in _DISPOSITIONS
        ):
            _fail(
                f"disposition {shown(self.disposition)} is not 'attachment' or 'inline'"
            )
        object.__setattr__(self, "disposition", self.disposition.lower())
        name = self.filename
        if name is None:
            return
        if not isinstance(name, str):
            _fail(f"filename must be a str, not {type(name).__name__}")
        if not name:
            _fail("filename is empty; pass None to send no file name")
        match = _UNSAFE_NAME_RE.search(name)
        if match is not None and match.group() in "/\\":
            _fail(
                f"filename {name!r} holds the path separator {match.group()!r};"
                " give the bare name (os.path.basename), browsers save into"
                " their own folder"
            )
        if match is not None:
            _fail(
                f"filename {name!r}: control character {describe_char(match.group())}"
                f" at index {match.start()} could split or corrupt the header"
            )
        surrogate = _SURROGATE_RE.search(name)
        if surrogate is not None:
            _fail(
                f"filename {name!r}: {describe_char(surrogate.group())} at index"
                f" {surrogate.start()} is a lone surrogate, not a character (a file"
                " name decoded with errors='surrogateescape'); decode it with"
                " errors='replace', or from its real encoding"
            )
        if name in (".", ".."):
            _fail(f"filename {name!r} is a directory reference, not a file name")

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read a value strictly; ``filename*`` wins over ``filename``.

        :raise InvalidHeaderError: an unknown disposition or parameter, a
            repeated parameter, a ``filename*`` not in UTF-8 or ISO-8859-1,
            or a file name the constructor refuses.
        """
        if not isinstance(value, str):
            _fail(f"from_header takes a str, not {type(value).__name__}")
        check_value(_HEADER, value)
        disposition, _, rest = value.partition(";")
        disposition = disposition.strip(" \t")
        if disposition.lower() not in _DISPOSITIONS:
            _fail(f"disposition {disposition!r} is not 'attachment' or 'inline'")
        names: dict[str, str] = {}
        for match in _PARAM_RE.finditer(";" + rest):
            key, raw = match.group(1).lower(), match.group(2)
            if key not in ("filename", "filename*"):
                _fail(f"unsupported parameter {match.group(1)!r}; use filename")
            if key in names:
                _fail(f"parameter {key!r} is repeated; send it once")
            if not raw.startswith('"') and not is_token(raw):
                _fail(f"{key}={raw!r}: quote a name with spaces or separators")
            if key == "filename*":
                charset = raw.partition("'")[0].lower()
                if charset not in ("utf-8", "iso-8859-1"):
                    _fail(f"filename*={raw!r}: write UTF-8''<percent-encoded name>")
            decoded = parse_options_header(f"x; {key}={raw}")[1].get("filename")
            if decoded is None:
                _fail(f'cannot read {key}={raw!r}; quote the name: {key}="..."')
            names[key] = decoded
        leftover = _PARAM_RE.sub("", ";" + rest).strip(" \t;")
        if leftover:
            _fail(f"cannot read {leftover!r}; parameters are name=value")
        filename = names.get("filename*", names.get("filename"))
        return cls(disposition, filename)

    def to_header(self) -> str:
        """Render the field value with Werkzeug's ``dump_options_header``."""
        name = self.filename
        if name is None:
            return self.disposition
        if name.isascii():
            options = {"filename": name}
        else:
            encoded = quote(name, safe=_ATTR_CHAR_SAFE)
            options = {"filename": ascii_fallback(name)}
            options["filename*"] = f"UTF-8''{encoded}"
        return check_value(_HEADER, dump_options_header(self.disposition, options))

    def __str__(self) -> str:
        return self.to_header()
