"""Grade one response without Flask: the audit's sans-IO core."""

from __future__ import annotations

from flask_header_policy.audit import grade_response

headers = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"),
    ("Strict-Transport-Security", "max-age=300"),
    ("X-Content-Type-Options", "nosniff"),
    ("Set-Cookie", "session=abc; Secure; HttpOnly; SameSite=Lax"),
]
result = grade_response(headers, body="<p>Hi</p>", url="https://example.org/")

print(result.score, result.grade)
for test in result.tests:
    if test.score_modifier:
        print(f"{test.score_modifier:+4d}  {test.name}: {test.result}")
for finding in result.findings:
    print(f"[{finding.severity}] {finding.code}: {finding.fix}")
