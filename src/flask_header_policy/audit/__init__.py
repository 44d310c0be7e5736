"""Audit a response: the MDN HTTP Observatory's grade, and findings (sans-IO).

:func:`grade_response` scores one response's headers (and HTML body) with the
Observatory's published rules, lists what to fix and what the response's CSP
blocks in its page (:class:`Blocked`); :func:`compare_nonces`
checks two responses for a reused CSP nonce. Nothing here imports Flask.
"""

from __future__ import annotations

from ._scoring import ALGORITHMS as ALGORITHMS
from ._scoring import curve as curve
from ._scoring import DEFAULT_ALGORITHM as DEFAULT_ALGORITHM
from ._scoring import grade_for_score as grade_for_score
from ._scoring import passes as passes
from ._scoring import SCORE_TABLE as SCORE_TABLE
from ._scoring import TEST_NAMES as TEST_NAMES
from ._types import Blocked as Blocked
from ._types import Finding as Finding
from ._types import GradeResult as GradeResult
from ._types import Severity as Severity
from ._types import TestResult as TestResult
from .findings import compare_nonces as compare_nonces
from .grader import grade_response as grade_response
