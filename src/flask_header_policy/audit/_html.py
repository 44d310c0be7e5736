"""Read an HTML body for the audit, in one linear pass.

:func:`tokens` is a small HTML tokenizer: it follows the HTML tokenizer where
it matters here (comments, ``<!...>`` and ``<?...>``, end tags, quoted
attribute values, character references in attribute values, raw-text
elements such as ``<script>`` and ``<style>`` whose content is not markup, a
tag cut off by the end of the document is dropped) and nothing else.
:func:`scan_html` reads what the grader needs from its tags (``<meta>``
policies, ``<script>`` elements) and, in the same pass, everything a CSP
governs (:mod:`._resources`).

It is not :class:`html.parser.HTMLParser`: that parser is quadratic on
unterminated constructs before CPython 3.11.13 / 3.12.11 / 3.13.4 (about 3 s
for 24 KB of ``<a <a <a`` on 3.11.7; hours for the 2 MB the live audit
reads). Every step here starts where the last one stopped, so the cost is
linear in the size of the body, and it never raises.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import html
import re

from ._resources import Collector
from ._resources import Page

__all__ = ["HtmlFacts", "Script", "Tag", "scan_html", "tokens"]

_WS = "\t\n\f\r "
_SKIP_WS_SLASH = re.compile(r"[\t\n\f\r /]*")
_SKIP_WS = re.compile(r"[\t\n\f\r ]*")
_TAG_NAME = re.compile(r"[^\t\n\f\r />]*")
_ATTR_NAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r /=>]*")
_UNQUOTED = re.compile(r"[^\t\n\f\r >]*")
# Elements whose content is text up to their end tag (HTML "raw text" and
# "escapable raw text"); a <script> inside a <title> loads nothing.
_RAW_TEXT = {
    name: re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE)
    for name in (
        "script", "style", "xmp", "iframe", "noembed", "noframes", "textarea",
        "title",
    )
}  # fmt: skip


@dataclasses.dataclass(slots=True)
class Tag:
    """One start tag.

    :param name: the tag name, lower-cased.
    :param attrs: attribute names (lower-cased) and values (character
        references decoded); the first of a repeated attribute wins.
    :param start: the offset of its ``<`` in the document.
    :param end: where the tokenizer goes on: just after its ``>``, or after
        the content of a raw-text element.
    :param text: the content of a raw-text element (``<script>``,
        ``<style>``...) up to its end tag or the end of the document;
        ``None`` for other elements.
    """

    name: str
    attrs: dict[str, str]
    start: int
    end: int
    text: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Script:
    """One ``<script>`` element.

    :param src: the ``src`` attribute, trimmed; ``None`` for inline scripts.
    :param integrity: the ``integrity`` attribute, ``None`` when absent.
    :param nonce: the ``nonce`` attribute, ``None`` when absent.
    """

    src: str | None
    integrity: str | None
    nonce: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class HtmlFacts:
    """What an HTML document declares that the grader looks at.

    :param csp: the content of every ``<meta http-equiv=Content-Security-Policy>``.
    :param referrer: the content of the last ``<meta name=referrer>``.
    :param scripts: every ``<script>``, in document order.
    :param page: everything a CSP governs (see :mod:`._resources`).
    """

    csp: tuple[str, ...] = ()
    referrer: str | None = None
    scripts: tuple[Script, ...] = ()
    page: Page = dataclasses.field(default_factory=Page)


def _match(pattern: re.Pattern[str], text: str, pos: int) -> tuple[str, int]:
    """The text ``pattern`` matches at ``pos`` (all patterns here allow "")."""
    match = pattern.match(text, pos)
    return ("", pos) if match is None else (match.group(), match.end())


def _start_tag(text: str, pos: int) -> tuple[str, dict[str, str], int] | None:
    """Read the start tag whose name begins at ``pos``; ``None`` at EOF."""
    name, pos = _match(_TAG_NAME, text, pos)
    attrs: dict[str, str] = {}
    end = len(text)
    while True:
        pos = _match(_SKIP_WS_SLASH, text, pos)[1]
        if pos >= end:
            return None
        if text[pos] == ">":
            return name.lower(), attrs, pos + 1
        attr, pos = _match(_ATTR_NAME, text, pos)
        if not attr:  # unreachable: keeps the loop moving whatever happens
            pos += 1
        value = ""
        after = _match(_SKIP_WS, text, pos)[1]
        if after < end and text[after] == "=":
            pos = _match(_SKIP_WS, text, after + 1)[1]
            if pos >= end:
                return None
            if text[pos] in "\"'":
                close = text.find(text[pos], pos + 1)
                if close < 0:
                    return None
                value, pos = text[pos + 1 : close], close + 1
            else:
                value, pos = _match(_UNQUOTED, text, pos)
        # The first of a repeated attribute wins, as in the HTML tokenizer.
        key = attr.lower()
        if key not in attrs:
            attrs[key] = html.unescape(value) if "&" in value else value


def tokens(text: str) -> cabc.Iterator[Tag | str]:
    """The start tags (:class:`Tag`) and end tag names (``str``) of ``text``.

    A ``<plaintext>`` tag is the last token: the rest is text.
    """
    pos = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            return
        after = text[lt + 1 : lt + 2]
        if text.startswith("<!--", lt):
            if text.startswith((">", "->"), lt + 4):  # "<!-->", "<!--->"
                pos = text.index(">", lt + 4) + 1
                continue
            close = text.find("-->", lt + 4)
            if close < 0:
                return
            pos = close + 3
        elif after == "/":
            close = text.find(">", lt + 2)
            if close < 0:
                return
            name = _match(_TAG_NAME, text, lt + 2)[0]
            if name[:1].isascii() and name[:1].isalpha():
                yield name.lower()
            pos = close + 1
        elif after in ("!", "?"):
            # Doctype, CDATA, processing instruction: up to ">".
            close = text.find(">", lt + 2)
            if close < 0:
                return
            pos = close + 1
        elif after.isascii() and after.isalpha():
            read = _start_tag(text, lt + 1)
            if read is None:
                return
            name, attrs, pos = read
            tag = Tag(name, attrs, lt, pos)
            closing = _RAW_TEXT.get(name)
            if closing is not None:
                found = closing.search(text, pos)
                stop = len(text) if found is None else found.start()
                tag.text = text[pos:stop]
                tag.end = pos = stop
            yield tag
            if name == "plaintext" or pos >= len(text):
                return
        else:
            pos = lt + 1


def scan_html(text: str) -> HtmlFacts:
    """Scan ``text`` as HTML and return its :class:`HtmlFacts`; never raises."""
    csp: list[str] = []
    referrer: str | None = None
    scripts: list[Script] = []
    collector = Collector(text)
    try:
        for tag in tokens(text):
            collector.feed(tag)
            if isinstance(tag, str):
                continue
            attrs = tag.attrs
            if tag.name == "script":
                src = attrs.get("src")
                scripts.append(
                    Script(
                        None if src is None else src.strip(_WS),
                        attrs.get("integrity"),
                        attrs.get("nonce"),
                    )
                )
            elif tag.name == "meta" and "content" in attrs:
                if "http-equiv" in attrs:
                    equiv = attrs["http-equiv"].strip(_WS).lower()
                    if equiv == "content-security-policy":
                        csp.append(attrs["content"])
                elif attrs.get("name", "").strip(_WS).lower() == "referrer":
                    referrer = attrs["content"]
    except Exception:  # noqa: BLE001 - keep what was found before the error
        pass
    return HtmlFacts(tuple(csp), referrer, tuple(scripts), collector.page())
