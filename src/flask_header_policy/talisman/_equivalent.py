"""``from_talisman``: the ``HeaderPolicy`` declarations of Talisman's options."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import typing as t

from flask import Flask

from ..cookies import CookiePolicy
from ..extension import HeaderPolicy
from ..https_redirect import HTTPSRedirect
from ..rules import HeaderValue
from ._translate import check_options
from ._translate import OPTION_DEFAULTS
from ._translate import translate_cookies
from ._translate import translate_headers
from ._translate import translate_redirect

__all__ = ["TalismanEquivalent", "from_talisman"]


@dataclasses.dataclass(frozen=True)
class TalismanEquivalent:
    """What a set of Flask-Talisman options declares, as ``HeaderPolicy``
    arguments.

    :param headers: the app layer: every header Talisman sends, in its order
        and spelling; a typed builder where one renders the same text.
    :param cookies: the session cookie's hardening, or ``None``.
    :param https_redirect: the redirect of ``force_https`` (Talisman's 302,
        or 301), or ``None``.
    """

    headers: cabc.Mapping[str, str | HeaderValue]
    cookies: CookiePolicy | None
    https_redirect: HTTPSRedirect | None

    def kwargs(self) -> dict[str, t.Any]:
        """Keyword arguments for ``HeaderPolicy(app, **kwargs)``."""
        return {
            "headers": dict(self.headers),
            "cookies": self.cookies if self.cookies is not None else False,
            "https_redirect": self.https_redirect or False,
        }

    def header_policy(self, app: Flask | None = None) -> HeaderPolicy:
        """A ``HeaderPolicy`` with these declarations (installed on ``app``)."""
        return HeaderPolicy(app, **self.kwargs())


def from_talisman(
    *, session_cookie_name: str = "session", **options: t.Any
) -> TalismanEquivalent:
    """Translate Flask-Talisman 1.1.0 options (``init_app``'s keywords; the
    rest keep Talisman's defaults) to ``HeaderPolicy`` declarations::

        from_talisman(content_security_policy=csp, force_https_permanent=True)
        HeaderPolicy(app, **from_talisman(...).kwargs())

    :param session_cookie_name: the app's ``SESSION_COOKIE_NAME``.
    :raise TypeError: a name that is not a Flask-Talisman option.
    :raise ValueError: report-only without a report URI.
    :raise InvalidHeaderError: a value that cannot be sent.
    """
    check_options(options)
    merged = {**OPTION_DEFAULTS, **options}
    return TalismanEquivalent(
        headers=translate_headers(merged),
        cookies=translate_cookies(merged, session_cookie_name=session_cookie_name),
        https_redirect=translate_redirect(merged),
    )
