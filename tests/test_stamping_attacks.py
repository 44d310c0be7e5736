"""An attacker against stamping: no nonce and no hash for injected markup.

Each attack of ``tests/apps/attacks.py`` renders the same stamped tags with
the payload as without it, puts every nonce right after the name of a
``<script>``, ``<style>`` or ``<link>`` the template wrote (which is what
keeps a dangling ``<script src=…`` from taking it, see the browser test), and
sends the same CSP: nothing the payload holds is hashed into it.
(``tests/browser/test_attacks_in_chromium.py`` shows in Chromium that the
payloads do not run.)
"""

from __future__ import annotations

import os
import re

import pytest
from flask import Flask
from flask import render_template_string
from flask import request
from flask.testing import FlaskClient
from jinja2 import TemplateNotFound
from jinja2 import TemplateSyntaxError
from markupsafe import escape
from markupsafe import Markup
from tests.apps.attacks import ATTACKS
from tests.apps.attacks import create_app
from tests.apps.attacks import PWN

from flask_header_policy import HeaderPolicy
from flask_header_policy import trust_scripts
from flask_header_policy.csp import hash_source

NONCE_RE = re.compile(r"'nonce-([^']+)'")


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    return create_app().test_client()


def fetch(client: FlaskClient, name: str, q: str) -> tuple[str, str, str]:
    """The page, its CSP with the nonce replaced by ``N``, and the nonce."""
    response = client.get(f"/attack/{name}", query_string={"q": q})
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    (nonce,) = set(NONCE_RE.findall(csp))
    body = response.get_data(as_text=True).replace(nonce, "N")
    return body, csp.replace(nonce, "N"), nonce


@pytest.mark.parametrize("name", ATTACKS)
def test_injected_markup_gets_no_nonce_and_no_hash(
    client: FlaskClient, name: str
) -> None:
    attack = ATTACKS[name]
    clean, clean_csp, _ = fetch(client, name, "")
    page, csp, _ = fetch(client, name, attack.payload)
    # The same stamps, each right after the name of a tag the template wrote.
    assert page.count('nonce="N"') == clean.count('nonce="N"')
    stamped = re.findall(r'<([A-Za-z]+)[\t ]?nonce="N"', page)
    assert len(stamped) == page.count('nonce="N"')
    assert {tag.lower() for tag in stamped} <= {"script", "style", "link"}
    # No hash of anything the payload holds (nor any other change).
    assert csp == clean_csp


def test_the_payloads_reach_the_page() -> None:
    """The attacks are real: each payload's markup is in the page, unescaped
    (but where the template escapes it or renders no template)."""
    client = create_app().test_client()
    inert = {"attribute-escaped", "script-text-escaped", "include", "trust-escaped"}
    for name, attack in ATTACKS.items():
        page, _, _ = fetch(client, name, attack.payload)
        assert (attack.payload in page) == (name not in inert), name


def test_attribute_text_with_an_expression_is_never_hashed() -> None:
    """Handlers, style attributes and javascript: URLs built with an
    expression are known per request only: never hashed, whatever the value
    (the audit reports them; they stay blocked)."""
    app = Flask("handlers")
    HeaderPolicy(app, preset="strict")

    @app.get("/")
    def page() -> str:
        return render_template_string(
            '<button onclick="go(\'{{ q }}\')" style="color: {{ q }}">x</button>'
            '<a href="javascript:{{ q }}">y</a><p onclick="static()">z</p>',
            q=request.args["q"],
        )

    policies = set()
    for q in ("", "red", f"'); {PWN}; ('", f"{PWN}"):
        response = app.test_client().get("/", query_string={"q": q})
        csp = response.headers["Content-Security-Policy"]
        policies.add(NONCE_RE.sub("'nonce-N'", csp))
    # The one static handler's hash, the same for every value.
    (csp,) = policies
    assert "'sha256-" in csp and hash_source("static()") in csp
    assert csp.count("'sha256-") == 1


def test_render_template_string_of_user_input_is_code_execution() -> None:
    """A template is code: rendering one the user wrote runs their code in
    the server (here it reads the process id) and stamps their tags, as it
    would any template source. Never render user input as a template."""
    app = Flask("ssti")
    HeaderPolicy(app, preset="strict")
    user = "{{ cycler.__init__.__globals__.os.getpid() }}<script>x()</script>"
    with app.test_request_context():
        page = render_template_string(user)
    assert page.startswith(f"{os.getpid()}<script nonce=")


@pytest.mark.parametrize(
    "name", ["<script>x()</script>", "../attacks.py", "/etc/passwd", "..\\x.html"]
)
def test_a_user_chosen_include_name_loads_no_markup_of_its_own(name: str) -> None:
    app = Flask("include", root_path=os.path.dirname(__file__))
    HeaderPolicy(app, preset="strict")
    with app.test_request_context(), pytest.raises(TemplateNotFound):
        render_template_string("{% include name %}", name=name)


def test_trust_scripts_refuses_user_text_and_keeps_escaped_text_inert() -> None:
    app = Flask("trust")
    HeaderPolicy(app, preset="strict")
    payload = f"<script>{PWN}</script><b onclick='{PWN}'>"
    with app.test_request_context():
        with pytest.raises(TypeError, match="not str"):
            render_template_string("{{ q|trust_scripts }}", q=payload)
        with pytest.raises(TypeError):
            trust_scripts(payload)
        assert trust_scripts(escape(payload)) == escape(payload)
        # Markup is what the developer vouches for: Markup(q) would be
        # stamped, like |safe|trust_scripts; the README says never to.
        assert "nonce=" in trust_scripts(Markup(payload))


def test_csp_hash_takes_no_expression() -> None:
    app = Flask("csp_hash")
    HeaderPolicy(app, preset="strict")
    with app.test_request_context(), pytest.raises(TemplateSyntaxError):
        render_template_string(
            "{% csp_hash %}<script>var q = {{ q|tojson }}</script>{% endcsp_hash %}",
            q="x",
        )


def test_trusted_values_are_not_kept_beyond_their_response() -> None:
    """A helper's Markup may differ per request (an id in a handler): its
    hashes reach that response's CSP and are not added to the process-wide
    registry of template hash sets, which would grow without bound."""
    from flask_header_policy.templates import _hashes

    app = Flask("trusted")
    HeaderPolicy(app, preset="strict")

    @app.get("/<int:number>")
    def page(number: int) -> str:
        helper = Markup('<b onclick="open({})">x</b>').format(number)
        return render_template_string("{{ helper|trust_scripts }}", helper=helper)

    client = app.test_client()
    client.get("/0")  # the template is compiled (it holds no hashes)
    before = len(_hashes._SETS)
    for number in range(200):
        csp = client.get(f"/{number}").headers["Content-Security-Policy"]
        assert hash_source(f"open({number})") in csp
        assert hash_source(f"open({number + 1})") not in csp
    assert len(_hashes._SETS) == before
