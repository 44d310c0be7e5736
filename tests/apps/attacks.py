"""Every way we know for an attacker's input to reach a stamped template.

``ATTACKS`` maps a name to an :class:`Attack`: a template (Jinja source, as a
developer writes it) in which ``q`` is the attacker's value, and a payload
for ``q`` that tries to get a nonce onto markup of its own: through
``|safe`` and ``Markup``, breaking out of attributes, comments, raw text
and foreign content, dangling markup that swallows a stamped tag. The
template's own scripts run ``OWN``; a payload's script runs ``PWN``.
``create_app()`` serves each at ``/attack/<name>?q=…`` under ``strict``.
"""

from __future__ import annotations

import dataclasses

from flask import abort
from flask import Flask
from flask import render_template_string
from flask import request
from flask import Response
from markupsafe import Markup

from flask_header_policy import HeaderPolicy

OWN = "window.own = (window.own || 0) + 1"
PWN = "window.pwned = true"
SCRIPT = f"<script>{PWN}</script>"


@dataclasses.dataclass(frozen=True)
class Attack:
    """One attack.

    :param template: the developer's template; ``q`` is the attacker's value
        (``m`` the same as :class:`~markupsafe.Markup`).
    :param payload: the attacker's value.
    :param own: how many of the template's own scripts still run.
    :param blocked: the browser reports the payload as blocked (otherwise it
        is inert: text, or a name no template has).
    """

    template: str
    payload: str
    own: int = 1
    blocked: bool = True


