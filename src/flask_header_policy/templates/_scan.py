"""An HTML start-tag scanner that reads template source as the browser will.

Sans-IO, and independent of Jinja: the text arrives in pieces, and between
two pieces there may be an *opaque* part (a template expression) whose output
is not known when the template is compiled. The scanner follows the HTML
tokenizer's states where they decide what is a tag (data, tag names,
attribute names and quoted/unquoted values, comments, ``<!…>`` and ``<?…>``,
end tags, and the raw-text elements such as ``<script>`` whose content is not
markup) and records, for every start tag, where its name ends and what its
attributes are, static text or not.

Every step searches forward from where the last one stopped, so the cost is
linear in the size of the input; it never raises.
"""

from __future__ import annotations

import dataclasses
import re

__all__ = ["Attribute", "Position", "Scanner", "StartTag", "scan_text"]

#: (piece index, offset in that piece).
Position = tuple[int, int]

_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_WS = frozenset("\t\n\f\r ")
_SKIP_WS = re.compile(r"[\t\n\f\r ]*")
_TAG_NAME_END = re.compile(r"[\t\n\f\r />]")
_ATTR_NAME_END = re.compile(r"[\t\n\f\r />=]")
_UNQUOTED_END = re.compile(r"[\t\n\f\r >]")
_COMMENT_END = re.compile(r"--!?>")
# Elements whose content is text up to their end tag. <noscript> is raw text
# when scripting is on, which is the only case a CSP is about.
RAW_TEXT = frozenset(
    "script style xmp iframe noembed noframes noscript textarea title".split()
)
_RAW_END = {
    name: re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE) for name in RAW_TEXT
}

# States of the tokenizer (a subset of HTML's, named as in the standard).
_DATA = 0
_TAG_OPEN = 1
_END_TAG_OPEN = 2
_TAG_NAME = 3
_BEFORE_ATTR_NAME = 4
_ATTR_NAME = 5
_AFTER_ATTR_NAME = 6
_BEFORE_ATTR_VALUE = 7
_VALUE_DOUBLE = 8
_VALUE_SINGLE = 9
_VALUE_UNQUOTED = 10
_AFTER_VALUE_QUOTED = 11
_SELF_CLOSING = 12
_MARKUP_DECLARATION = 13
_COMMENT_START = 14
_COMMENT = 15
_BOGUS_COMMENT = 16
_RAW = 17
_PLAINTEXT = 18


@dataclasses.dataclass(slots=True)
class Attribute:
    """One attribute of a start tag.

    :param name: lower-cased; ``None`` when an expression is part of it.
    :param value: the value as written (character references not decoded);
        ``None`` when an expression is part of it. ``""`` when it has none.
    """

    name: str | None
    value: str | None


