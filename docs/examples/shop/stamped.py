"""Step 1: the ``strict`` preset, which stamps nonces into the templates."""

from __future__ import annotations

from flask_header_policy import HeaderPolicy

from .app import create_app

app = create_app()
policy = HeaderPolicy(app, preset="strict")
