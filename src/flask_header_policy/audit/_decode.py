"""Turn a response body into text without trusting the response (sans-IO).

Two steps, each bounded whatever the server sends:

- :class:`ContentDecoder` undoes ``Content-Encoding`` (gzip, deflate, and br
  when a Brotli decoder with an output limit is installed) on raw bytes fed
  to it chunk by chunk. Every layer yields at most :data:`CHUNK` bytes per
  call and the result stops at ``limit`` bytes, so a compression bomb costs
  no more memory than ``limit`` plus a few small buffers; at most
  :data:`MAX_LAYERS` codings are undone.
- :func:`decode_text` decodes with the charset the Content-Type names, but
  only through an allowlist of the WHATWG Encoding Standard's labels mapped
  to Python codecs whose cost is linear in the input. Any other label
  (``punycode``, ``utf-7``, ``rot13``…) falls back to UTF-8 with
  replacement characters, as a browser does with a label it does not know.
"""

from __future__ import annotations

import collections.abc as cabc
import importlib
import types
import typing as t
import zlib

__all__ = [
    "CHUNK",
    "MAX_LAYERS",
    "ContentDecoder",
    "DecodeError",
    "UnsupportedEncoding",
    "accept_encoding",
    "decode_text",
    "text_codec",
]

#: The most bytes one layer hands on per call.
CHUNK = 64 * 1024
#: The most content codings undone (``gzip, gzip`` is two).
MAX_LAYERS = 2


class UnsupportedEncoding(ValueError):
    """The body is encoded in a way this decoder will not undo."""


class DecodeError(ValueError):
    """The encoded body is corrupt."""


class _Layer(t.Protocol):
    def take(self, data: bytes, size: int) -> bytes:
        """Feed ``data``; return at most about ``size`` bytes of output.

        Called again with ``b""`` until it returns ``b""``, to drain what the
        layer holds back.
        """


