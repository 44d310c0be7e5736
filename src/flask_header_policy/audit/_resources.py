"""Everything in an HTML page that a Content-Security-Policy governs.

:class:`Collector` is fed the tokens of :func:`._html.tokens`, in document
order, and lists each thing a browser would check against the page's CSP
(a :class:`Resource`): ``<script>`` elements (inline and ``src=``), ``<style>``
blocks, ``<link>`` stylesheets, preloads and icons, event-handler and
``style`` attributes, ``javascript:`` URLs, images (``srcset`` and
``<picture>`` included), frames, forms, plugins, media, ``<base href>``, and
the ``<meta http-equiv=Content-Security-Policy>`` policies of the head.

It follows what Chromium does where the specifications leave room (each rule
is checked by ``tests/browser/test_csp_prediction.py``): the content of
``<template>`` loads nothing but its ``style`` and event-handler attributes
are checked, the content of ``<noscript>`` is text, an empty ``<script>`` is
not checked but an empty ``<style>`` or ``style=""`` is, classic scripts with
``nomodule`` never run, and a ``<meta>`` policy outside the head is ignored.
Nothing here resolves URLs or reads a policy: :mod:`._csp_eval` does.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

if t.TYPE_CHECKING:
    from ._html import Tag

__all__ = ["Collector", "Kind", "Page", "Resource", "When", "clip"]

#: What a resource is; :mod:`._csp_eval` maps each kind to its directive.
Kind = t.Literal[
    "inline-script",
    "speculation-rules",
    "script",
    "inline-style",
    "stylesheet",
    "event-handler",
    "style-attribute",
    "javascript-url",
    "image",
    "font",
    "media",
    "frame",
    "object",
    "manifest",
    "connect",
    "form",
    "base",
]
#: When the browser checks it: while the page loads, or on a user action.
When = t.Literal["load", "click", "submit", "use"]

#: Stop listing after this many resources (a 2 MB page of ``<img>`` tags).
MAX_RESOURCES = 10_000

_WS = "\t\n\f\r "
_C0_SPACE = "".join(map(chr, range(0x21)))
_JS_TYPES = frozenset(
    "application/ecmascript application/javascript application/x-ecmascript"
    " application/x-javascript text/ecmascript text/javascript"
    " text/javascript1.0 text/javascript1.1 text/javascript1.2"
    " text/javascript1.3 text/javascript1.4 text/javascript1.5 text/jscript"
    " text/livescript text/x-ecmascript text/x-javascript".split()
)
# Event handler content attributes of every element (HTML's
# GlobalEventHandlers and DocumentAndElementEventHandlers, with the Pointer
# Events, CSS animation/transition and Chromium additions). An unknown on*
# attribute is not a handler: Chromium checks nothing for it.
_HANDLERS = frozenset(
    """abort animationcancel animationend animationiteration animationstart
    auxclick beforecopy beforecut beforeinput beforematch beforepaste
    beforetoggle beforexrselect blur cancel canplay canplaythrough change click
    close command contentvisibilityautostatechange contextlost contextmenu
    contextrestored copy cuechange cut dblclick drag dragend dragenter
    dragleave dragover dragstart drop durationchange emptied ended error focus
    formdata fullscreenchange fullscreenerror gotpointercapture input invalid
    keydown keypress keyup load loadeddata loadedmetadata loadstart
    lostpointercapture mousedown mouseenter mouseleave mousemove mouseout
    mouseover mouseup mousewheel paste pause play playing pointercancel
    pointerdown pointerenter pointerleave pointermove pointerout pointerover
    pointerrawupdate pointerup progress ratechange reset resize scroll
    scrollend scrollsnapchange scrollsnapchanging search securitypolicyviolation
    seeked seeking select selectionchange selectstart slotchange stalled submit
    suspend timeupdate toggle transitioncancel transitionend transitionrun
    transitionstart volumechange waiting webkitanimationend
    webkitanimationiteration webkitanimationstart webkitfullscreenchange
    webkitfullscreenerror webkittransitionend wheel""".split()
)
# WindowEventHandlers: handlers only on <body> and <frameset>.
_WINDOW_HANDLERS = frozenset(
    """afterprint beforeprint beforeunload hashchange languagechange message
    messageerror offline online pagehide pagereveal pageshow pageswap popstate
    rejectionhandled storage unhandledrejection unload""".split()
)
# Start tags that may come before the body without starting it: a <meta>
# policy after any other start tag (or text) is in the body, and ignored.
_HEAD_TAGS = frozenset(
    "html head base basefont bgsound link meta noscript script style template"
    " title".split()
)
# What may sit between head tags without being text: comments, doctypes,
# end tags, whitespace.
_NOT_TEXT = re.compile(r"<!--.*?-->|<[!?/][^>]*>|[\t\n\f\r ]+", re.DOTALL)
_BACKGROUND = frozenset("body table thead tbody tfoot tr td th".split())
_IMAGE_TYPES = frozenset(
    "image/apng image/avif image/bmp image/gif image/jpeg image/png"
    " image/svg+xml image/webp image/x-icon image/vnd.microsoft.icon".split()
)
_PRELOAD_AS: dict[str, Kind] = {
    "script": "script",
    "style": "stylesheet",
    "image": "image",
    "font": "font",
    "fetch": "connect",
    "track": "media",
}
_ICONS = frozenset({"icon", "apple-touch-icon", "apple-touch-icon-precomposed"})


@dataclasses.dataclass(frozen=True, slots=True)
class Resource:
    """One thing in the page that the browser checks against the CSP.

    :param kind: what it is (see :data:`Kind`).
    :param tag: the element, e.g. ``"script"``.
    :param attribute: the attribute that holds its URL or code (``"src"``,
        ``"onclick"``, ``"style"``), ``""`` for an element's content.
    :param url: the URL as written (trimmed); ``None`` for inline code.
    :param text: the inline code, as the browser hashes it (element content
        or attribute value, line breaks normalized; the whole URL for a
        ``javascript:`` URL).
    :param nonce: the ``nonce`` attribute, ``""`` when absent or when the
        element is not nonceable (a ``<script>`` with ``<script``,
        ``<style`` or, in Chromium, ``<link`` in an attribute).
    :param integrity: the ``integrity`` attribute of a script.
    :param line: the line of the element's start tag (1 is the first).
    :param when: when the browser checks it (see :data:`When`).
    :param metas: how many ``<meta>`` policies come before it: only those
        apply to it.
    :param candidates: the other URLs an ``<img srcset>`` with width
        descriptors may pick.
    :param group: media sources of one element share a group above 0: the
        browser tries them in order and stops at the first it may load.
    :param parser_inserted: whether it is a parser-inserted script
        (``<link rel=modulepreload>`` is not: ``'strict-dynamic'`` allows it).
    """

    kind: Kind
    tag: str
    attribute: str
    url: str | None = None
    text: str | None = None
    nonce: str = ""
    integrity: str = ""
    line: int = 1
    when: When = "load"
    metas: int = 0
    candidates: tuple[str, ...] = ()
    group: int = 0
    parser_inserted: bool = True

    def describe(self) -> str:
        """A short, one-line view of the element, for people."""
        if self.kind == "event-handler":
            return f'<{self.tag} {self.attribute}="{clip(self.text)}">'
        if self.kind == "style-attribute":
            return f'<{self.tag} style="{clip(self.text)}">'
        if self.kind == "javascript-url":
            return f'<{self.tag} {self.attribute}="{clip(self.text)}">'
        if self.url is not None:
            return f'<{self.tag} {self.attribute}="{clip(self.url, 60)}">'
        return f"<{self.tag}>{clip(self.text)}</{self.tag}>"


def clip(text: str | None, size: int = 40) -> str:
    """``text`` on one line, at most ``size`` characters, control characters
    escaped: it comes from the page and goes to terminals and reports."""
    text = " ".join((text or "")[: size * 4].split())
    if len(text) > size:
        text = text[: size - 1] + "…"
    if not text.isprintable():
        text = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)
    return text


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    """What a page asks the browser to load or run, in document order.

    :param resources: every :class:`Resource`.
    :param meta: the ``<meta http-equiv=Content-Security-Policy>`` policies
        of the head, in order (a ``<meta>`` policy in the body is ignored).
    :param truncated: whether the list stopped at :data:`MAX_RESOURCES`.
    """

    resources: tuple[Resource, ...] = ()
    meta: tuple[str, ...] = ()
    truncated: bool = False


def _code(text: str) -> str:
    """Text as the browser sees it: line breaks normalized, NUL replaced."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\0", "\ufffd") if "\0" in text else text


