"""``python -m flask_header_policy.audit URL``: same as ``header-policy-audit``."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main()
