"""Step 3: the breaks fixed, each where it comes from."""

from __future__ import annotations

from flask_header_policy import HeaderPolicy
from flask_header_policy import only_for
from flask_header_policy import PRESETS

from .app import create_app

# The templates: `| trust_scripts` on the helper, the handler in a script.
app = create_app(templates="fixed")

# The policy: the layout shows the avatar on every page, so every page
# may load images from Gravatar (the app layer, over the preset's CSP).
csp = PRESETS["strict"].csp.with_sources("img-src", "https://www.gravatar.com")
policy = HeaderPolicy(
    app,
    preset="strict",
    headers={"Content-Security-Policy": only_for("text/html", csp)},
)
