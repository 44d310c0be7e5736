"""Declare every HTTP response header of a Flask app once, get it right everywhere."""

from __future__ import annotations

from .errors import InvalidHeaderError as InvalidHeaderError
from .extension import HeaderPolicy as HeaderPolicy
from .nonce import csp_nonce as csp_nonce
from .nonce import NonceUnavailableError as NonceUnavailableError
from .rules import append as append
from .rules import force as force
from .rules import Header as Header
from .rules import HeaderValue as HeaderValue
from .rules import Mode as Mode
from .rules import only_for as only_for
from .rules import remove as remove
