"""The Jinja extension that stamps nonces and hashes into template source.

It works on the token stream of each template as it is compiled
(:meth:`jinja2.ext.Extension.filter_stream`): the literal text the developer
wrote is scanned as HTML, and

- every ``<script>`` (inline or ``src=``), ``<style>`` and ``<link
  rel=stylesheet|preload|modulepreload>`` without a ``nonce`` gets
  ``nonce="…"`` inserted right after its tag name, as a tag of this
  extension that outputs the request's nonce;
- the ``'sha256-…'`` sources of static inline event handlers, ``style``
  attributes and ``javascript:`` URLs are computed once, and a statement that
  records them when the template (or one of its macros) runs is put first;
- ``{% csp_hash %}…{% endcsp_hash %}`` makes the inline ``<script>`` and
  ``<style>`` elements in it allowed by their hash instead of a nonce.

Text produced by expressions (``{{ … }}``) is never scanned, never stamped:
markup that arrives through a variable, escaped or ``|safe``, gets no nonce.

The extension imports no Flask. What the nonce is and where recorded hashes
go are attributes of the environment (``header_policy_nonce``,
``header_policy_record``), which :mod:`flask_header_policy` sets when it
installs the extension; ``header_policy_stamps(name)`` says which templates
are HTML.
"""

from __future__ import annotations

import bisect
import collections.abc as cabc
import pathlib
import sys
import typing as t

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.ext import Extension
from jinja2.lexer import Token
from jinja2.lexer import TokenStream
from markupsafe import escape
from markupsafe import Markup

from ._hashes import attribute_hashes
from ._hashes import element_hash
from ._hashes import Hashes
from ._hashes import is_script
from ._hashes import needs_nonce
from ._hashes import register
from ._scan import Scanner
from ._scan import StartTag

if t.TYPE_CHECKING:
    from jinja2 import Environment
    from jinja2.parser import Parser

__all__ = ["HASH_TAG", "StampExtension", "stamps_template"]

#: The block tag that hashes the inline scripts and styles inside it.
HASH_TAG = "csp_hash"
_END_HASH_TAG = f"end{HASH_TAG}"
# Tags this extension inserts into the token stream (a template may use them
# too; they are no secret, and only output the nonce or record hashes).
NONCE_TAG = "header_policy_nonce"
RECORD_TAG = "header_policy_hashes"
# Regions scanned from the state where they start: their content is emitted
# elsewhere (a macro, a block of a child template filling a parent's slot).
_REGIONS = {"block": "endblock", "macro": "endmacro", "call": "endcall"}
_NO_ATTRIBUTE = Markup("")
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".svg"})
_JINJA_SUFFIXES = frozenset({".j2", ".jinja", ".jinja2"})


def stamps_template(name: str | None) -> bool:
    """Whether the template called ``name`` is HTML, so it is stamped.

    Templates from strings (no name), names whose last suffix is ``.html``,
    ``.htm``, ``.xhtml`` or ``.svg`` once a ``.j2``, ``.jinja`` or ``.jinja2``
    suffix is dropped, and names without any other suffix are. A ``.js``,
    ``.txt`` or ``.xml`` template is not: ``<script`` there may be text.
    """
    if name is None:
        return True
    suffixes = [s.lower() for s in pathlib.PurePosixPath(name).suffixes]
    while suffixes and suffixes[-1] in _JINJA_SUFFIXES:
        suffixes.pop()
    return not suffixes or suffixes[-1] in _HTML_SUFFIXES


def _no_nonce() -> str | None:
    return None


def _no_record(number: int) -> None:
    return None


