"""Leave Flask-Talisman by changing one import.

``from flask_header_policy.talisman import Talisman`` takes Flask-Talisman
1.1.0's constructor, ``init_app`` options, attributes and per-view decorator,
and runs them on :class:`~flask_header_policy.HeaderPolicy`: layers,
``flask headers show``, ``audit`` and the pytest plugin come with it.
:func:`from_talisman` gives the same declarations for an idiomatic rewrite.
"""

from __future__ import annotations

from ._equivalent import from_talisman as from_talisman
from ._equivalent import TalismanEquivalent as TalismanEquivalent
from ._extension import Talisman as Talisman
from ._translate import ALLOW_FROM as ALLOW_FROM
from ._translate import DEFAULT_CSP_POLICY as DEFAULT_CSP_POLICY
from ._translate import DEFAULT_DOCUMENT_POLICY as DEFAULT_DOCUMENT_POLICY
from ._translate import DEFAULT_FEATURE_POLICY as DEFAULT_FEATURE_POLICY
from ._translate import DEFAULT_PERMISSIONS_POLICY as DEFAULT_PERMISSIONS_POLICY
from ._translate import DEFAULT_REFERRER_POLICY as DEFAULT_REFERRER_POLICY
from ._translate import (
    DEFAULT_SESSION_COOKIE_SAMESITE as DEFAULT_SESSION_COOKIE_SAMESITE,
)
from ._translate import DENY as DENY
from ._translate import GOOGLE_CSP_POLICY as GOOGLE_CSP_POLICY
from ._translate import NONCE_LENGTH as NONCE_LENGTH
from ._translate import ONE_YEAR_IN_SECS as ONE_YEAR_IN_SECS
from ._translate import SAMEORIGIN as SAMEORIGIN
from ._translate import TalismanMigrationWarning as TalismanMigrationWarning
from ._translate import Verbatim as Verbatim
