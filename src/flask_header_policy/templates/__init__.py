"""Nonces and hashes stamped into Jinja templates at compile time.

Turned on by ``HeaderPolicy(app, stamp_nonces=True)`` (the ``strict`` preset
does): every ``<script>``, ``<style>`` and ``<link rel=stylesheet|preload|
modulepreload>`` that a template's source holds gets the request's nonce, and
the static inline handlers, ``style`` attributes and ``javascript:`` URLs of a
rendered template are allowed by their hash in that response's CSP.

Parts: ``_scan`` (an HTML start-tag scanner for text with holes where
expressions go), ``_hashes`` (what needs a nonce, what is hashed, and
how), ``_splice`` (hashes into a CSP header value) are sans-IO; ``jinja``
is the Jinja extension; ``_flask`` ties it to Flask.
"""

from __future__ import annotations

from ._flask import trust_scripts as trust_scripts
from ._hashes import Hashes as Hashes
from ._hashes import hashes_for as hashes_for
from ._splice import splice_hashes as splice_hashes
from .jinja import HASH_TAG as HASH_TAG
from .jinja import StampExtension as StampExtension
from .jinja import stamps_template as stamps_template