class StampExtension(Extension):
    """Stamp nonces into, and hash the inline code of, HTML templates.

    Add it to an environment (``env.add_extension(StampExtension)``) and set
    ``env.header_policy_nonce`` (a callable returning the current nonce or
    ``None``) and ``env.header_policy_record`` (a callable taking the number
    of a hash set, see :func:`~flask_header_policy.templates.hashes_for`).
    """

    tags = {NONCE_TAG, RECORD_TAG, HASH_TAG}
    # Run after other extensions' stream filters: see the final markup.
    priority = 1000

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        # The attribute for the last nonce seen: a page stamps several tags
        # with the same one. (One tuple, so threads read a matching pair.)
        self._last: tuple[str, Markup] = ("", Markup(""))
        #: What a stamped tag outputs: see :class:`_NonceAttribute`.
        self.nonce = _NonceAttribute(self)
        environment.extend(
            header_policy_nonce=_no_nonce,
            header_policy_record=_no_record,
            header_policy_stamps=stamps_template,
        )

    def filter_stream(self, stream: TokenStream) -> TokenStream | cabc.Iterable[Token]:
        stamps = getattr(self.environment, "header_policy_stamps", stamps_template)
        if not stamps(stream.name):
            return stream
        return _Stamper(list(stream), stream.name, stream.filename).run()

    def parse(self, parser: Parser) -> nodes.Node:
        token = next(parser.stream)
        if token.value == NONCE_TAG:
            attribute = self.attr("nonce", lineno=token.lineno)
            return nodes.Output([attribute], lineno=token.lineno)
        if token.value == RECORD_TAG:
            number = parser.stream.expect("integer").value
            call = self.call_method(
                "record_hashes", [nodes.Const(number)], lineno=token.lineno
            )
            return nodes.ExprStmt(call, lineno=token.lineno)
        parser.fail(
            f"{{% {HASH_TAG} %}} works in HTML templates only (see"
            " flask_header_policy.templates.stamps_template); this one is not"
            " stamped",
            token.lineno,
        )

    def bind(self, environment: Environment) -> t.Self:
        bound = super().bind(environment)
        bound.nonce = _NonceAttribute(bound)
        return bound

    def nonce_attribute(self) -> Markup:
        """`` nonce="…"`` with the current nonce, or nothing without one."""
        nonce = self.environment.header_policy_nonce()  # type: ignore[attr-defined]
        if not nonce:
            return _NO_ATTRIBUTE
        last = self._last
        if last[0] == nonce:
            return last[1]
        attribute = Markup(f' nonce="{escape(nonce)}"')
        self._last = (nonce, attribute)
        return attribute

    def record_hashes(self, number: int) -> str:
        """Record that a template holding hash set ``number`` runs."""
        self.environment.header_policy_record(number)  # type: ignore[attr-defined]
        return ""


class _NonceAttribute:
    """Renders as the current nonce attribute, escaped or not.

    A stamped tag outputs this object: Jinja turns it into text with
    ``escape()`` (which calls ``__html__``) or ``str()``, which is cheaper
    than a call through the template context for every tag.
    """

    __slots__ = ("_extension",)

    def __init__(self, extension: StampExtension) -> None:
        self._extension = extension

    def __html__(self) -> str:
        return self._extension.nonce_attribute()

    __str__ = __html__


