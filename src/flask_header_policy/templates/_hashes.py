"""What a start tag needs under a CSP: a nonce, or hashes of its inline code.

Sans-IO. Decides which tags carry a nonce (``<script>`` that runs,
``<style>``, ``<link>`` that fetches a style or script), and computes, the way
a browser sees the text, the ``'sha256-…'`` sources of inline event handlers,
``style`` attributes, ``javascript:`` URLs and whole inline elements.
"""

from __future__ import annotations

import dataclasses
import html
import html.entities
import re
import threading
import typing as t
import urllib.parse

from ..csp import hash_source
from ._scan import scan_text
from ._scan import StartTag

__all__ = [
    "KINDS",
    "Hashes",
    "analyse_markup",
    "attribute_hashes",
    "decode_attribute",
    "element_hash",
    "hashes_for",
    "is_script",
    "javascript_url",
    "needs_nonce",
    "register",
]

_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_WS = "\t\n\f\r "
# The strings a <script type> may be for the browser to run it as JavaScript.
_JS_TYPES = frozenset(
    "application/ecmascript application/javascript application/x-ecmascript"
    " application/x-javascript text/ecmascript text/javascript text/javascript1.0"
    " text/javascript1.1 text/javascript1.2 text/javascript1.3 text/javascript1.4"
    " text/javascript1.5 text/jscript text/livescript text/x-ecmascript"
    " text/x-javascript".split()
)
# Not JavaScript, but inline ones are checked against script-src all the same.
_SCRIPT_TYPES = _JS_TYPES | {"", "module", "importmap", "speculationrules"}
_FETCHING_RELS = frozenset({"stylesheet", "preload", "modulepreload"})
_URL_ATTRIBUTES = frozenset({"href", "xlink:href", "action", "formaction"})
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)")
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_MAX_ENTITY = max(len(name) for name in html.entities.html5)


@dataclasses.dataclass(frozen=True, slots=True)
class Hashes:
    """Hash sources (``'sha256-…'``) by what they allow.

    :param script_attr: inline event handlers (``onclick="…"``).
    :param style_attr: ``style="…"`` attributes.
    :param navigation: ``javascript:`` URLs of links and forms.
    :param script_elem: inline ``<script>`` elements.
    :param style_elem: inline ``<style>`` elements.
    """

    script_attr: frozenset[str] = frozenset()
    style_attr: frozenset[str] = frozenset()
    navigation: frozenset[str] = frozenset()
    script_elem: frozenset[str] = frozenset()
    style_elem: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return any(getattr(self, kind) for kind in KINDS)

    def union(self, *others: Hashes) -> Hashes:
        """All the sources of this and ``others``."""
        return Hashes(
            **{
                kind: getattr(self, kind).union(*(getattr(o, kind) for o in others))
                for kind in KINDS
            }
        )


#: The fields of :class:`Hashes`.
KINDS = tuple(field.name for field in dataclasses.fields(Hashes))


#: Every distinct hash set compiled into a template, by number. A compiled
#: template records a small int per render; the sets are looked up once per
#: response. Bounded by the number of distinct sets the app's templates hold.
_IDS: dict[Hashes, int] = {}
_SETS: list[Hashes] = []
_LOCK = threading.Lock()


def register(hashes: Hashes) -> int:
    """The number standing for ``hashes``; the same set gets the same one."""
    with _LOCK:
        number = _IDS.get(hashes)
        if number is None:
            number = _IDS[hashes] = len(_SETS)
            _SETS.append(hashes)
        return number


def hashes_for(numbers: t.Iterable[int]) -> Hashes:
    """The union of the registered sets ``numbers`` stand for."""
    sets = [_SETS[number] for number in numbers]
    return sets[0].union(*sets[1:]) if sets else Hashes()


def _attribute(tag: StartTag, name: str) -> str | None:
    """The static value of attribute ``name`` (``""`` if unset); ``None``
    when it is written with an expression."""
    attribute = tag.get(name)
    if attribute is None:
        return ""
    return attribute.value


def needs_nonce(tag: StartTag) -> bool:
    """Whether ``tag`` is a ``<script>``, ``<style>`` or ``<link>`` that the
    CSP checks and that carries no ``nonce`` yet.

    A ``<script>`` whose ``type`` is not one a browser runs (``text/template``,
    ``application/ld+json``: a data block) is neither run nor checked and
    gets none; nor does a ``<link>`` that fetches no style or script.
    A ``type`` or ``rel`` written with an expression gets one: a nonce on an
    element that does not need it does no harm.
    """
    if tag.name not in ("script", "style", "link") or tag.get("nonce") is not None:
        return False
    if tag.name == "script":
        return is_script(tag)
    if tag.name == "link":
        rel = _attribute(tag, "rel")
        return rel is None or not _FETCHING_RELS.isdisjoint(
            rel.translate(_LOWER).split()
        )
    return True


