"""Declare every HTTP response header of a Flask app once, get it right everywhere."""

from __future__ import annotations

from ._config import UnknownConfigKeyWarning as UnknownConfigKeyWarning
from ._validate import HeaderNameWarning as HeaderNameWarning
from .cache_control import CacheControl as CacheControl
from .content_disposition import ContentDisposition as ContentDisposition
from .cookies import CookiePolicy as CookiePolicy
from .cross_origin import CrossOriginEmbedderPolicy as CrossOriginEmbedderPolicy
from .cross_origin import CrossOriginOpenerPolicy as CrossOriginOpenerPolicy
from .cross_origin import CrossOriginResourcePolicy as CrossOriginResourcePolicy
from .csp import ContentSecurityPolicy as ContentSecurityPolicy
from .csp import hash_source as hash_source
from .csp import NONCE as NONCE
from .csp import NONE as NONE
from .csp import REPORT_SAMPLE as REPORT_SAMPLE
from .csp import SELF as SELF
from .csp import STRICT_DYNAMIC as STRICT_DYNAMIC
from .csp import TRUSTED_TYPES_EVAL as TRUSTED_TYPES_EVAL
from .csp import UNSAFE_ALLOW_REDIRECTS as UNSAFE_ALLOW_REDIRECTS
from .csp import UNSAFE_EVAL as UNSAFE_EVAL
from .csp import UNSAFE_HASHES as UNSAFE_HASHES
from .csp import UNSAFE_INLINE as UNSAFE_INLINE
from .csp import WASM_UNSAFE_EVAL as WASM_UNSAFE_EVAL
from .document_policy import DocumentPolicy as DocumentPolicy
from .errors import InvalidHeaderError as InvalidHeaderError
from .extension import HeaderPolicy as HeaderPolicy
from .framing import XContentTypeOptions as XContentTypeOptions
from .framing import XFrameOptions as XFrameOptions
from .hsts import StrictTransportSecurity as StrictTransportSecurity
from .https_redirect import HTTPSRedirect as HTTPSRedirect
from .nonce import csp_nonce as csp_nonce
from .nonce import NonceUnavailableError as NonceUnavailableError
from .permissions import PermissionsPolicy as PermissionsPolicy
from .permissions import UnknownFeatureWarning as UnknownFeatureWarning
from .presets import Preset as Preset
from .presets import PRESETS as PRESETS
from .referrer import ReferrerPolicy as ReferrerPolicy
from .reporting import ReportingEndpoints as ReportingEndpoints
from .rules import append as append
from .rules import force as force
from .rules import Header as Header
from .rules import HeaderValue as HeaderValue
from .rules import Mode as Mode
from .rules import only_for as only_for
from .rules import remove as remove
from .templates import trust_scripts as trust_scripts
