"""The sans-IO parts of stamping: the tag scanner, what is hashed, splicing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flask_header_policy.csp import hash_source
from flask_header_policy.templates import Hashes
from flask_header_policy.templates import splice_hashes
from flask_header_policy.templates._hashes import attribute_hashes
from flask_header_policy.templates._hashes import decode_attribute
from flask_header_policy.templates._hashes import javascript_url
from flask_header_policy.templates._hashes import needs_nonce
from flask_header_policy.templates._scan import scan_text
from flask_header_policy.templates._scan import Scanner
from flask_header_policy.templates._scan import StartTag

OPAQUE = object()


def scan(*pieces: object) -> list[StartTag]:
    """Scan text pieces; ``OPAQUE`` stands for an expression."""
    scanner = Scanner()
    for index, piece in enumerate(pieces):
        if piece is OPAQUE:
            scanner.opaque()
        else:
            assert isinstance(piece, str)
            scanner.feed(piece, index)
    scanner.close()
    return scanner.tags


def names(tags: list[StartTag]) -> list[str | None]:
    return [tag.name for tag in tags]


def attrs(tag: StartTag) -> list[tuple[str | None, str | None]]:
    return [(a.name, a.value) for a in tag.attributes]


# The scanner.


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p><SCRIPT>x</SCRIPT><Style>y</sTyle>", ["p", "script", "style"]),
        ("<!-- <script>no</script> --><b>", ["b"]),
        ("<!--> <i> --><b>", ["i", "b"]),  # <!--> ends at once
        ("<!---> <i>", ["i"]),
        ("<!-- a --!> <i>", ["i"]),
        ("<!DOCTYPE html><html>", ["html"]),
        ("<![CDATA[ <x> ]]><i>", ["i"]),  # bogus comment up to the first >
        ("<?php <x> ?><i>", ["i"]),
        ("a < b <3 <> </ > <i>", ["i"]),
        ("</div onclick=x><i>", ["i"]),  # end tags have no attributes
        ("<script>if (a<b) document.write('<i>')</script><b>", ["script", "b"]),
        ("<script>'</scripty>' <i></script ><b>", ["script", "b"]),
        ("<textarea><script></textarea><b>", ["textarea", "b"]),
        ("<title><style></title><b>", ["title", "b"]),
        ("<noscript><link rel=stylesheet></noscript><b>", ["noscript", "b"]),
        ("<plaintext></plaintext><b>", ["plaintext"]),
        ("<script type=text/template><script>x</script></script>", ["script"]),
        ("<a title='>' href=\"x>y\"><b>", ["a", "b"]),
        ("<div\n  class=x\n  id=y\n>", ["div"]),
        ("<img src=x/><br/>", ["img", "br"]),
        ("<unclosed attr=", []),
    ],
)
def test_scanner_finds_start_tags_as_browsers_do(
    html: str, expected: list[str]
) -> None:
    assert names(scan_text(html)) == expected


def test_scanner_reads_attributes() -> None:
    (tag,) = scan_text(
        '<INPUT Type=checkbox checked value=\'a "b"\' data-x="1" =odd a=b=c x\n=\ny/>'
    )
    assert attrs(tag) == [
        ("type", "checkbox"),
        ("checked", ""),
        ("value", 'a "b"'),
        ("data-x", "1"),
        ("=odd", ""),
        ("a", "b=c"),
        ("x", "y/"),
    ]
    assert tag.name_end == (0, 6)


def test_scanner_keeps_raw_text_content() -> None:
    script, style = scan_text(
        "<script>var a = '<b>';\r\n</script><style> p { } </STYLE>"
    )
    assert script.content == "var a = '<b>';\r\n"
    assert style.content == " p { } "
    assert script.end == (0, 24)


def test_expressions_in_tags() -> None:
    dynamic_name, script, link, div = scan(
        "<",
        OPAQUE,
        " x=1><script src=",
        OPAQUE,
        ' defer></script><link rel="',
        OPAQUE,
        '" href=x><div ',
        OPAQUE,
        " on",
        OPAQUE,
        '="y" style="a:',
        OPAQUE,
        '">',
    )
    assert dynamic_name.name is None
    assert script.name == "script" and attrs(script) == [("src", None), ("defer", "")]
    assert attrs(link) == [("rel", None), ("href", "x")]
    assert div.dynamic and attrs(div) == [(None, "y"), ("style", None)]


def test_name_end_is_after_the_last_character_of_the_name() -> None:
    # A {% if %} right after the name splits the text: the stamp must go
    # before it, into the piece that holds the name.
    _, tag = scan("<p>x</p><script", " async></script>")
    assert tag.name == "script" and tag.name_end == (0, 15)
    (tag,) = scan("<script", OPAQUE, ">")
    assert tag.name is None  # <script{{ x }}> may be any element


def test_expression_inside_a_script_makes_its_content_unknown() -> None:
    (tag,) = scan("<script>var a = ", OPAQUE, ";</script><b>")[:1]
    assert tag.content is None and tag.end == (2, 1)


def test_save_and_restore_contain_a_region() -> None:
    scanner = Scanner()
    scanner.feed("<p>", 0)
    saved = scanner.save()
    scanner.feed("for (i = 0; i<n; i++) {}", 1)  # JavaScript for a parent's <script>
    scanner.restore(saved)
    scanner.feed("<script src=x></script>", 2)
    scanner.close()
    assert names(scanner.tags) == ["p", "script"]


@given(st.lists(st.one_of(st.text(max_size=40), st.none()), max_size=20))
def test_scanner_never_raises(pieces: list[str | None]) -> None:
    scanner = Scanner()
    for index, piece in enumerate(pieces):
        if piece is None:
            scanner.opaque()
        else:
            scanner.feed(piece, index)
    scanner.close()
    for tag in scanner.tags:
        assert tag.name is None or tag.name == tag.name.lower()


# What gets a nonce.


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<script>", True),
        ("<script src=x>", True),
        ("<script type=module>", True),
        ("<script type=' Text/JavaScript '>", True),
        ("<script type=importmap>", True),
        ("<script type=speculationrules>", True),
        ("<script type=''>", True),
        ("<script type=application/ld+json>", False),
        ("<script type=text/template>", False),
        ("<script type='text/javascript; charset=utf-8'>", False),
        ("<script nonce=abc>", False),
        ("<script NONCE>", False),
        ("<style>", True),
        ("<style nonce=x>", False),
        ("<link rel=stylesheet href=x>", True),
        ("<link REL='alternate Stylesheet'>", True),
        ("<link rel=preload as=script>", True),
        ("<link rel=modulepreload>", True),
        ("<link rel=icon>", False),
        ("<link href=x>", False),
        ("<img src=x>", False),
    ],
)
def test_needs_nonce(html: str, expected: bool) -> None:
    (tag,) = scan_text(html)
    assert needs_nonce(tag) is expected


def test_type_or_rel_written_with_an_expression_gets_a_nonce() -> None:
    script, link = scan("<script type=", OPAQUE, "></script><link rel=", OPAQUE, ">")
    assert needs_nonce(script) and needs_nonce(link)


# What is hashed, and how the text is read.


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("plain", "plain"),
        ("return confirm(&quot;Sure?&quot;)", 'return confirm("Sure?")'),
        ("a &amp; b", "a & b"),
        ("a &amp b", "a & b"),  # a legacy reference needs no ";"
        ("?x=1&amp=2", "?x=1&amp=2"),  # ...except before "=" in an attribute
        ("&copy2", "&copy2"),  # ...or before an alphanumeric
        ("&notit;", "&notit;"),
        ("&notin;", "\u2209"),
        ("&#39;&#x27;&#X27;", "'''"),
        ("&#0;", "\ufffd"),
        ("&bogus;", "&bogus;"),
        ("&", "&"),
    ],
)
def test_decode_attribute(raw: str, decoded: str) -> None:
    assert decode_attribute(raw) == decoded


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("javascript:void(0)", "javascript:void(0)"),
        ("  JavaScript:a()\n", "javascript:a()"),
        ("java\tscript:a(%20)", "javascript:a( )"),
        ("\x01javascript:x", "javascript:x"),
        ("https://example.org/", None),
        ("/relative:javascript:x", None),
        ("javascript", None),
    ],
)
def test_javascript_url(value: str, expected: str | None) -> None:
    assert javascript_url(value) == expected


def test_attribute_hashes_of_static_inline_code() -> None:
    (tag,) = scan_text(
        "<a href='javascript:go()' onclick=\"return confirm(&#39;x&#39;)\""
        " ONMOUSEOVER=f() style='color: red' on=x action=javascript:y>"
    )
    assert attribute_hashes(tag) == Hashes(
        script_attr=frozenset({hash_source("return confirm('x')"), hash_source("f()")}),
        style_attr=frozenset({hash_source("color: red")}),
        navigation=frozenset(
            {hash_source("javascript:go()"), hash_source("javascript:y")}
        ),
    )


def test_attribute_text_with_an_expression_is_not_hashed() -> None:
    (tag,) = scan("<button onclick='del(", OPAQUE, ")' style='", OPAQUE, "'>")
    assert not attribute_hashes(tag)


def test_newlines_are_normalized_before_hashing() -> None:
    (tag,) = scan_text("<b onclick='a()\r\nb()'>")
    assert attribute_hashes(tag).script_attr == {hash_source("a()\nb()")}


# Splicing hashes into a policy.

H1, H2 = hash_source("one"), hash_source("two")
ATTR = Hashes(script_attr=frozenset({H1}))
STYLE_ATTR = Hashes(style_attr=frozenset({H1}))
NAV = Hashes(navigation=frozenset({H1}))
ELEM = Hashes(script_elem=frozenset({H1}))
STYLE_ELEM = Hashes(style_elem=frozenset({H1}))


@pytest.mark.parametrize(
    ("policy", "hashes", "expected"),
    [
        # The strict preset: -attr directives are created from nothing the
        # fallback allowed for attributes.
        (
            "script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'self'",
            ATTR.union(STYLE_ATTR),
            "script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'self';"
            f" script-src-attr 'unsafe-hashes' {H1};"
            f" style-src-attr 'unsafe-hashes' {H1}",
        ),
        # What the fallback allowed attributes to do is kept.
        (
            f"script-src 'self' 'unsafe-hashes' {H2} 'report-sample'",
            ATTR,
            f"script-src 'self' 'unsafe-hashes' {H2} 'report-sample';"
            f" script-src-attr 'unsafe-hashes' {H2} 'report-sample' {H1}",
        ),
        # A hash without 'unsafe-hashes' allowed no attribute: not copied.
        (
            f"default-src 'self' {H2}",
            ATTR,
            f"default-src 'self' {H2}; script-src-attr 'unsafe-hashes' {H1}",
        ),
        # An existing -attr directive gets them.
        (
            f"script-src-attr {H2}",
            ATTR,
            f"script-src-attr {H2} 'unsafe-hashes' {H1}",
        ),
        # 'unsafe-inline' that nothing cancels allows all: adding a hash
        # would cancel it.
        (
            "style-src 'self' 'unsafe-inline'",
            STYLE_ATTR,
            "style-src 'self' 'unsafe-inline'",
        ),
        # ...but 'strict-dynamic' cancels it for scripts.
        (
            "script-src 'unsafe-inline' 'strict-dynamic' 'nonce-a'",
            ATTR,
            "script-src 'unsafe-inline' 'strict-dynamic' 'nonce-a';"
            f" script-src-attr 'unsafe-hashes' {H1}",
        ),
        # 'none' in the directive that applies is a decision: kept.
        ("script-src-attr 'none'", ATTR, "script-src-attr 'none'"),
        ("script-src 'none'", ATTR, "script-src 'none'"),
        # 'none' in default-src is a default: the hashes get their own.
        (
            "default-src 'none'",
            ATTR.union(ELEM),
            f"default-src 'none'; script-src-attr 'unsafe-hashes' {H1};"
            f" script-src-elem {H1}",
        ),
        # No directive restricts the kind: nothing to add.
        ("img-src 'self'", ATTR.union(STYLE_ELEM), "img-src 'self'"),
        # javascript: URLs: script-src-elem, a full copy of script-src.
        (
            "script-src 'nonce-a' 'strict-dynamic' https://cdn.example",
            NAV.union(ELEM),
            "script-src 'nonce-a' 'strict-dynamic' https://cdn.example;"
            " script-src-elem 'nonce-a' 'strict-dynamic' https://cdn.example"
            f" 'unsafe-hashes' {H1}",
        ),
        # Element hashes go into script-src / style-src as they are.
        ("script-src 'nonce-a'", ELEM, f"script-src 'nonce-a' {H1}"),
        (
            "style-src-elem 'self'; style-src 'none'",
            STYLE_ELEM,
            f"style-src-elem 'self' {H1}; style-src 'none'",
        ),
        # Duplicates: the first one is the one browsers use.
        (
            "script-src 'nonce-a'; script-src *",
            ELEM,
            f"script-src 'nonce-a' {H1}; script-src *",
        ),
        # Every policy of a list gets them; a hash already there is not repeated.
        (
            f"script-src {H1}, Script-Src 'self'",
            ELEM,
            f"script-src {H1}, script-src 'self' {H1}",
        ),
    ],
)
def test_splice_hashes(policy: str, hashes: Hashes, expected: str) -> None:
    assert splice_hashes(policy, hashes) == expected


def test_splice_without_hashes_returns_the_value() -> None:
    assert splice_hashes("script-src  'self'", Hashes()) == "script-src  'self'"
    assert splice_hashes("", ATTR) == ""