def is_script(tag: StartTag) -> bool:
    """Whether ``tag`` is a ``<script>`` the browser checks against the CSP."""
    if tag.name != "script":
        return False
    kind = _attribute(tag, "type")
    return kind is None or kind.strip(_ASCII_WS).translate(_LOWER) in _SCRIPT_TYPES


def _normalize_newlines(text: str) -> str:
    # What the browser's input stream does before it tokenizes.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_attribute(value: str) -> str:
    """An attribute value as the browser reads it: character references
    decoded by the rules for attribute values (``&amp=`` and ``&copy2`` stay
    as written, a named reference without ``;`` before ``=`` or an
    alphanumeric is not one)."""
    if "&" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref[0] == "#":
            return html.unescape(match.group())
        if ref.endswith(";") and ref in html.entities.html5:
            return html.entities.html5[ref]
        # The longest name that is a reference without ";" (legacy ones).
        for length in range(min(len(ref), _MAX_ENTITY), 0, -1):
            name = ref[:length]
            if name in html.entities.html5 and not name.endswith(";"):
                following = ref[length : length + 1] or match.string[match.end() :][:1]
                if following and (following.isalnum() or following == "="):
                    return match.group()
                return html.entities.html5[name] + ref[length:]
        return match.group()

    return _CHARREF.sub(replace, value)


def javascript_url(value: str) -> str | None:
    """The text Chromium hashes for a ``javascript:`` URL, or ``None`` when
    ``value`` is not one: leading and trailing C0 controls and spaces and
    every tab and newline removed (the URL parser's first steps), the scheme
    lower-cased, the rest percent-decoded."""
    url = _TAB_NEWLINE.sub("", value.strip("".join(map(chr, range(0x21)))))
    scheme, colon, rest = url.partition(":")
    if not colon or scheme.translate(_LOWER) != "javascript":
        return None
    return "javascript:" + urllib.parse.unquote(rest)


def attribute_hashes(tag: StartTag) -> Hashes:
    """The hashes of the inline code in ``tag``'s attributes whose text is
    static: event handlers, ``style``, and ``javascript:`` URLs."""
    handlers: set[str] = set()
    styles: set[str] = set()
    urls: set[str] = set()
    for attribute in tag.attributes:
        name, value = attribute.name, attribute.value
        if name is None or value is None:
            continue  # an expression in it: its text is known per request only
        if name.startswith("on") and len(name) > 2:
            handlers.add(hash_source(decode_attribute(_normalize_newlines(value))))
        elif name == "style":
            styles.add(hash_source(decode_attribute(_normalize_newlines(value))))
        elif name in _URL_ATTRIBUTES:
            url = javascript_url(decode_attribute(_normalize_newlines(value)))
            if url is not None:
                urls.add(hash_source(url))
    if not (handlers or styles or urls):
        return _EMPTY
    return Hashes(
        script_attr=frozenset(handlers),
        style_attr=frozenset(styles),
        navigation=frozenset(urls),
    )


def element_hash(tag: StartTag) -> Hashes:
    """The hash of an inline ``<script>`` or ``<style>``'s whole text.

    :raise ValueError: the element is not an inline script or style, or its
        text is not static, or it has no end tag; the message says which.
    """
    if tag.name not in ("script", "style"):
        raise ValueError(f"<{tag.name}> is not a <script> or <style>")
    if tag.name == "script" and tag.get("src") is not None:
        raise ValueError(
            "a <script src> cannot be allowed by a hash of its text; let it"
            " carry the nonce (move it out of the block)"
        )
    if tag.content is None:
        raise ValueError(
            f"the text of this <{tag.name}> is not static (an expression is"
            " part of it) or it has no end tag"
        )
    source = hash_source(_normalize_newlines(tag.content))
    if tag.name == "script":
        return Hashes(script_elem=frozenset({source}))
    return Hashes(style_elem=frozenset({source}))


_EMPTY = Hashes()


def analyse_markup(text: str) -> tuple[tuple[int, ...], Hashes]:
    """Where the tags of one piece of trusted markup need a nonce, and the
    hashes of its static inline attributes.

    :return: the offsets right after each tag name that needs a nonce, in
        order, and the hashes.
    """
    offsets: list[int] = []
    found: list[Hashes] = []
    for tag in scan_text(text):
        if needs_nonce(tag):
            offsets.append(tag.name_end[1])
        hashes = attribute_hashes(tag)
        if hashes:
            found.append(hashes)
    return tuple(offsets), _EMPTY.union(*found)
