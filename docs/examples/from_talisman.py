"""Print the declarations that replace a set of Flask-Talisman options."""

from __future__ import annotations

from flask_header_policy.talisman import from_talisman

equivalent = from_talisman(
    content_security_policy={"default-src": "'self'", "img-src": "*"},
    force_https_permanent=True,
    session_cookie_samesite="Strict",
)
print("headers={")
for name, value in equivalent.headers.items():
    print(f"    {name!r}: {value!r},")
print("}")
print(f"cookies={equivalent.cookies!r}")
print(f"https_redirect={equivalent.https_redirect!r}")
