from __future__ import annotations

import pickle
import typing as t

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.http import parse_options_header

from flask_header_policy.content_disposition import ascii_fallback
from flask_header_policy.content_disposition import ContentDisposition
from flask_header_policy.errors import InvalidHeaderError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (ContentDisposition(), "attachment"),
        (ContentDisposition("inline"), "inline"),
        (
            ContentDisposition("attachment", "report.pdf"),
            "attachment; filename=report.pdf",
        ),
        (ContentDisposition("inline", "a b.txt"), 'inline; filename="a b.txt"'),
        (
            ContentDisposition("attachment", 'say "hi"\\.txt'.replace("\\", "")),
            'attachment; filename="say \\"hi\\".txt"',
        ),
        (
            ContentDisposition("attachment", "a;b,c.txt"),
            'attachment; filename="a;b,c.txt"',
        ),
        (
            ContentDisposition("attachment", "résumé.pdf"),
            "attachment; filename=resume.pdf; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
        ),
        (
            ContentDisposition("attachment", "naïve café.txt"),
            'attachment; filename="naive cafe.txt";'
            " filename*=UTF-8''na%C3%AFve%20caf%C3%A9.txt",
        ),
        (
            ContentDisposition("attachment", "報告.pdf"),
            "attachment; filename=download.pdf;"
            " filename*=UTF-8''%E5%A0%B1%E5%91%8A.pdf",
        ),
        (
            ContentDisposition("attachment", "€"),
            "attachment; filename=download; filename*=UTF-8''%E2%82%AC",
        ),
        (
            ContentDisposition("attachment", "a'b%c.txt\u00e9"),
            "attachment; filename=a'b%c.txte; filename*=UTF-8''a%27b%25c.txt%C3%A9",
        ),
        (ContentDisposition("ATTACHMENT", "x"), "attachment; filename=x"),
    ],
)
def test_to_header(value: ContentDisposition, expected: str) -> None:
    assert value.to_header() == expected
    assert str(value) == expected
    assert ContentDisposition.from_header(expected) == value


def test_face() -> None:
    value = ContentDisposition("attachment", "résumé.pdf")
    assert ContentDisposition.header_name == "Content-Disposition"
    assert (
        repr(value)
        == "ContentDisposition(disposition='attachment', filename='résumé.pdf')"
    )
    assert hash(value) == hash(ContentDisposition(filename="résumé.pdf"))
    with pytest.raises(AttributeError):
        value.filename = "x"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(value)) == value


def test_same_scheme_as_send_file() -> None:
    """Werkzeug's send_file writes the same header for a download_name."""
    import io

    from werkzeug.test import EnvironBuilder
    from werkzeug.utils import send_file

    environ = EnvironBuilder().get_environ()
    for name in ("report.pdf", "résumé.pdf", "naïve café.txt", "a b.txt"):
        response = send_file(
            io.BytesIO(b"x"), environ, as_attachment=True, download_name=name
        )
        expected = ContentDisposition("attachment", name).to_header()
        assert response.headers["Content-Disposition"] == expected
        response.close()


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("résumé.pdf", "resume.pdf"),
        ("Ærø.txt", "r.txt"),
        ("報告.pdf", "download.pdf"),
        ("報告", "download"),
        ("ﬁle.txt", "file.txt"),
        ("a／b.txt", "a_b.txt"),  # fullwidth solidus becomes "/" under NFKD
        ("a＼b.txt", "a_b.txt"),
    ],
)
def test_ascii_fallback(name: str, fallback: str) -> None:
    assert ascii_fallback(name) == fallback
    header = ContentDisposition("attachment", name).to_header()
    assert "/" not in header.partition("filename*")[0]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("form-data",), "'form-data' is not 'attachment' or 'inline'"),
        ((None,), "None is not"),
        (("attachment", "../etc/passwd"), "path separator '/'"),
        (("attachment", "dir/file.txt"), "os.path.basename"),
        (("attachment", "C:\\file.txt"), "path separator '\\\\'"),
        (("attachment", "a\r\nSet-Cookie: x"), "'\\r' (CR) at index 1"),
        (("attachment", "a\nb"), "'\\n' (LF)"),
        (("attachment", "a\x00b"), "'\\x00' (NUL)"),
        (("attachment", "a\tb"), "'\\t' (U+0009)"),
        (("attachment", "a\x85b"), "'\\x85' (U+0085)"),
        (("attachment", ""), "filename is empty"),
        (("attachment", ".."), "directory reference"),
        (("attachment", 5), "must be a str, not int"),
    ],
)
def test_invalid(args: tuple[t.Any, ...], names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="Content-Disposition") as info:
        ContentDisposition(*args)
    assert names in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("attachment", ContentDisposition()),
        ("Inline", ContentDisposition("inline")),
        ("attachment;", ContentDisposition()),
        ('attachment; filename="a.txt"', ContentDisposition(filename="a.txt")),
        ("attachment;filename=a.txt", ContentDisposition(filename="a.txt")),
        ("attachment ; FILENAME = a.txt", ContentDisposition(filename="a.txt")),
        (
            "attachment; filename=\"r.pdf\"; filename*=UTF-8''r%C3%A9.pdf",
            ContentDisposition(filename="ré.pdf"),
        ),
        # filename* wins wherever it is (RFC 6266 §4.3).
        (
            "attachment; filename*=UTF-8''r%C3%A9.pdf; filename=\"r.pdf\"",
            ContentDisposition(filename="ré.pdf"),
        ),
        (
            "attachment; filename*=utf-8'en'%E2%82%AC%20rates",
            ContentDisposition(filename="€ rates"),
        ),
        (
            "attachment; filename*=ISO-8859-1''r%E9.pdf",
            ContentDisposition(filename="ré.pdf"),
        ),
    ],
)
def test_from_header(value: str, expected: ContentDisposition) -> None:
    assert ContentDisposition.from_header(value) == expected


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("", "'' is not 'attachment' or 'inline'"),
        ("form-data; name=x", "'form-data' is not"),
        ("attachment; size=3", "unsupported parameter 'size'"),
        ("attachment; filename=a b", "quote a name with spaces"),
        ('attachment; filename="a', "cannot read filename='\"a'"),
        ("attachment; filename=a; filename=b", "'filename' is repeated"),
        ("attachment; filename*=koi8-r''x", "write UTF-8''"),
        ("attachment; filename*=x", "write UTF-8''"),
        ("attachment; filename", "cannot read 'filename'"),
        ('attachment; filename="../x"', "path separator '/'"),
        ("attachment; filename*=UTF-8''..%2Fx", "path separator '/'"),
        ('attachment; filename="a\\\\b"', "path separator"),
        ('attachment; filename=""', "filename is empty"),
        ("attachment\r\n", "'\\r' (CR)"),
    ],
)
def test_from_header_invalid(value: str, names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="Content-Disposition") as info:
        ContentDisposition.from_header(value)
    assert names in str(info.value)


def test_from_header_non_string() -> None:
    with pytest.raises(InvalidHeaderError, match="not bytes"):
        ContentDisposition.from_header(b"attachment")  # type: ignore[arg-type]


_names = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"),
    min_size=1,
).filter(lambda name: name not in (".", ".."))


@settings(deadline=None)
@given(st.sampled_from(["attachment", "inline"]), _names)
def test_round_trip(disposition: str, filename: str) -> None:
    value = ContentDisposition(disposition, filename)
    header = value.to_header()
    assert ContentDisposition.from_header(header) == value
    # Werkzeug reads it back the same way.
    assert parse_options_header(header) == (disposition, {"filename": filename})
