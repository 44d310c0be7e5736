"""One app that declares each typed builder (the builder pages quote it)."""

from __future__ import annotations

from flask import Flask

from flask_header_policy import CacheControl
from flask_header_policy import ContentDisposition
from flask_header_policy import CrossOriginEmbedderPolicy
from flask_header_policy import CrossOriginOpenerPolicy
from flask_header_policy import CrossOriginResourcePolicy
from flask_header_policy import DocumentPolicy
from flask_header_policy import force
from flask_header_policy import HeaderPolicy
from flask_header_policy import PermissionsPolicy
from flask_header_policy import ReferrerPolicy
from flask_header_policy import StrictTransportSecurity
from flask_header_policy import XContentTypeOptions
from flask_header_policy import XFrameOptions

app = Flask(__name__)
policy = HeaderPolicy(
    app,
    headers={
        # [hsts]
        "Strict-Transport-Security": StrictTransportSecurity(
            max_age=63072000, include_subdomains=True
        ),
        # [/hsts]
        # [permissions]
        "Permissions-Policy": PermissionsPolicy(
            {
                "camera": (),
                "geolocation": ["self", "https://maps.example"],
                "fullscreen": "*",
            }
        ),
        # [/permissions]
        # [referrer]
        "Referrer-Policy": ReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
        # [/referrer]
        # [cross-origin]
        "Cross-Origin-Opener-Policy": CrossOriginOpenerPolicy.SAME_ORIGIN,
        "Cross-Origin-Resource-Policy": CrossOriginResourcePolicy.SAME_SITE,
        # [/cross-origin]
        # [framing]
        "X-Frame-Options": XFrameOptions.DENY,
        "X-Content-Type-Options": XContentTypeOptions.NOSNIFF,
        # [/framing]
        # [cache-control]
        "Cache-Control": CacheControl(no_cache=True),
        # [/cache-control]
        # [document-policy]
        "Document-Policy": DocumentPolicy(
            {"document-write": False, "oversized-images": 2.0},
            report_to="main",
        ),
        "Reporting-Endpoints": 'main="/reports"',
        # [/document-policy]
    },
)


@app.get("/")
def index() -> str:
    return "Hello"


# [isolated]
@app.get("/isolated")
@policy.headers(
    {
        # With COOP same-origin, this page is crossOriginIsolated.
        "Cross-Origin-Embedder-Policy": CrossOriginEmbedderPolicy.REQUIRE_CORP,
    }
)
def isolated() -> str:
    return "SharedArrayBuffer works here"


# [/isolated]


# [download]
@app.get("/cv")
@policy.headers(
    {
        "Content-Disposition": ContentDisposition("attachment", "résumé.pdf"),
        "Cache-Control": force(CacheControl(private=True, max_age=600)),
    }
)
def cv() -> bytes:
    return b"%PDF-1.7 ..."


# [/download]
