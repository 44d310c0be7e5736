"""Nothing from a response, a URL or a declaration is read as Rich markup or
reaches the terminal as an escape sequence (audit tables, findings, progress,
``flask headers show``)."""

from __future__ import annotations

import contextlib
import io
import sys

import hostile
import pytest
from click.testing import CliRunner
from click.testing import Result
from flask import Flask
from flask import Response
from flask.cli import FlaskGroup

from flask_header_policy import HeaderPolicy
from flask_header_policy.audit.cli import audit_command
from flask_header_policy.audit.cli import progress
from flask_header_policy.audit.report import printable

LINK = "[link=https://evil.example/]click here[/link]"
OSC8 = "\x1b]8"
# Rich honours FORCE_COLOR: output as to a terminal, where links are emitted.
TERMINAL = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": None}


def live(
    *headers: tuple[bytes, bytes], env: dict[str, str | None] | None = None
) -> Result:
    with hostile.raw_server(hostile.respond(headers=list(headers))) as port:
        url = f"http://127.0.0.1:{port}/"
        return CliRunner().invoke(audit_command, [url, "--timeout", "5"], env=env)


def test_closing_tag_in_a_header_does_not_crash_the_audit() -> None:
    result = live((b"Server", b"[/x]"))
    assert result.exit_code == 0, result.output
    assert "Server: '[/x]' tells attackers" in result.stdout


def test_link_markup_in_a_header_is_shown_not_followed() -> None:
    result = live((b"X-Powered-By", LINK.encode()), env=TERMINAL)
    assert result.exit_code == 0, result.output
    assert OSC8 not in result.stdout
    assert LINK in result.stdout


def test_escape_sequences_from_a_server_are_escaped() -> None:
    # h11 lets ESC and C1 bytes through in field values; the CSP checks quote
    # a repeated directive name as received.
    name = b"a\x1b[2Jb\x9b31mc\x1b]0:title\x07"  # clear, red, retitle
    result = live((b"Content-Security-Policy", name + b"; " + name))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x9b" not in result.output
    assert "a\\x1b[2jb\\x9b31mc\\x1b]0:title\\x07 is repeated" in result.stdout


def test_in_process_audit_path_with_markup() -> None:
    app = Flask("paths")
    HeaderPolicy(app)
    cli = FlaskGroup(create_app=lambda: app)
    result = CliRunner().invoke(cli, ["headers", "audit", "--url", "/[/x]"])
    assert result.exit_code == 0, result.output
    assert "/[/x]" in result.stdout


@pytest.mark.parametrize("value", ["[/x]", LINK, "[bold red]loud[/]", ":smile:"])
def test_show_prints_declared_values_literally(value: str) -> None:
    app = Flask("show")
    HeaderPolicy(app, headers={"X-Note": value})
    app.add_url_rule("/[b]", "bracket", lambda: "x")
    cli = FlaskGroup(create_app=lambda: app)
    result = CliRunner().invoke(cli, ["headers", "show"], env=TERMINAL)
    assert result.exit_code == 0, result.output
    assert OSC8 not in result.stdout
    assert value in result.stdout
    assert "/[b]" in result.stdout


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_shows_paths_literally(monkeypatch: pytest.MonkeyPatch) -> None:
    err = FakeTTY()
    monkeypatch.setattr(sys, "stderr", err)
    with progress(1) as on_progress:
        on_progress(0, 2, "/[/x]")
        on_progress(1, 2, "/" + LINK + "\x1b]0;title\x07")
        on_progress(2, 2, "")
    assert OSC8 not in err.getvalue()
    assert "\x1b]0;" not in err.getvalue()


def test_progress_lines_escape_control_characters() -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), progress(1) as on_progress:
        on_progress(0, 1, "/a\x1b[2Jb")
    assert err.getvalue() == "auditing 1/1 /a\\x1b[2Jb\n"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain [/x] text", "plain [/x] text"),
        ("\x1b]8;;u\x1b\\", "\\x1b]8;;u\\x1b\\"),
        ("a\x9bb\x7fc\x00d", "a\\x9bb\\x7fc\\x00d"),
        ("tab\tnew\nline", "tab new\\x0aline"),
        ("bidi\u202eevil", "bidi\\u202eevil"),
        ("caf\u00e9 \u20ac", "caf\u00e9 \u20ac"),
    ],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_assert_grade_message_escapes_the_response() -> None:
    from flask_header_policy.pytest_plugin import assert_grade

    name = "a\x1b[2Jb"
    headers = [("Content-Security-Policy", f"{name}; {name}")]
    response = Response("<p>", headers=headers)
    with pytest.raises(AssertionError) as info:
        assert_grade(response, "A+")
    assert "\x1b" not in str(info.value)
    assert "a\\x1b[2jb is repeated" in str(info.value)
