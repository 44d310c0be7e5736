"""Violation reports: a report-only CSP tried out next to the enforced one."""

from __future__ import annotations

from flask import Flask

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy import NONE
from flask_header_policy import PermissionsPolicy
from flask_header_policy import ReportingEndpoints
from flask_header_policy import SELF

enforced = ContentSecurityPolicy(default_src=[SELF], object_src=[NONE])
# The stricter policy to adopt next: browsers report what it would block.
trial = ContentSecurityPolicy(
    default_src=[NONE],
    script_src=[SELF],
    img_src=[SELF],
    report_to="csp",
    report_uri=["/csp-reports"],  # for browsers without report-to
)

app = Flask(__name__)
HeaderPolicy(
    app,
    headers={
        "Reporting-Endpoints": ReportingEndpoints(
            {"csp": "/csp-reports", "permissions": "/permissions-reports"}
        ),
        "Content-Security-Policy": enforced,
        "Content-Security-Policy-Report-Only": trial,
        "Permissions-Policy": PermissionsPolicy(
            {"camera": (), "microphone": ()}, report_to="permissions"
        ),
    },
)


@app.get("/")
def index() -> str:
    return "Hello"
