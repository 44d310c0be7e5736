"""Plain-text tables for the terminal: aligned, wrapped, never markup.

``flask headers show`` and the audit print through here. Every cell is plain
text: control characters are shown escaped (``\\x1b``), so a value can
neither be read as markup nor move the cursor. Long cells wrap after a
space, ``;`` or ``,``; a header name or any other token is never broken
unless it is wider than the whole column. No line ends in spaces.
Sans-IO: nothing here imports Flask or reads the terminal.
"""

from __future__ import annotations

import collections.abc as cabc
import re
import unicodedata

# C0 controls but tab, DEL and C1 controls (U+009B is CSI to some
# terminals): a terminal acts on these. Also the line separators and bidi
# controls, which can make text read otherwise than it is.
_CONTROL_RE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# Wrap points: a run ending in ";" or "," (and its spaces), a word and its
# spaces, or spaces alone.
_PIECE_RE = re.compile(r"[^ ;,]*[;,]+ *|[^ ;,]+ *| +")

#: Columns between two table columns.
GAP = 2


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``),
    tabs as spaces.

    Text from a response, a URL or a declaration goes through this before
    it reaches a terminal, so it can never move the cursor, retitle the
    window or open an OSC 8 link.
    """
    return _CONTROL_RE.sub(_escape, str(text).replace("\t", " "))


def _printable_lines(text: str) -> str:
    """:func:`printable`, keeping the newlines that separate a cell's lines."""
    return "\n".join(printable(line) for line in text.split("\n"))


def counted(number: int, noun: str) -> str:
    """``1 report``, ``2 reports``: ``number`` and ``noun`` agreeing."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def width_of(text: str) -> int:
    """Terminal columns ``text`` takes (wide East Asian characters take 2,
    combining marks none)."""
    if text.isascii():
        return len(text)
    total = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return total


def _cut(piece: str, width: int) -> list[str]:
    """A token wider than the column: cut it, the only way it fits."""
    out, current = [], ""
    for char in piece:
        if width_of(current + char) > width and current:
            out.append(current)
            current = ""
        current += char
    return [*out, current] if current else out


def wrap(text: str, width: int | None) -> list[str]:
    """Break ``text`` into lines of at most ``width`` columns.

    Lines break after a space, a ``;`` or a ``,``; a token longer than
    ``width`` is cut. ``width=None`` keeps each line whole. Newlines in
    ``text`` are kept.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if width is None or width_of(paragraph) <= width:
            lines.append(paragraph.rstrip())
            continue
        current = ""
        for piece in _PIECE_RE.findall(paragraph):
            if width_of((current + piece).rstrip()) <= width:
                current += piece
                continue
            if current.strip():
                lines.append(current.rstrip())
            current = piece.lstrip()
            while width_of(current.rstrip()) > width:
                *full, current = _cut(current.rstrip(), width)
                lines.extend(full)
        lines.append(current.rstrip())
    return lines


def longest_token(text: str) -> int:
    """The widest piece :func:`wrap` never breaks (a header name, a URL)."""
    pieces = [p.rstrip() for line in text.split("\n") for p in _PIECE_RE.findall(line)]
    return max((width_of(p) for p in pieces), default=0)


def _natural(cells: cabc.Iterable[str]) -> int:
    return max(
        (width_of(line) for cell in cells for line in cell.split("\n")), default=0
    )


def table(
    header: cabc.Sequence[str],
    rows: cabc.Sequence[cabc.Sequence[str]],
    *,
    width: int | None,
    wrap_columns: cabc.Mapping[int, int] | None = None,
) -> list[str] | None:
    """An aligned table: a header line, then each row (cells may hold
    newlines and then take several lines).

    :param width: the terminal's width; ``None`` never wraps (a pipe).
    :param wrap_columns: column index -> the narrowest it may become; the
        other columns keep their natural width.
    :return: the lines, or ``None`` when the table cannot fit ``width``
        (the caller then prints something narrower).
    """
    header = [_printable_lines(cell) for cell in header]
    rows = [[_printable_lines(cell) for cell in row] for row in rows]
    columns = len(header)
    widths = [_natural([header[i], *(row[i] for row in rows)]) for i in range(columns)]
    gaps = GAP * (columns - 1)
    if width is not None and sum(widths) + gaps > width:
        wrapping = dict(wrap_columns or {})
        fixed = sum(w for i, w in enumerate(widths) if i not in wrapping)
        avail = width - fixed - gaps
        # Each wrapped column needs its widest token (a name is never cut)
        # and the caller's minimum, whichever is more.
        least = {
            i: min(
                widths[i],
                max(
                    minimum,
                    longest_token(header[i]),
                    max((longest_token(row[i]) for row in rows), default=0),
                ),
            )
            for i, minimum in wrapping.items()
        }
        if sum(least.values()) > avail:
            return None
        extra = avail - sum(least.values())
        want = {i: widths[i] - least[i] for i in wrapping}
        total_want = sum(want.values()) or 1
        for i in wrapping:
            widths[i] = least[i] + min(want[i], extra * want[i] // total_want)
    lines = []
    for cells in [header, *rows]:
        wrapped = [
            wrap(_printable_lines(cell), widths[i]) for i, cell in enumerate(cells)
        ]
        for row_line in range(max(len(cell) for cell in wrapped)):
            parts = [
                (cell[row_line] if row_line < len(cell) else "").ljust(widths[i])
                for i, cell in enumerate(wrapped)
            ]
            lines.append((" " * GAP).join(parts).rstrip())
    return lines


def indented(text: str, width: int | None, first: str, rest: str) -> list[str]:
    """``text`` wrapped to ``width``: the first line after ``first``, the
    others after ``rest`` (usually spaces)."""
    room = None
    if width is not None:
        room = max(width - max(width_of(first), width_of(rest)), 20)
    lines = wrap(printable(text), room)
    return [
        ((first if i == 0 else rest) + line).rstrip() for i, line in enumerate(lines)
    ]
