"""One response graded by the Observatory's algorithms 5 and 6."""

from __future__ import annotations

from flask import Flask
from flask import session

from flask_header_policy import CrossOriginEmbedderPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy.audit import grade_response

app = Flask(__name__)
app.secret_key = "docs-example-only"  # never hard-code a real key
HeaderPolicy(
    app,
    preset="strict",
    headers={"Cross-Origin-Embedder-Policy": CrossOriginEmbedderPolicy.REQUIRE_CORP},
)


@app.get("/")
def index() -> str:
    session["seen"] = True  # a session cookie, hardened by the preset
    return "<p>Hello</p>"


response = app.test_client().get("/", base_url="https://localhost/")
headers = response.headers.to_wsgi_list()
for algorithm in (5, 6):
    result = grade_response(
        headers,
        body=response.get_data(as_text=True),
        url="https://localhost/",
        algorithm=algorithm,
    )
    print(f"algorithm {algorithm}: {result.score} {result.grade}")
    for test in result.tests:
        if test.name.startswith("cross-origin-"):
            print(f"  {test.score_modifier:+3d}  {test.name}: {test.result}")