ATTACKS: dict[str, Attack] = {
    # Through a variable, marked safe two ways.
    "safe": Attack(f"<p>{{{{ q|safe }}}}</p><script>{OWN}</script>", SCRIPT),
    "markup": Attack(f"<p>{{{{ m }}}}</p><script>{OWN}</script>", SCRIPT),
    # Out of an attribute value, quoted either way or not.
    "attribute-double": Attack(
        f'<p title="{{{{ q|safe }}}}">x</p><script>{OWN}</script>',
        f'">{SCRIPT}<p x="',
    ),
    "attribute-single": Attack(
        f"<p title='{{{{ q|safe }}}}'>x</p><script>{OWN}</script>",
        f"'>{SCRIPT}<p x='",
    ),
    "attribute-unquoted": Attack(
        f"<p title={{{{ q|safe }}}}>x</p><script>{OWN}</script>", f"x>{SCRIPT}<p"
    ),
    "attribute-handler": Attack(
        f'<p title="{{{{ q|safe }}}}">x</p><script>{OWN}</script>',
        f'"><img src="/missing.png" onerror="{PWN}" alt="',
    ),
    # Escaped in an attribute: text, whatever it holds.
    "attribute-escaped": Attack(
        f'<p title="{{{{ q }}}}">x</p><script>{OWN}</script>',
        f'">{SCRIPT}',
        blocked=False,
    ),
    # A {% raw %} block is the developer's markup (stamped); q is not.
    "raw": Attack(
        f"{{% raw %}}<script>{OWN}</script>{{% endraw %}}<p>{{{{ q|safe }}}}</p>",
        SCRIPT,
    ),
    # A variable inside a stamped script's text: escaped, it stays in the
    # string; |safe, it can end the script, but its own <script> has no nonce
    # (and the developer's script is broken: nothing of it runs OWN).
    "script-text-escaped": Attack(
        f'<script>var q = "{{{{ q }}}}"; {OWN}</script>',
        f"</script>{SCRIPT}",
        blocked=False,
    ),
    "script-text-safe": Attack(
        f'<script>var q = "{{{{ q|safe }}}}"; {OWN}</script>',
        f'";</script>{SCRIPT}<script>"',
        own=0,
    ),
    # A user-chosen template name finds no template: nothing is rendered.
    "include": Attack(
        f"{{% include q ignore missing %}}<script>{OWN}</script>",
        SCRIPT,
        blocked=False,
    ),
    # Escaped text through trust_scripts is still text.
    "trust-escaped": Attack(
        f"<p>{{{{ q|e|trust_scripts }}}}</p><script>{OWN}</script>",
        SCRIPT,
        blocked=False,
    ),
    # Macros, caller() and {% set %} blocks: their literal tags are stamped
    # where they render, the value in them is not.
    "macro-caller": Attack(
        "{% macro box() %}<div>{{ caller() }}</div>{% endmacro %}"
        f"{{% call box() %}}<p>{{{{ q|safe }}}}</p><script>{OWN}</script>"
        "{% endcall %}",
        SCRIPT,
    ),
    "set-block": Attack(
        f"{{% set part %}}<p>{{{{ q|safe }}}}</p><script>{OWN}</script>"
        "{% endset %}{{ part }}",
        SCRIPT,
    ),
    # Foreign content: an SVG <script> needs the nonce too; out of <svg>,
    # out of a MathML text integration point, out of a CDATA section.
    "svg": Attack(f"<svg>{{{{ q|safe }}}}<script>{OWN}</script></svg>", SCRIPT),
    "svg-breakout": Attack(
        f"<svg><text>{{{{ q|safe }}}}</text></svg><script>{OWN}</script>",
        f"</text></svg>{SCRIPT}<svg><text>",
    ),
    "mathml": Attack(
        f"<math><mtext>{{{{ q|safe }}}}</mtext></math><script>{OWN}</script>",
        SCRIPT,
    ),
    "cdata": Attack(
        f"<svg><![CDATA[{{{{ q|safe }}}}]]></svg><script>{OWN}</script>",
        f"]]>{SCRIPT}<![CDATA[",
    ),
    # <template> content is inert until a script clones it into the page
    # (tests/browser/test_attacks_in_chromium.py does, under two policies).
    "template": Attack(
        f"<template id=t><p>{{{{ q|safe }}}}</p><script>{OWN}</script></template>",
        SCRIPT,
        own=0,
        blocked=False,
    ),
    # Comments: closed by the payload, or closed at once (<!-->).
    "comment": Attack(
        f"<!-- {{{{ q|safe }}}} --><script>{OWN}</script>",
        f"-->{SCRIPT}<!--",
    ),
    "comment-empty": Attack(f"<!-->{{{{ q|safe }}}}<script>{OWN}</script>", SCRIPT),
    # Raw text and escapable raw text ended by the payload.
    "textarea": Attack(
        f"<textarea>{{{{ q|safe }}}}</textarea><script>{OWN}</script>",
        f"</textarea>{SCRIPT}<textarea>",
    ),
    "title": Attack(
        f"<title>{{{{ q|safe }}}}</title><script>{OWN}</script>",
        f"</title>{SCRIPT}<title>",
    ),
    # Unusual spellings of the developer's tags (stamped, as browsers read
    # them) and of the payload's (never stamped). A name built with an
    # expression is not stamped: the developer's script is blocked too.
    "spelling-slash": Attack(
        f"<SCRIPT/x>{OWN}</SCRIPT><p>{{{{ q|safe }}}}</p>",
        f"<SCRIPT/x>{PWN}</SCRIPT>",
    ),
    "spelling-tab": Attack(
        f"<script\t>{OWN}</script\t><p>{{{{ q|safe }}}}</p>",
        f"<script\t>{PWN}</script\t>",
    ),
    "spelling-end-space": Attack(
        f"<script>{OWN}</script ><p>{{{{ q|safe }}}}</p>", f"<script>{PWN}</script >"
    ),
    "spelling-split": Attack(
        f"<scr{{{{ '' }}}}ipt>{OWN}</script><p>{{{{ q|safe }}}}</p>", SCRIPT, own=0
    ),
    # Dangling markup: an unclosed <script src=…> swallows the next stamped
    # tag, nonce included, up to its ">". The nonce goes right after the
    # tag name, so the swallowed attributes always hold "<script", "<style"
    # or "<link" (as a name or in a value), and Chromium refuses the nonce
    # of such an element (CSP3 "is element nonceable"; <link too).
    "dangling-script": Attack(
        "{{ q|safe }}<script src=/own.js></script>", "<script src=/pwn.js ", own=0
    ),
    "dangling-script-quoted": Attack(
        '{{ q|safe }}<script src="/own.js"></script>',
        '<script src=/pwn.js a="',
        own=0,
    ),
    "dangling-style": Attack(
        f"{{{{ q|safe }}}}<style>p {{}}</style><script>{OWN}</script>",
        "<script src=/pwn.js ",
        own=0,
    ),
    "dangling-link": Attack(
        f"{{{{ q|safe }}}}<link rel=stylesheet href=/own.css><script>{OWN}</script>",
        "<script src=/pwn.js ",
        own=0,
    ),
    "dangling-link-unspaced": Attack(
        f"{{{{ q|safe }}}}<link rel=stylesheet href=/own.css><script>{OWN}</script>",
        "<script src=/pwn.js",
        own=0,
    ),
}


def create_app(*, policy: bool = True) -> Flask:
    """Each attack at ``/attack/<name>?q=…``; scripts and a stylesheet.

    :param policy: under ``strict`` (stamping); ``False``: no header policy
        at all, the control that shows each payload runs without it.
    """
    app = Flask("attacks")
    app.testing = True
    if policy:
        HeaderPolicy(app, preset="strict")

    @app.get("/attack/<name>")
    def attack(name: str) -> str:
        if name not in ATTACKS:
            abort(404)
        page = "<!doctype html><html><head><title>t</title></head><body>{}</body>"
        q = request.args.get("q", "")
        return render_template_string(
            page.format(ATTACKS[name].template), q=q, m=Markup(q)
        )

    @app.get("/own.js")
    def own_js() -> Response:
        return Response(OWN, mimetype="text/javascript")

    @app.get("/own.css")
    def own_css() -> Response:
        return Response("p { margin: 0 }", mimetype="text/css")

    # /pwn.js, and what a dangling src= reads as its URL (/pwn.js<link).
    @app.get("/pwn.js<path:rest>")
    @app.get("/pwn.js")
    def pwn_js(rest: str = "") -> Response:
        return Response(PWN, mimetype="text/javascript")

    return app