class _Stamper:
    """One template's token stream: scan, decide, rewrite."""

    def __init__(self, tokens: list[Token], name: str | None, filename: str | None):
        self.tokens = tokens
        self.name = name
        self.filename = filename
        self.scanner = Scanner()
        #: Token indices: [start, end) of {% csp_hash %} and {% trans %} bodies.
        self.hash_regions: list[tuple[int, int]] = []
        self.trans_regions: list[tuple[int, int]] = []
        #: Token indices of the block tags to drop, and of macro headers' ends.
        self.drop: set[int] = set()
        self.macro_starts: list[int] = []

    def fail(self, message: str, index: int, offset: int = 0) -> t.NoReturn:
        token = self.tokens[index]
        lineno = token.lineno
        if token.type == "data":
            lineno += token.value.count("\n", 0, offset)
        raise TemplateSyntaxError(message, lineno, self.name, self.filename)

    def run(self) -> list[Token]:
        self.scan()
        inserts: dict[int, list[int]] = {}
        found: list[Hashes] = []
        for tag in self.scanner.tags:
            index, offset = tag.name_end
            hash_region = _region(self.hash_regions, index)
            if hash_region is not None and tag.name in ("script", "style", "link"):
                found.append(self.element_hash(tag, hash_region))
            elif needs_nonce(tag) and _region(self.trans_regions, index) is None:
                inserts.setdefault(index, []).append(offset)
            found.append(attribute_hashes(tag))
        for start, end in self.hash_regions:
            if not any(
                start <= tag.name_end[0] < end and tag.name in ("script", "style")
                for tag in self.scanner.tags
            ):
                self.fail(
                    f"{{% {HASH_TAG} %}} holds no inline <script> or <style>: put"
                    " the elements to allow by their hash inside it",
                    start,
                )
        hashes = Hashes().union(*found)
        return self.rewrite(inserts, register(hashes) if hashes else None)

    def element_hash(self, tag: StartTag, region: tuple[int, int]) -> Hashes:
        index, offset = tag.name_end
        if tag.name == "link" or (tag.name == "script" and not is_script(tag)):
            if tag.name == "link" and needs_nonce(tag):
                self.fail(
                    f"a <link> in {{% {HASH_TAG} %}} cannot be allowed by a hash;"
                    " move it out of the block (it gets the nonce)",
                    index,
                    offset,
                )
            return Hashes()
        if tag.end is not None and tag.end[0] >= region[1]:
            self.fail(
                f"this <{tag.name}> must end inside its {{% {HASH_TAG} %}} block",
                index,
                offset,
            )
        try:
            return element_hash(tag)
        except ValueError as error:
            self.fail(f"{{% {HASH_TAG} %}}: {error}", index, offset)

    def scan(self) -> None:
        tokens = self.tokens
        scanner = self.scanner
        saved: list[tuple[str, t.Any]] = []
        hash_start: int | None = None
        trans_start: int | None = None
        index, count = 0, len(tokens)
        while index < count:
            token = tokens[index]
            if token.type == "data":
                scanner.feed(token.value, index)
                index += 1
                continue
            end = index + 1
            closing = {"variable_begin": "variable_end", "block_begin": "block_end"}
            if token.type in closing:
                while end < count and tokens[end].type != closing[token.type]:
                    end += 1
                end += 1
            keyword = None
            if token.type == "block_begin" and index + 1 < count:
                following = tokens[index + 1]
                keyword = following.value if following.type == "name" else None
            if hash_start is not None and keyword != _END_HASH_TAG:
                self.fail(
                    f"{{% {HASH_TAG} %}} holds static text only: an expression or"
                    " tag inside it would change the text its hash is of",
                    index,
                )
            if token.type == "variable_begin":
                scanner.opaque()
            elif keyword == HASH_TAG:
                hash_start = end
                self.drop.update(range(index, end))
            elif keyword == _END_HASH_TAG:
                if hash_start is None:
                    self.fail(f"{{% {_END_HASH_TAG} %}} without {HASH_TAG}", index)
                self.hash_regions.append((hash_start, index))
                self.drop.update(range(index, end))
                hash_start = None
            elif keyword == "trans":
                trans_start = end
            elif keyword == "endtrans" and trans_start is not None:
                self.trans_regions.append((trans_start, index))
                trans_start = None
            elif keyword in _REGIONS:
                saved.append((_REGIONS[keyword], scanner.save()))
                if keyword == "macro":
                    self.macro_starts.append(end)
            elif saved and keyword == saved[-1][0]:
                scanner.restore(saved.pop()[1])
            index = end
        if hash_start is not None:
            self.fail(f"{{% {HASH_TAG} %}} has no {{% {_END_HASH_TAG} %}}", count - 1)
        scanner.close()

    def rewrite(self, inserts: dict[int, list[int]], number: int | None) -> list[Token]:
        tokens = self.tokens
        out: list[Token] = []
        lineno = tokens[0].lineno if tokens else 1
        if number is not None:
            out += _record(lineno, number)
        macro_starts = set(self.macro_starts)
        for index, token in enumerate(tokens):
            if index in macro_starts and number is not None:
                out += _record(token.lineno, number)
            if index in self.drop:
                continue
            offsets = inserts.get(index)
            if offsets is None:
                out.append(token)
                continue
            text, last, line = token.value, 0, token.lineno
            for offset in offsets:
                if offset > last:
                    out.append(Token(line, "data", text[last:offset]))
                    line += text.count("\n", last, offset)
                out += _nonce(line)
                last = offset
            if last < len(text):
                out.append(Token(line, "data", text[last:]))
        return out


def _region(regions: list[tuple[int, int]], index: int) -> tuple[int, int] | None:
    """The region holding token ``index``, if any (regions are sorted)."""
    at = bisect.bisect_right(regions, (index, sys.maxsize)) - 1
    if at >= 0 and regions[at][0] <= index < regions[at][1]:
        return regions[at]
    return None


def _nonce(lineno: int) -> list[Token]:
    return [
        Token(lineno, "block_begin", "{%"),
        Token(lineno, "name", NONCE_TAG),
        Token(lineno, "block_end", "%}"),
    ]


def _record(lineno: int, number: int) -> list[Token]:
    return [
        Token(lineno, "block_begin", "{%"),
        Token(lineno, "name", RECORD_TAG),
        Token(lineno, "integer", t.cast(str, number)),  # ints, as the lexer makes
        Token(lineno, "block_end", "%}"),
    ]