class _Zlib:
    """gzip (``wbits=31``) or deflate, zlib-wrapped or raw, sniffed as
    browsers do: servers send both under the name ``deflate``."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._head = b""
        self._inflate: t.Any = zlib.decompressobj(31) if gzip else None

    def take(self, data: bytes, size: int) -> bytes:
        if self._inflate is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            cmf, flg = self._head[0], self._head[1]
            wrapped = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
            self._inflate = zlib.decompressobj(15 if wrapped else -15)
            data, self._head = self._head, b""
        if self._inflate.eof:
            return b""  # bytes after the end of the stream are ignored
        source = self._inflate.unconsumed_tail + data
        try:
            return bytes(self._inflate.decompress(source, size))
        except zlib.error as exc:
            kind = "gzip" if self._gzip else "deflate"
            raise DecodeError(f"the {kind} data is corrupt ({exc})") from None


class _Brotli:
    def __init__(self, module: types.ModuleType) -> None:
        self._module = module
        self._decoder = module.Decompressor()
        self._held = b""

    def take(self, data: bytes, size: int) -> bytes:
        self._held += data
        decoder = self._decoder
        try:
            if decoder.is_finished():
                return b""
            # New input only once the decoder has handed out what it holds.
            if self._held and decoder.can_accept_more_data():
                data, self._held = self._held, b""
                return bytes(decoder.process(data, output_buffer_limit=size))
            return bytes(decoder.process(b"", output_buffer_limit=size))
        except self._module.error as exc:
            raise DecodeError(f"the br data is corrupt ({exc})") from None


def _brotli() -> types.ModuleType | None:
    """A Brotli module whose decoder can limit its output (Brotli >= 1.2)."""
    for name in ("brotli", "brotlicffi"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(getattr(module, "Decompressor", None), "can_accept_more_data"):
            return module
    return None


def accept_encoding() -> str:
    """The ``Accept-Encoding`` request value: the codings undone here."""
    return "gzip, deflate, br" if _brotli() is not None else "gzip, deflate"


def _codings(values: cabc.Iterable[str]) -> list[str]:
    codings = []
    for value in values:
        for coding in value.split(","):
            coding = coding.strip(" \t").lower()
            if coding and coding != "identity":
                codings.append(coding)
    return codings


def _layer(coding: str) -> _Layer:
    if coding in ("gzip", "x-gzip"):
        return _Zlib(gzip=True)
    if coding == "deflate":
        return _Zlib(gzip=False)
    if coding == "br":
        module = _brotli()
        if module is not None:
            return _Brotli(module)
        raise UnsupportedEncoding(
            "Content-Encoding 'br' needs a Brotli decoder (pip install 'brotli>=1.2')"
        )
    raise UnsupportedEncoding(f"Content-Encoding {coding!r} is not supported")


class ContentDecoder:
    """Undo a response's content codings, keeping at most ``limit`` bytes.

    :param encodings: the ``Content-Encoding`` field values, in order.
    :param limit: the most decoded bytes kept; more sets :attr:`full`.
    :raise UnsupportedEncoding: an unknown coding, br without a decoder, or
        more than :data:`MAX_LAYERS` codings.
    """

    def __init__(self, encodings: cabc.Iterable[str], limit: int) -> None:
        codings = _codings(encodings)
        if len(codings) > MAX_LAYERS:
            raise UnsupportedEncoding(
                f"Content-Encoding {', '.join(codings)!r} stacks {len(codings)}"
                f" codings; at most {MAX_LAYERS} are undone"
            )
        # The last coding applied is the first undone.
        self._layers = [_layer(coding) for coding in reversed(codings)]
        self.limit = limit
        self.body = bytearray()
        #: Whether more than ``limit`` decoded bytes were offered.
        self.full = False

    def feed(self, data: bytes) -> None:
        """Decode one chunk of raw body bytes.

        :raise DecodeError: the encoded data is corrupt.
        """
        if not self.full:
            self._push(0, data)

    def finish(self) -> None:
        """Drain what the layers hold back once the raw body has ended."""
        self.feed(b"")

    def _push(self, index: int, data: bytes) -> None:
        if index == len(self._layers):
            room = self.limit - len(self.body)
            self.body += data[:room]
            self.full = self.full or len(data) > room
            return
        layer = self._layers[index]
        while not self.full:
            piece = layer.take(data, CHUNK)
            data = b""
            if not piece:
                return
            self._push(index + 1, piece)


# Python codec -> the labels of the WHATWG encoding it decodes
# (https://encoding.spec.whatwg.org/), for the encodings whose Python codec is
# linear in its input. ISO-2022-JP is stateful but linear; "replacement" reads
# a whole body as one U+FFFD; x-user-defined has no codec and reads as UTF-8.
_ENCODINGS: dict[str, str] = {
    "utf-8": ("unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8"
              " x-unicode20utf8"),
    "cp866": "866 cp866 csibm866 ibm866",
    "iso8859_2": ("csisolatin2 iso-8859-2 iso-ir-101 iso8859-2"
                  " iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2"),
    "iso8859_3": ("csisolatin3 iso-8859-3 iso-ir-109 iso8859-3"
                  " iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3"),
    "iso8859_4": ("csisolatin4 iso-8859-4 iso-ir-110 iso8859-4"
                  " iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4"),
    "iso8859_5": ("csisolatincyrillic cyrillic iso-8859-5 iso-ir-144"
                  " iso8859-5 iso88595 iso_8859-5 iso_8859-5:1988"),
    "iso8859_6": ("arabic asmo-708 csiso88596e csiso88596i"
                  " csisolatinarabic ecma-114 iso-8859-6 iso-8859-6-e iso-8859-6-i"
                  " iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987"),
    "iso8859_7": ("csisolatingreek ecma-118 elot_928 greek greek8"
                  " iso-8859-7 iso-ir-126 iso8859-7 iso88597 iso_8859-7"
                  " iso_8859-7:1987 sun_eu_greek"),
    "iso8859_8": ("csiso88598e csisolatinhebrew hebrew iso-8859-8"
                  " iso-8859-8-e iso-ir-138 iso8859-8 iso88598 iso_8859-8"
                  " iso_8859-8:1988 visual csiso88598i iso-8859-8-i logical"),
    "iso8859_10": ("csisolatin6 iso-8859-10 iso-ir-157 iso8859-10"
                   " iso885910 l6 latin6"),
    "iso8859_13": "iso-8859-13 iso8859-13 iso885913",
    "iso8859_14": "iso-8859-14 iso8859-14 iso885914",
    "iso8859_15": ("csisolatin9 iso-8859-15 iso8859-15 iso885915"
                   " iso_8859-15 l9"),
    "iso8859_16": "iso-8859-16",
    "koi8_r": "cskoi8r koi koi8 koi8-r koi8_r",
    "koi8_u": "koi8-ru koi8-u",
    "mac_roman": "csmacintosh mac macintosh x-mac-roman",
    "cp874": ("dos-874 iso-8859-11 iso8859-11 iso885911 tis-620"
              " windows-874"),
    "cp1250": "cp1250 windows-1250 x-cp1250",
    "cp1251": "cp1251 windows-1251 x-cp1251",
    "cp1252": ("ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1"
               " ibm819 iso-8859-1 iso-ir-100 iso8859-1 iso88591 iso_8859-1"
               " iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252"),
    "cp1253": "cp1253 windows-1253 x-cp1253",
    "cp1254": ("cp1254 csisolatin5 iso-8859-9 iso-ir-148"
               " iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989 l5 latin5"
               " windows-1254 x-cp1254"),
    "cp1255": "cp1255 windows-1255 x-cp1255",
    "cp1256": "cp1256 windows-1256 x-cp1256",
    "cp1257": "cp1257 windows-1257 x-cp1257",
    "cp1258": "cp1258 windows-1258 x-cp1258",
    "mac_cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    # WHATWG decodes GBK with the gb18030 decoder, Big5 as Big5-HKSCS,
    # Shift_JIS as Windows-31J and EUC-KR as Windows-949.
    "gb18030": ("chinese csgb2312 csiso58gb231280 gb2312 gb_2312"
                " gb_2312-80 gbk iso-ir-58 x-gbk gb18030"),
    "big5hkscs": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "euc_jp": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "iso2022_jp": "csiso2022jp iso-2022-jp",
    "cp932": ("csshiftjis ms932 ms_kanji shift-jis shift_jis sjis"
              " windows-31j x-sjis"),
    "cp949": ("cseuckr csksc56011987 euc-kr iso-ir-149 korean"
              " ks_c_5601-1987 ks_c_5601-1989 ksc5601 ksc_5601 windows-949"),
    "utf-16-be": "unicodefffe utf-16be",
    "utf-16-le": ("csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff"
                  " utf-16 utf-16le"),
    "replacement": ("csiso2022kr hz-gb-2312 iso-2022-cn"
                    " iso-2022-cn-ext iso-2022-kr replacement"),
}  # fmt: skip
_LABELS = {
    label: codec for codec, labels in _ENCODINGS.items() for label in labels.split()
}
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_ASCII_WS = "\t\n\f\r "


def text_codec(label: str) -> str:
    """The Python codec for a WHATWG encoding ``label``; UTF-8 for any other.

    ``"replacement"`` stands for the WHATWG replacement encoding (the whole
    body reads as one U+FFFD).
    """
    return _LABELS.get(label.strip(_ASCII_WS).lower(), "utf-8")


def _charset(content_type: str | None) -> str:
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip(_ASCII_WS).lower() == "charset":
            return value.strip(_ASCII_WS).strip('"')
    return ""


def decode_text(body: bytes, content_type: str | None) -> str:
    """Decode ``body`` as a browser would from its Content-Type alone.

    A byte order mark wins over the label; a label outside the allowlist
    means UTF-8. Decoding errors become U+FFFD; the cost is linear.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    codec = text_codec(_charset(content_type))
    if codec == "replacement":
        return "\ufffd" if body else ""
    return body.decode(codec, errors="replace")