@dataclasses.dataclass(slots=True, eq=False)
class StartTag:
    """One start tag, with where its name ends in the input.

    :param name: lower-cased; ``None`` when an expression is part of it.
    :param name_end: the position right after the last character of the
        name: where an attribute can be inserted.
    :param attributes: in source order.
    :param dynamic: an expression stands where attributes go, so the tag may
        have attributes that are not known at compile time.
    :param content: for a raw-text element (``<script>``, ``<style>``…): its
        text up to the end tag; ``None`` while it is open, when an
        expression is part of it, or when the input ended first.
    :param end: for a raw-text element, the position of its end tag.
    """

    name: str | None
    name_end: Position
    attributes: list[Attribute] = dataclasses.field(default_factory=list)
    dynamic: bool = False
    content: str | None = None
    end: Position | None = None

    def get(self, name: str) -> Attribute | None:
        """The first attribute called ``name``, as browsers keep the first."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        return None


class Scanner:
    """Feed text pieces and opaque parts in order; read :attr:`tags`.

    :meth:`save` and :meth:`restore` let a caller contain a region that may
    not be well-formed markup on its own (a template block whose content is
    JavaScript for a ``<script>`` of another template).
    """

    def __init__(self) -> None:
        #: Every complete start tag, in order.
        self.tags: list[StartTag] = []
        self._state = _DATA
        self._piece = -1
        self._tag: StartTag | None = None
        self._is_end_tag = False
        self._name: list[str] = []
        self._name_dynamic = False
        self._attr_name: list[str] = []
        self._attr_name_dynamic = False
        self._value: list[str] = []
        self._value_dynamic = False
        self._raw: StartTag | None = None
        self._raw_name = ""
        self._raw_parts: list[str] = []
        self._raw_dynamic = False

    # Regions.

    def save(self) -> tuple[int, StartTag | None, str] | None:
        """The state between tags, or ``None`` in the middle of a tag."""
        if self._state in (_DATA, _RAW, _PLAINTEXT):
            return (self._state, self._raw, self._raw_name)
        return None

    def restore(self, saved: tuple[int, StartTag | None, str] | None) -> None:
        """Go back to a state from :meth:`save` (``None``: keep going)."""
        if saved is None:
            return
        state, raw, raw_name = saved
        if state == _RAW and raw is not self._raw:
            # The element's content lost its way: it cannot be known.
            self._raw_dynamic = True
        self._state, self._raw, self._raw_name = state, raw, raw_name
        self._tag = None

    # Input.

    def opaque(self) -> None:
        """An expression whose output is unknown stands here."""
        state = self._state
        if state == _TAG_OPEN:
            self._begin_tag(self._piece, 0)
            self._name_dynamic = True
            self._state = _TAG_NAME
        elif state == _TAG_NAME:
            self._name_dynamic = True
        elif state in (_BEFORE_ATTR_NAME, _AFTER_VALUE_QUOTED, _SELF_CLOSING):
            self._dynamic_attributes()
            self._state = _BEFORE_ATTR_NAME
        elif state == _AFTER_ATTR_NAME:
            self._end_attribute()
            self._dynamic_attributes()
            self._state = _BEFORE_ATTR_NAME
        elif state == _ATTR_NAME:
            self._attr_name_dynamic = True
        elif state == _BEFORE_ATTR_VALUE:
            self._value_dynamic = True
            self._state = _VALUE_UNQUOTED
        elif state in (_VALUE_DOUBLE, _VALUE_SINGLE, _VALUE_UNQUOTED):
            self._value_dynamic = True
        elif state in (_END_TAG_OPEN, _MARKUP_DECLARATION):
            self._state = _BOGUS_COMMENT
        elif state == _COMMENT_START:
            self._state = _COMMENT
        elif state == _RAW:
            self._raw_dynamic = True
        # _DATA, _COMMENT, _BOGUS_COMMENT, _PLAINTEXT: text, whatever it is.

    def feed(self, text: str, piece: int) -> None:
        """Scan the next piece of text; ``piece`` numbers it for positions."""
        self._piece = piece
        pos, end = 0, len(text)
        while pos < end:
            pos = self._step(text, pos, end)

    def close(self) -> None:
        """The input ended: a tag cut off here is dropped."""
        self._tag = None
        self._state = _DATA

    # The tokenizer.

    def _step(self, text: str, pos: int, end: int) -> int:
        state = self._state
        if state == _DATA:
            found = text.find("<", pos)
            if found < 0:
                return end
            self._state = _TAG_OPEN
            return found + 1
        if state == _TAG_OPEN:
            char = text[pos]
            if char.isascii() and char.isalpha():
                self._begin_tag(self._piece, pos)
                self._state = _TAG_NAME
                return pos
            if char == "!":
                self._state = _MARKUP_DECLARATION
                return pos + 1
            if char == "/":
                self._state = _END_TAG_OPEN
                return pos + 1
            self._state = _BOGUS_COMMENT if char == "?" else _DATA
            return pos + (char == "?")
        if state == _TAG_NAME:
            match = _TAG_NAME_END.search(text, pos)
            stop = end if match is None else match.start()
            if stop > pos:
                self._name.append(text[pos:stop])
                if self._tag is not None:
                    self._tag.name_end = (self._piece, stop)
            if match is not None:
                self._state = _BEFORE_ATTR_NAME
            return stop
        if state == _BEFORE_ATTR_NAME or state == _AFTER_ATTR_NAME:
            pos = _SKIP_WS.match(text, pos).end()  # type: ignore[union-attr]
            if pos == end:
                return end
            char = text[pos]
            if char == "/":
                self._end_attribute()
                self._state = _SELF_CLOSING
                return pos + 1
            if char == ">":
                self._end_attribute()
                self._emit()
                return pos + 1
            if char == "=" and state == _AFTER_ATTR_NAME:
                self._state = _BEFORE_ATTR_VALUE
                return pos + 1
            self._end_attribute()
            # A leading "=" is part of the name (a parse error browsers accept).
            self._attr_name.append(char)
            self._state = _ATTR_NAME
            return pos + 1
        if state == _ATTR_NAME:
            match = _ATTR_NAME_END.search(text, pos)
            stop = end if match is None else match.start()
            self._attr_name.append(text[pos:stop])
            if match is None:
                return end
            if text[stop] == "=":
                self._state = _BEFORE_ATTR_VALUE
                return stop + 1
            self._state = _AFTER_ATTR_NAME
            return stop
        if state == _BEFORE_ATTR_VALUE:
            pos = _SKIP_WS.match(text, pos).end()  # type: ignore[union-attr]
            if pos == end:
                return end
            char = text[pos]
            if char == '"':
                self._state = _VALUE_DOUBLE
                return pos + 1
            if char == "'":
                self._state = _VALUE_SINGLE
                return pos + 1
            if char == ">":
                self._end_attribute()
                self._emit()
                return pos + 1
            self._state = _VALUE_UNQUOTED
            return pos
        if state == _VALUE_DOUBLE or state == _VALUE_SINGLE:
            quote = '"' if state == _VALUE_DOUBLE else "'"
            found = text.find(quote, pos)
            stop = end if found < 0 else found
            self._value.append(text[pos:stop])
            if found < 0:
                return end
            self._end_attribute(valued=True)
            self._state = _AFTER_VALUE_QUOTED
            return found + 1
        if state == _VALUE_UNQUOTED:
            match = _UNQUOTED_END.search(text, pos)
            stop = end if match is None else match.start()
            self._value.append(text[pos:stop])
            if match is None:
                return end
            self._end_attribute(valued=True)
            if text[stop] == ">":
                self._emit()
            else:
                self._state = _BEFORE_ATTR_NAME
            return stop + 1
        if state == _AFTER_VALUE_QUOTED or state == _SELF_CLOSING:
            char = text[pos]
            if char == ">":
                self._emit()
                return pos + 1
            self._state = _BEFORE_ATTR_NAME
            if char in _WS or (char == "/" and state == _AFTER_VALUE_QUOTED):
                if char == "/":
                    self._state = _SELF_CLOSING
                return pos + 1
            return pos  # reconsume as the start of an attribute name
        if state == _END_TAG_OPEN:
            char = text[pos]
            if char.isascii() and char.isalpha():
                # Attributes of end tags are tokenized, then dropped.
                self._begin_tag(self._piece, pos, end_tag=True)
                self._state = _TAG_NAME
                return pos
            self._state = _DATA if char == ">" else _BOGUS_COMMENT
            return pos + (char == ">")
        if state == _MARKUP_DECLARATION:
            if text.startswith("--", pos):
                self._state = _COMMENT_START
                return pos + 2
            # <!DOCTYPE …>, <![CDATA[…]]> in HTML content, anything else:
            # text up to the next ">", which is where the tag scanner resumes.
            self._state = _BOGUS_COMMENT
            return pos
        if state == _COMMENT_START:
            if text.startswith(">", pos):
                self._state = _DATA  # <!--> ends at once
                return pos + 1
            if text.startswith("->", pos):
                self._state = _DATA  # so does <!--->
                return pos + 2
            self._state = _COMMENT
            return pos
        if state == _COMMENT:
            match = _COMMENT_END.search(text, pos)
            if match is None:
                return end
            self._state = _DATA
            return match.end()
        if state == _BOGUS_COMMENT:
            found = text.find(">", pos)
            if found < 0:
                return end
            self._state = _DATA
            return found + 1
        if state == _RAW:
            match = _RAW_END[self._raw_name].search(text, pos)
            stop = end if match is None else match.start()
            self._raw_parts.append(text[pos:stop])
            if match is None:
                return end
            raw = self._raw
            if raw is not None:
                raw.end = (self._piece, stop)
                if not self._raw_dynamic:
                    raw.content = "".join(self._raw_parts)
            self._raw = None
            self._begin_tag(self._piece, stop + 2, end_tag=True)
            self._name.append(self._raw_name)
            self._state = _BEFORE_ATTR_NAME
            return stop + 2 + len(self._raw_name)
        # _PLAINTEXT: nothing ends it.
        return end

    def _begin_tag(self, piece: int, pos: int, *, end_tag: bool = False) -> None:
        self._tag = StartTag(None, (piece, pos))
        self._is_end_tag = end_tag
        self._name = []
        self._name_dynamic = False
        self._attr_name = []
        self._value = []

    def _dynamic_attributes(self) -> None:
        if self._tag is not None:
            self._tag.dynamic = True

    def _end_attribute(self, *, valued: bool = False) -> None:
        """Finish the attribute being read, if any."""
        if not self._attr_name and not self._attr_name_dynamic:
            return
        tag = self._tag
        if tag is not None and not self._is_end_tag:
            name = None if self._attr_name_dynamic else "".join(self._attr_name)
            value: str | None = "".join(self._value) if valued else ""
            if self._value_dynamic:
                value = None
            tag.attributes.append(
                Attribute(None if name is None else name.translate(_LOWER), value)
            )
        self._attr_name = []
        self._attr_name_dynamic = False
        self._value = []
        self._value_dynamic = False

    def _emit(self) -> None:
        tag = self._tag
        self._tag = None
        self._state = _DATA
        if tag is None or self._is_end_tag:
            return
        if not self._name_dynamic:
            tag.name = "".join(self._name).translate(_LOWER)
        self.tags.append(tag)
        if tag.name in RAW_TEXT:
            self._state = _RAW
            self._raw = tag
            self._raw_name = tag.name
            self._raw_parts = []
            self._raw_dynamic = False
        elif tag.name == "plaintext":
            self._state = _PLAINTEXT


def scan_text(text: str) -> list[StartTag]:
    """Every start tag of one piece of markup (no expressions in it)."""
    scanner = Scanner()
    scanner.feed(text, 0)
    scanner.close()
    return scanner.tags
