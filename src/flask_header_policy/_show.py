"""What ``flask headers show`` prints: a table, or one block per route.

The rows come from :func:`flask_header_policy.cli.route_headers` (the same
data as ``--json``). Wide enough, the output is a table modelled on
``flask routes``; in a narrow terminal each route becomes a block of
``Name: value`` lines, values wrapped at spaces and ``;``. In a pipe
(``width=None``) each header stays on one line, for ``grep``.
Sans-IO: nothing here imports Flask.
"""

from __future__ import annotations

import typing as t

from ._text import indented
from ._text import printable
from ._text import table

__all__ = ["render"]

_COLUMNS = ("Endpoint", "Methods", "Rule", "Header", "Value", "Layer", "Mode")
# Narrower than this, a header value is more line breaks than text.
_MIN_VALUE = 36
_HTML = ["application/xhtml+xml", "text/html"]


def _mode(header: dict[str, t.Any]) -> str:
    """The mode and conditions of a declaration, in words."""
    words = []
    if header["mode"] != "default":
        words.append(header["mode"])
    if header.get("mimetypes"):
        kinds = header["mimetypes"]
        words.append("HTML only" if kinds == _HTML else "only " + ", ".join(kinds))
    if header.get("secure_only"):
        words.append("HTTPS only")
    return ", ".join(words)


def _value(header: dict[str, t.Any], *, inline: bool) -> str:
    """The declared value, then the values for other types and for plain
    HTTP: on lines of their own, or in parentheses on one line (a pipe)."""
    parts = [str(header.get("declared_value", header["value"]))]
    if header.get("otherwise") is not None:
        parts.append(f"other types: {header['otherwise']}")
    if header.get("http_value") is not None:
        parts.append(f"over HTTP: {header['http_value']}")
    elif header.get("http_value_omitted"):
        parts.append("over HTTP: not sent")
    if inline:
        return parts[0] + "".join(f" ({part})" for part in parts[1:])
    return "\n".join(parts)


def _sent(header: dict[str, t.Any]) -> str:
    """What ``--check`` saw, when it differs from the declaration."""
    check = header.get("check")
    if not check:
        return ""
    if check["status"] == "overridden":
        return f"the response's own value won: {check['sent']}"
    if check["status"] == "not sent" and check.get("why") != "removed":
        return "not sent on this response" + (
            f" ({check['why']})" if check.get("why") else ""
        )
    if check["status"] == "sent" and header["layer"] == "dynamic":
        return f"sent: {check['sent']}"
    return ""


def _not_requested(row: dict[str, t.Any]) -> str:
    """Why ``--check`` did not request this route, or ``""``."""
    for header in row["headers"]:
        check = header.get("check") or {}
        if check.get("status") == "not requested":
            return str(check.get("why", "not requested"))
    return ""


def _route(row: dict[str, t.Any]) -> tuple[str, str, str]:
    return (row["endpoint"], ", ".join(row["methods"]), row["rule"])


def _table(rows: list[dict[str, t.Any]], width: int | None) -> list[str] | None:
    checked = any(h.get("check") for row in rows for h in row["headers"])
    header = [*_COLUMNS, "Check"] if checked else list(_COLUMNS)
    cells: list[list[str]] = []
    for row in rows:
        route = _route(row)
        if not row["headers"]:
            cells.append([*route, "(none)", "", "", "", *([""] if checked else [])])
        for index, item in enumerate(row["headers"]):
            line = [
                *(route if index == 0 else ("", "", "")),
                item["name"],
                _value(item, inline=width is None),
                item["layer"],
                _mode(item),
            ]
            if checked:
                line.append(_not_requested(row) if index == 0 else "")
                line[-1] = line[-1] or _sent(item)
            cells.append(line)
    wrapping = {4: _MIN_VALUE, 6: 10}
    if checked:
        wrapping[7] = 16
    return table(header, cells, width=width, wrap_columns=wrapping)


def _blocks(rows: list[dict[str, t.Any]], width: int | None) -> list[str]:
    lines: list[str] = []
    for row in rows:
        endpoint, methods, rule = _route(row)
        title = "  ".join(part for part in (endpoint, methods, rule) if part)
        if lines:
            lines.append("")
        lines.extend(indented(title, width, "", "  "))
        skipped = _not_requested(row)
        if skipped:
            lines.extend(indented(f"({skipped})", width, "  ", "    "))
        if not row["headers"]:
            lines.append("  (no headers)")
        for item in row["headers"]:
            tags = ", ".join(filter(None, [item["layer"], _mode(item)]))
            value_lines = _value(item, inline=width is None).split("\n")
            text = f"{item['name']}: {value_lines[0]}  [{tags}]"
            lines.extend(indented(text, width, "  ", "      "))
            for extra in value_lines[1:]:
                lines.extend(indented(extra, width, "      ", "        "))
            sent = _sent(item)
            if sent:
                lines.extend(indented(sent, width, "      ", "        "))
    return lines


def render(rows: list[dict[str, t.Any]], width: int | None) -> list[str]:
    """The lines ``flask headers show`` prints for ``rows``.

    :param width: the terminal's width in columns; ``None`` (a pipe) keeps
        each header on one line.
    """
    for row in rows:
        row["endpoint"] = printable(row["endpoint"])
        row["rule"] = printable(row["rule"])
    lines = _table(rows, width)
    if lines is None:
        lines = _blocks(rows, width)
    return lines