def _url(value: str | None) -> str | None:
    """A URL attribute as the URL parser reads it; ``None`` when empty."""
    if value is None:
        return None
    value = value.strip(_C0_SPACE)
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "").replace("\n", "").replace("\r", "")
    return value or None


def _javascript(url: str | None) -> str | None:
    """The serialized ``javascript:`` URL (what its hash covers), else ``None``."""
    if url is None or url[:11].lower() != "javascript:":
        return None
    rest = "".join(
        c
        if " " <= c <= "~"
        else "".join(f"%{b:02X}" for b in c.encode("utf-8", "replace"))
        for c in url[11:]
    )
    return "javascript:" + rest


def _script_type(attrs: dict[str, str]) -> str | None:
    """``"classic"``, ``"module"``, ``"importmap"``, ``"speculationrules"``,
    or ``None`` for a data block (``text/template``, JSON-LD...)."""
    kind = attrs.get("type")
    if kind is None:
        language = attrs.get("language")
        if not language:
            return "classic"
        kind = "text/" + language
    elif kind == "":
        return "classic"
    kind = kind.strip(_WS).lower()
    if kind in _JS_TYPES:
        return "classic"
    if kind in ("module", "importmap", "speculationrules"):
        return kind
    return None


def _nonceable(attrs: dict[str, str]) -> bool:
    """CSP3 "Is element nonceable?" for ``<script>`` (as Chromium: no duplicate
    attribute check, and ``<link`` refused like ``<script`` and ``<style``)."""
    for name, value in attrs.items():
        for text in (name.lower(), value.lower()):
            if "<script" in text or "<style" in text or "<link" in text:
                return False
    return True


