"""Step 5: the policy enforced, with what the reports asked for."""

from __future__ import annotations

from flask_header_policy import HeaderPolicy
from flask_header_policy import only_for
from flask_header_policy import PRESETS

from .app import create_app

app = create_app(templates="fixed")
csp = (
    PRESETS["strict"]
    .csp.with_sources("img-src", "https://www.gravatar.com")
    # What `flask headers suggest` proposed:
    .with_sources("connect-src", "https://api.shop.example")
    .with_sources("font-src", "https://cdn.jsdelivr.net")
)
policy = HeaderPolicy(
    app,
    preset="strict",
    headers={"Content-Security-Policy": only_for("text/html", csp)},
)
# Keep collecting: browsers report what the enforced policy blocks, too.
policy.collect_reports(app)
