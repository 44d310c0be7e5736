"""Coming from Flask-Talisman: one app, switched in one line, then rewritten.

``dropin_app`` is a Flask-Talisman app whose import line was changed;
``idiomatic_app`` declares the same headers with ``HeaderPolicy``
(docs/tutorials/talisman.rst shows both). ``tests/test_talisman.py`` checks
both against the real Flask-Talisman.
"""

from __future__ import annotations

from flask import Flask
from flask import render_template_string

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import CookiePolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy import HTTPSRedirect
from flask_header_policy import NONCE
from flask_header_policy import PermissionsPolicy
from flask_header_policy import ReferrerPolicy
from flask_header_policy import SELF
from flask_header_policy import StrictTransportSecurity
from flask_header_policy import XContentTypeOptions
from flask_header_policy import XFrameOptions
from flask_header_policy.talisman import ALLOW_FROM
from flask_header_policy.talisman import Talisman  # was: from flask_talisman import

PAGE = '<script nonce="{{ csp_nonce() }}">document.title = "hi"</script>'
PARTNER = "https://partner.example"

# The one-line switch: the Flask-Talisman app, unchanged but for the import.
dropin_app = Flask(__name__)
talisman = Talisman(
    dropin_app,
    content_security_policy={"default-src": "'self'", "script-src": "'self'"},
    content_security_policy_nonce_in=["script-src"],
)


@dropin_app.route("/")
def dropin_index() -> str:
    return render_template_string(PAGE)


@dropin_app.route("/embeddable")
@talisman(frame_options=ALLOW_FROM, frame_options_allow_from=PARTNER)
def dropin_embeddable() -> str:
    return "Embeddable"


@dropin_app.route("/health")
@talisman(force_https=False)
def dropin_health() -> str:
    return "ok"


# The idiomatic rewrite: each Talisman option as a declaration.
csp = ContentSecurityPolicy(default_src=SELF, script_src=[SELF, NONCE])
idiomatic_app = Flask(__name__)
policy = HeaderPolicy(
    idiomatic_app,
    headers={
        "Permissions-Policy": PermissionsPolicy({"browsing-topics": ()}),
        "X-Frame-Options": XFrameOptions.SAMEORIGIN,
        "X-Content-Type-Options": XContentTypeOptions.NOSNIFF,
        "Content-Security-Policy": csp,
        "Strict-Transport-Security": StrictTransportSecurity(
            max_age=31556926, include_subdomains=True
        ),
        "Referrer-Policy": ReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
    },
    cookies=CookiePolicy(only={"session"}),
    https_redirect=HTTPSRedirect(exempt_endpoints={"health"}),
)


@idiomatic_app.route("/")
def index() -> str:
    return render_template_string(PAGE)


@idiomatic_app.route("/embeddable")
@policy.headers(
    {
        "X-Frame-Options": None,  # browsers ignore ALLOW-FROM
        "Content-Security-Policy": csp.with_directive("frame-ancestors", PARTNER),
    }
)
def embeddable() -> str:
    return "Embeddable"


@idiomatic_app.route("/health")
def health() -> str:
    return "ok"
