"""Every Set-Cookie hardened, the session cookie included."""

from __future__ import annotations

from flask import Flask
from flask import make_response
from flask import Response
from flask import session

from flask_header_policy import CookiePolicy
from flask_header_policy import HeaderPolicy

app = Flask(__name__)
app.secret_key = "docs-example-only"  # never hard-code a real key
HeaderPolicy(
    app,
    cookies=CookiePolicy(
        secure=True, httponly=True, samesite="Lax", exempt={"ui_theme"}
    ),
)


@app.get("/")
def index() -> Response:
    session["user"] = "ada"
    response = make_response("Hello")
    response.set_cookie("tracking_opt_out", "1")  # gets Secure, HttpOnly, SameSite
    response.set_cookie("ui_theme", "dark")  # exempt: script reads it
    response.set_cookie("embed", "1", samesite="None", secure=True)  # None stays
    return response
