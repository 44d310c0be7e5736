"""Each Flask-Talisman option, and what to declare instead.

The rewrite table of "Coming from Flask-Talisman" is rendered from
``ROWS``; a test sends a request to an app with Flask-Talisman's option and
one with the declaration, and compares what they send.
"""

from __future__ import annotations

import dataclasses
import typing as t

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import CookiePolicy
from flask_header_policy import DocumentPolicy
from flask_header_policy import HTTPSRedirect
from flask_header_policy import NONCE
from flask_header_policy import PermissionsPolicy
from flask_header_policy import ReferrerPolicy
from flask_header_policy import SELF
from flask_header_policy import StrictTransportSecurity
from flask_header_policy import XContentTypeOptions
from flask_header_policy import XFrameOptions
from flask_header_policy.talisman import ALLOW_FROM
from flask_header_policy.talisman import DENY

csp = ContentSecurityPolicy(default_src=SELF, object_src="'none'")


@dataclasses.dataclass(frozen=True)
class Row:
    """One option: Flask-Talisman's ``init_app`` keywords, ``HeaderPolicy``'s.

    :param same: whether the two send the same; when not, ``note`` says how
        they differ.
    """

    talisman: dict[str, t.Any]
    ours: dict[str, t.Any]
    note: str = ""
    same: bool = True


ROWS = [
    Row(
        dict(force_https=True),
        dict(https_redirect=True),
        "308 instead of 302: a POST keeps its method and body",
        same=False,
    ),
    Row(
        dict(force_https_permanent=True),
        dict(https_redirect=HTTPSRedirect(status=301)),
        "or keep the default 308, also permanent",
    ),
    Row(
        dict(frame_options=DENY),
        dict(headers={"X-Frame-Options": XFrameOptions.DENY}),
        "add CSP frame_ancestors=[NONE] for browsers that dropped the header",
    ),
    Row(
        dict(frame_options=ALLOW_FROM, frame_options_allow_from="https://a.example"),
        dict(
            headers={
                "X-Frame-Options": None,
                "Content-Security-Policy": csp.with_directive(
                    "frame-ancestors", "https://a.example"
                ),
            }
        ),
        "browsers ignore ALLOW-FROM and let anyone frame the page;"
        " frame-ancestors is what they enforce",
        same=False,
    ),
    Row(
        dict(strict_transport_security_max_age=63072000),
        dict(
            headers={
                "Strict-Transport-Security": StrictTransportSecurity(
                    max_age=63072000, include_subdomains=True
                )
            }
        ),
        "sent over HTTPS only, as with Flask-Talisman",
    ),
    Row(
        dict(content_security_policy={"default-src": "'self'", "img-src": "*"}),
        dict(
            headers={
                "Content-Security-Policy": ContentSecurityPolicy(
                    {"default-src": SELF, "img-src": "*"}
                )
            }
        ),
    ),
    Row(
        dict(content_security_policy="default-src 'self'; img-src *"),
        dict(
            headers={
                "Content-Security-Policy": ContentSecurityPolicy.from_header(
                    "default-src 'self'; img-src *"
                )
            }
        ),
        "or the text itself, checked when declared",
    ),
    Row(
        dict(
            content_security_policy={"default-src": "'self'", "script-src": "'self'"},
            content_security_policy_nonce_in=["script-src"],
        ),
        dict(
            headers={
                "Content-Security-Policy": ContentSecurityPolicy(
                    default_src=SELF, script_src=[SELF, NONCE]
                )
            }
        ),
        'only_for("text/html", csp): JSON and static files make no nonce',
    ),
    Row(
        dict(
            content_security_policy_report_only=True,
            content_security_policy_report_uri="/csp-reports",
        ),
        dict(
            headers={
                "Content-Security-Policy-Report-Only": csp.with_directive(
                    "report-uri", "/csp-reports"
                )
            }
        ),
        "beside an enforced Content-Security-Policy if you like",
    ),
    Row(
        dict(referrer_policy="no-referrer"),
        dict(headers={"Referrer-Policy": ReferrerPolicy.NO_REFERRER}),
    ),
    Row(
        dict(permissions_policy={"geolocation": "()", "camera": "(self)"}),
        dict(
            headers={
                "Permissions-Policy": PermissionsPolicy(
                    {"geolocation": (), "camera": ["self"]}
                )
            }
        ),
    ),
    Row(
        dict(feature_policy={"geolocation": "'none'"}),
        dict(headers={"Feature-Policy": "geolocation 'none'"}),
        "obsolete: browsers read Permissions-Policy",
    ),
    Row(
        dict(document_policy={"oversized-images": "?0"}),
        dict(headers={"Document-Policy": DocumentPolicy({"oversized-images": False})}),
    ),
    Row(
        dict(session_cookie_samesite="Strict"),
        dict(cookies=CookiePolicy(samesite="Strict", only={"session"})),
        "drop only= to harden every cookie; app.config is never changed",
    ),
    Row(
        dict(force_file_save=True),
        dict(headers={"X-Download-Options": "noopen"}),
    ),
    Row(
        dict(x_content_type_options=True),
        dict(headers={"X-Content-Type-Options": XContentTypeOptions.NOSNIFF}),
    ),
    Row(
        dict(x_xss_protection=True),
        dict(headers={"X-XSS-Protection": "1; mode=block"}),
        'better: leave it out, or "0" (the filter it turns on is gone)',
    ),
]
