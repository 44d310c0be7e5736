"""Print what the CSP blocks on each page of the stamped shop, and the fix."""

from __future__ import annotations

from flask_header_policy.audit.app import audit_app

from .stamped import app

for audit in audit_app(app):
    for item in audit.breaks:
        print(f"{audit.path} line {item.line}: {item.directive} {item.element}")
        print(f"    fix: {item.fix}")