def parse_srcset(value: str) -> list[tuple[str, str]]:
    """``(url, descriptor)`` candidates of a ``srcset`` (HTML's algorithm,
    without validating descriptors)."""
    out: list[tuple[str, str]] = []
    pos, end = 0, len(value)
    while pos < end:
        while pos < end and (value[pos] in _WS or value[pos] == ","):
            pos += 1
        start = pos
        while pos < end and value[pos] not in _WS:
            pos += 1
        url = value[start:pos]
        if not url:
            break
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            start, depth = pos, 0
            while pos < end and (value[pos] != "," or depth):
                depth += {"(": 1, ")": -1}.get(value[pos], 0)
                pos += 1
            descriptor = value[start:pos].strip(_WS).lower()
        if url:
            out.append((url, descriptor))
    return out


def _density(descriptor: str) -> float | None:
    if descriptor.endswith("x"):
        try:
            return float(descriptor[:-1])
        except ValueError:
            return None
    return None if descriptor else 1.0


def _image_choice(src: str | None, srcset: str | None) -> tuple[str, ...]:
    """The URL a 1x display loads for ``src`` and ``srcset``, first.

    With width descriptors the choice depends on the viewport: every
    candidate is returned (the first is the one reported).
    """
    candidates = parse_srcset(srcset) if srcset else []
    if any(d.endswith("w") for _, d in candidates):
        urls = [u for u, _ in candidates]
        return tuple(dict.fromkeys([*urls, *([src] if src else [])]))
    dense = [(d, u) for u, dsc in candidates if (d := _density(dsc)) is not None]
    if src and not any(d == 1.0 for d, _ in dense):
        dense.append((1.0, src))
    if not dense:
        return ()
    at_least_one = [pair for pair in dense if pair[0] >= 1.0]
    density, url = min(at_least_one) if at_least_one else max(dense)
    return (url,)


