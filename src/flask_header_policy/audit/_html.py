"""Collect what the audit needs from an HTML body, with the stdlib parser.

Only ``<meta>`` and ``<script>`` start tags matter: CSP and referrer policies
declared in the document, and the scripts it loads. The parser is fed the
whole body once, so the cost is linear in its size, and it never raises: a
document that trips the parser keeps what was collected before the error.
"""

from __future__ import annotations

import dataclasses
import html.parser

__all__ = ["HtmlFacts", "scan_html"]


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
    """

    csp: tuple[str, ...] = ()
    referrer: str | None = None
    scripts: tuple[Script, ...] = ()


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.csp: list[str] = []
        self.referrer: str | None = None
        self.scripts: list[Script] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("meta", "script"):
            return
        # The first of a repeated attribute wins, as in the HTML tokenizer.
        found: dict[str, str | None] = {}
        for name, value in attrs:
            found.setdefault(name, value)
        if tag == "script":
            src = found.get("src")
            self.scripts.append(
                Script(
                    src=None if src is None else src.strip(),
                    integrity=found.get("integrity"),
                    nonce=found.get("nonce"),
                )
            )
            return
        content = found.get("content")
        if content is None:
            return
        if "http-equiv" in found:
            equiv = (found["http-equiv"] or "").strip().lower()
            if equiv == "content-security-policy":
                self.csp.append(content)
        elif (found.get("name") or "").strip().lower() == "referrer":
            self.referrer = content


def scan_html(text: str) -> HtmlFacts:
    """Parse ``text`` as HTML and return its :class:`HtmlFacts`; never raises."""
    collector = _Collector()
    try:
        collector.feed(text)
        collector.close()
    except Exception:  # noqa: BLE001 - keep what was found before the error
        pass
    return HtmlFacts(
        csp=tuple(collector.csp),
        referrer=collector.referrer,
        scripts=tuple(collector.scripts),
    )
