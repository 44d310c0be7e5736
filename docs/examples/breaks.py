"""A page that the strict preset breaks: HTML built in a view, not stamped."""

from __future__ import annotations

from flask import Flask

from flask_header_policy import HeaderPolicy

app = Flask(__name__)
HeaderPolicy(app, preset="strict")

PAGE = """<!doctype html>
<title>Blog</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css">
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script>$(function () { $(".alert").fadeOut(3000); });</script>
<img src="https://www.gravatar.com/avatar/8e4b2a1f?s=32" alt="">
<p class="alert" style="color: green">Saved.</p>
<button onclick="return confirm('Delete?')">Delete</button>
"""


@app.get("/")
def index() -> str:
    return PAGE  # a string, not a template: nothing stamps it


if __name__ == "__main__":
    # The same verdict from the sans-IO grader, item by item.
    from flask_header_policy.audit import grade_response

    response = app.test_client().get("/", base_url="https://localhost/")
    result = grade_response(
        response.headers.to_wsgi_list(), body=PAGE, url="https://localhost/"
    )
    print(result.grade, result.verdict)
    for item in result.breaks:
        print(f"line {item.line}: {item.directive} {item.element}")
        print(f"    fix: {item.fix}")