class Collector:
    """Builds a :class:`Page` from the tokens of one document.

    :param text: the whole document (for line numbers and the head's text).
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._resources: list[Resource] = []
        self._meta: list[str] = []
        self._line = 1
        self._offset = 0
        self._in_body = False
        self._head_end = 0
        self._template = 0
        self._noscript = 0
        self._picture: list[tuple[str, str, str]] | None = None
        self._media: tuple[bool, int] | None = None
        self._groups = 0
        self._base = False
        self._truncated = False

    def page(self) -> Page:
        """The page, as far as it was fed."""
        return Page(tuple(self._resources), tuple(self._meta), self._truncated)

    def _add(self, kind: Kind, tag: str, attribute: str, **fields: t.Any) -> None:
        if len(self._resources) >= MAX_RESOURCES:
            self._truncated = True
            return
        fields.setdefault("metas", len(self._meta))
        self._resources.append(
            Resource(kind, tag, attribute, line=self._line, **fields)
        )

    def feed(self, token: Tag | str) -> None:
        """Take the next token: a start tag, or an end tag's name."""
        if isinstance(token, str):
            self._end(token)
            return
        self._line += self._text.count("\n", self._offset, token.start)
        self._offset = token.start
        name = token.name
        if self._noscript:
            # Scripting is on: a <noscript>'s content is text to a browser.
            self._noscript += name == "noscript"
            return
        if not self._in_body:
            self._check_head(token)
        self._attributes(token)
        if name == "template":
            self._template += 1
        elif name == "noscript":
            self._noscript = 1
        elif self._template:
            return  # template content is inert: it loads and runs nothing
        else:
            self._element(token)

    def _end(self, name: str) -> None:
        if self._noscript:
            self._noscript -= name == "noscript"
        elif name == "template" and self._template:
            self._template -= 1
        elif name == "picture":
            self._picture = None
        elif name in ("video", "audio"):
            self._media = None

    def _check_head(self, tag: Tag) -> None:
        gap = self._text[self._head_end : tag.start]
        if tag.name not in _HEAD_TAGS or _NOT_TEXT.sub("", gap):
            self._in_body = True
        self._head_end = tag.end

    def _attributes(self, tag: Tag) -> None:
        """Event handlers and ``style``, checked even in ``<template>``."""
        window = tag.name in ("body", "frameset")
        for name, value in tag.attrs.items():
            if name == "style":
                self._add("style-attribute", tag.name, name, text=_code(value))
            elif name[:2] == "on" and (
                name[2:] in _HANDLERS or (window and name[2:] in _WINDOW_HANDLERS)
            ):
                self._add("event-handler", tag.name, name, text=_code(value))

    def _element(self, tag: Tag) -> None:
        name, attrs = tag.name, tag.attrs
        if name == "script":
            self._script(tag)
        elif name == "style":
            kind = attrs.get("type", "").strip(_WS).lower()
            if kind in ("", "text/css"):
                self._add(
                    "inline-style", name, "", text=_code(tag.text or ""),
                    nonce=attrs.get("nonce", ""),
                )  # fmt: skip
        elif name == "link":
            self._link(attrs)
        elif name == "meta":
            equiv = attrs.get("http-equiv", "").strip(_WS).lower()
            if equiv == "content-security-policy" and not self._in_body:
                if "content" in attrs:
                    self._meta.append(attrs["content"])
        elif name == "base":
            if "href" in attrs and not self._base:
                self._base = True
                self._add("base", name, "href", url=_url(attrs["href"]) or "")
        elif name in ("a", "area"):
            self._navigation(name, "href", attrs.get("href"), "click")
        elif name in ("iframe", "frame"):
            if name == "iframe" and "srcdoc" in attrs:
                return  # srcdoc wins over src, and fetches nothing
            src = _url(attrs.get("src"))
            if src is None or src[:6].lower() == "about:":
                return
            if _javascript(src) is not None:
                self._navigation(name, "src", src, "load")
            else:
                self._add("frame", name, "src", url=src)
        elif name == "form":
            if attrs.get("method", "").strip(_WS).lower() == "dialog":
                return
            self._form(name, "action", attrs.get("action", ""))
        elif name in ("button", "input") and "formaction" in attrs:
            self._form(name, "formaction", attrs["formaction"])
        elif name in ("object", "embed"):
            src = _url(attrs.get("data" if name == "object" else "src"))
            if src is not None:
                self._add(
                    "object", name, "data" if name == "object" else "src", url=src
                )
        elif name in ("video", "audio"):
            self._media_element(name, attrs)
        elif name == "source":
            self._source(attrs)
        elif name == "track":
            src = _url(attrs.get("src"))
            if src is not None:
                when: When = "load" if "default" in attrs else "use"
                self._add("media", name, "src", url=src, when=when)
        elif name == "picture":
            self._picture = []
        elif name == "img":
            self._image(attrs)
        if name == "input" and attrs.get("type", "").strip(_WS).lower() == "image":
            src = _url(attrs.get("src"))
            if src is not None:
                self._add("image", name, "src", url=src)
        if name in _BACKGROUND and _url(attrs.get("background")):
            self._add("image", name, "background", url=_url(attrs["background"]))

    def _script(self, tag: Tag) -> None:
        attrs = tag.attrs
        kind = _script_type(attrs)
        if kind is None or (kind == "classic" and "nomodule" in attrs):
            return
        nonce = attrs.get("nonce", "") if _nonceable(attrs) else ""
        if "src" in attrs:
            src = _url(attrs["src"])
            if src is not None and kind in ("classic", "module"):
                self._add(
                    "script", "script", "src", url=src, nonce=nonce,
                    integrity=attrs.get("integrity", ""),
                )  # fmt: skip
            return
        text = _code(tag.text or "")
        if text:  # an empty inline script is never checked
            kind_of: Kind = (
                "speculation-rules" if kind == "speculationrules" else "inline-script"
            )
            self._add(kind_of, "script", "", text=text, nonce=nonce)

    def _link(self, attrs: dict[str, str]) -> None:
        rel = set(attrs.get("rel", "").lower().split())
        href = _url(attrs.get("href"))
        if href is None:
            return
        nonce = attrs.get("nonce", "")
        if "stylesheet" in rel and "disabled" not in attrs:
            self._add("stylesheet", "link", "href", url=href, nonce=nonce)
        elif "preload" in rel:
            kind = _PRELOAD_AS.get(attrs.get("as", "").strip(_WS).lower())
            if kind is not None:
                self._add(
                    kind, "link", "href", url=href, nonce=nonce,
                    integrity=attrs.get("integrity", ""),
                )  # fmt: skip
        elif "modulepreload" in rel:
            self._add(
                "script", "link", "href", url=href, nonce=nonce,
                integrity=attrs.get("integrity", ""), parser_inserted=False,
            )  # fmt: skip
        elif rel & _ICONS:
            self._add("image", "link", "href", url=href)
        elif "manifest" in rel:
            self._add("manifest", "link", "href", url=href, when="use")

    def _navigation(
        self, tag: str, attribute: str, value: str | None, when: When
    ) -> None:
        url = _javascript(_url(value))
        if url is not None:
            self._add("javascript-url", tag, attribute, url=url, text=url, when=when)

    def _form(self, tag: str, attribute: str, value: str) -> None:
        # An empty action submits to the document's own URL.
        url = _url(value) or ""
        script = _javascript(url)
        self._add("form", tag, attribute, url=script or url, text=script, when="submit")

    def _media_element(self, name: str, attrs: dict[str, str]) -> None:
        src = _url(attrs.get("src"))
        if src is not None:
            self._add("media", name, "src", url=src)
        poster = _url(attrs.get("poster"))
        if poster is not None:
            self._add("image", name, "poster", url=poster)
        self._groups += 1
        self._media = (src is not None, self._groups)

    def _source(self, attrs: dict[str, str]) -> None:
        if self._media is not None:
            has_src, group = self._media
            src = _url(attrs.get("src"))
            if not has_src and src is not None:
                self._add("media", "source", "src", url=src, group=group)
        elif self._picture is not None:
            self._picture.append(
                (
                    attrs.get("srcset", ""),
                    attrs.get("media", ""),
                    attrs.get("type", "").strip(_WS).lower(),
                )
            )

    def _image(self, attrs: dict[str, str]) -> None:
        src = _url(attrs.get("src"))
        srcset = attrs.get("srcset")
        tag = "img"
        # The first <source> of a <picture> with a type the browser shows
        # wins; its media query is assumed to match (the first usually
        # targets the widest screens).
        for source_set, _media, kind in self._picture or ():
            if parse_srcset(source_set) and (not kind or kind in _IMAGE_TYPES):
                src, srcset, tag = None, source_set, "source"
                break
        urls = _image_choice(src, srcset)
        if urls:
            attribute = "src" if urls[0] == src else "srcset"
            self._add("image", tag, attribute, url=urls[0], candidates=urls[1:])
