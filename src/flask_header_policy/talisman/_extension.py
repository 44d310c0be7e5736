"""``Talisman``: Flask-Talisman 1.1.0's API on top of :class:`HeaderPolicy`.

The options are plain attributes, as in Flask-Talisman, and may be changed
after ``init_app`` (its own tests do, in place even:
``talisman.content_security_policy["img-src"] = "*"``). A change marks the
declarations stale; they are translated again once, before the next request
(or the next ``flask headers show``), never per request.
"""

from __future__ import annotations

import collections.abc as cabc
import secrets
import threading
import typing as t

from flask import current_app
from flask import Flask
from flask import request

from ..extension import HeaderPolicy
from ..nonce import NONCE_KEY
from ..rules import declare
from ..rules import Declared
from ..rules import HeaderValue
from ._translate import check_names
from ._translate import check_options
from ._translate import DEFAULT_CSP_POLICY
from ._translate import DEFAULT_DOCUMENT_POLICY
from ._translate import DEFAULT_FEATURE_POLICY
from ._translate import DEFAULT_PERMISSIONS_POLICY
from ._translate import DEFAULT_REFERRER_POLICY
from ._translate import DEFAULT_SESSION_COOKIE_SAMESITE
from ._translate import NONCE_LENGTH
from ._translate import nonce_sections
from ._translate import ONE_YEAR_IN_SECS
from ._translate import OPTION_DEFAULTS
from ._translate import SAMEORIGIN
from ._translate import translate_cookies
from ._translate import translate_headers
from ._translate import translate_redirect
from ._translate import VIEW_OPTIONS
from ._translate import warn_from_caller

__all__ = ["Talisman"]

F = t.TypeVar("F", bound=cabc.Callable[..., t.Any])
_Rules = dict[str, Declared]
_SECURE_SCHEMES = frozenset({"https", "wss"})
_NONCE_BYTES = NONCE_LENGTH * 3 // 4


def _tracked(value: t.Any, on_change: cabc.Callable[[], None]) -> t.Any:
    """A copy of a dict or list option that reports changes made in place,
    at any depth (``csp["script-src"].append(...)`` too)."""
    if isinstance(value, _TrackedDict | _TrackedList):
        return value
    if isinstance(value, dict):
        return _TrackedDict(on_change, value)
    if isinstance(value, list):
        return _TrackedList(on_change, value)
    return value


def _notifying(base: type, name: str) -> t.Any:
    method = getattr(base, name)

    def changed(self: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        result = method(self, *args, **kwargs)
        self._track_children()
        self._on_change()
        return result

    changed.__name__ = name
    return changed


class _TrackedDict(dict[str, t.Any]):
    def __init__(self, on_change: cabc.Callable[[], None], value: t.Any) -> None:
        super().__init__(value)
        self._on_change = on_change
        self._track_children()

    def _track_children(self) -> None:
        # A value put in by any method (update, setdefault…) is tracked too.
        for key, value in self.items():
            tracked = _tracked(value, self._on_change)
            if tracked is not value:
                dict.__setitem__(self, key, tracked)

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        # Returns the tracked value: setdefault("script-src", []).append(…)
        # must change the option, not a copy.
        value = dict.setdefault(self, key, _tracked(default, self._on_change))
        self._on_change()
        return value

    for _name in (
        "__setitem__", "__delitem__", "__ior__", "clear", "pop", "popitem",
        "update",
    ):  # fmt: skip
        locals()[_name] = _notifying(dict, _name)
    del _name


class _TrackedList(list[t.Any]):
    def __init__(self, on_change: cabc.Callable[[], None], value: t.Any) -> None:
        super().__init__(value)
        self._on_change = on_change
        self._track_children()

    def _track_children(self) -> None:
        for index, value in enumerate(self):
            tracked = _tracked(value, self._on_change)
            if tracked is not value:
                list.__setitem__(self, index, tracked)

    for _name in (
        "__setitem__", "__delitem__", "__iadd__", "append", "clear", "extend",
        "insert", "pop", "remove", "reverse", "sort",
    ):  # fmt: skip
        locals()[_name] = _notifying(list, _name)
    del _name


class Talisman(HeaderPolicy):
    """Flask-Talisman's ``Talisman``, as a :class:`HeaderPolicy`.

    Replace ``from flask_talisman import Talisman`` with
    ``from flask_header_policy.talisman import Talisman``: the constructor,
    :meth:`init_app`, the attributes and the per-view decorator
    (``@talisman(frame_options=DENY)``) take what Flask-Talisman 1.1.0
    takes. It is a ``HeaderPolicy`` too, so ``@talisman.headers({...})``,
    blueprint layers, ``flask headers show`` and ``audit`` work on it.

    Deliberate differences (see the docs, "Coming from Flask-Talisman"):
    a request is secure by its WSGI scheme only (use Werkzeug's ``ProxyFix``;
    ``X-Forwarded-Proto`` alone is not trusted, and a request that carries
    it over plain HTTP gets a :class:`TalismanMigrationWarning`, once); the
    session cookie is hardened on the response, ``app.config`` is never
    written; ``ALLOW-FROM`` also adds a CSP ``frame-ancestors``; the redirect
    drops the port; a view's own headers win over the options, as with every
    ``HeaderPolicy`` default.

    :param app: the app to install on now; Flask-Talisman ignores ``kwargs``
        without it, and so does this class (with a warning).
    :param kwargs: the options of :meth:`init_app`.
    """

    _dirty: bool
    # Options changed at run time may turn force_https on.
    _redirect_later = True

    def __init__(self, app: Flask | None = None, **kwargs: t.Any) -> None:
        object.__setattr__(self, "_dirty", False)
        super().__init__()
        self._lock = threading.Lock()
        self._view_options: dict[cabc.Callable[..., t.Any], dict[str, t.Any]] = {}
        self._talisman_view_rules: dict[cabc.Callable[..., t.Any], _Rules] = {}
        self._local_cache: dict[t.Any, dict[str, t.Any]] = {}
        self._warned_forwarded = False
        self._sync_failed = False
        if app is not None:
            self.init_app(app, **kwargs)
        elif kwargs:
            check_options(kwargs)
            warn_from_caller(
                "Talisman(**options) without an app ignores the options, as"
                " Flask-Talisman does; pass them to init_app(app, ...)",
            )

    def __setattr__(self, name: str, value: t.Any) -> None:
        if name in OPTION_DEFAULTS:
            object.__setattr__(self, name, _tracked(value, self._mark_dirty))
            self._mark_dirty()
        else:
            object.__setattr__(self, name, value)

    def _mark_dirty(self) -> None:
        object.__setattr__(self, "_dirty", True)

    def init_app(
        self,
        app: Flask,
        feature_policy: t.Any = DEFAULT_FEATURE_POLICY,
        permissions_policy: t.Any = DEFAULT_PERMISSIONS_POLICY,
        document_policy: t.Any = DEFAULT_DOCUMENT_POLICY,
        force_https: bool = True,
        force_https_permanent: bool = False,
        force_file_save: bool = False,
        frame_options: str | None = SAMEORIGIN,
        frame_options_allow_from: str | None = None,
        strict_transport_security: bool = True,
        strict_transport_security_preload: bool = False,
        strict_transport_security_max_age: int = ONE_YEAR_IN_SECS,
        strict_transport_security_include_subdomains: bool = True,
        content_security_policy: t.Any = DEFAULT_CSP_POLICY,
        content_security_policy_report_uri: str | None = None,
        content_security_policy_report_only: bool = False,
        content_security_policy_nonce_in: cabc.Iterable[str] | None = None,
        referrer_policy: str | None = DEFAULT_REFERRER_POLICY,
        session_cookie_secure: bool = True,
        session_cookie_http_only: bool = True,
        session_cookie_samesite: str | None = DEFAULT_SESSION_COOKIE_SAMESITE,
        x_content_type_options: bool = True,
        x_xss_protection: bool = False,
    ) -> None:
        """Install on ``app`` with Flask-Talisman 1.1.0's options.

        Every value is translated and validated now: a value that cannot be
        sent raises :class:`~flask_header_policy.InvalidHeaderError`, and
        ``content_security_policy_report_only`` without a report URI raises
        ``ValueError``, before anything is installed.
        """
        options = {
            "feature_policy": feature_policy,
            "permissions_policy": permissions_policy,
            "document_policy": document_policy,
            "force_https": force_https,
            "force_https_permanent": force_https_permanent,
            "force_file_save": force_file_save,
            "frame_options": frame_options,
            "frame_options_allow_from": frame_options_allow_from,
            "strict_transport_security": strict_transport_security,
            "strict_transport_security_preload": strict_transport_security_preload,
            "strict_transport_security_max_age": strict_transport_security_max_age,
            "strict_transport_security_include_subdomains": (
                strict_transport_security_include_subdomains
            ),
            "content_security_policy": content_security_policy,
            "content_security_policy_report_uri": content_security_policy_report_uri,
            "content_security_policy_report_only": content_security_policy_report_only,
            "content_security_policy_nonce_in": nonce_sections(
                content_security_policy_nonce_in
            ),
            "referrer_policy": referrer_policy,
            "session_cookie_secure": session_cookie_secure,
            "session_cookie_http_only": session_cookie_http_only,
            "session_cookie_samesite": session_cookie_samesite,
            "x_content_type_options": x_content_type_options,
            "x_xss_protection": x_xss_protection,
        }
        check_options(options)
        # Translate first: a bad value raises before anything is changed.
        translate_headers(options, warn=False)
        session_cookie = app.config.get("SESSION_COOKIE_NAME") or "session"
        translate_cookies(options, session_cookie_name=session_cookie)
        for name, value in options.items():
            setattr(self, name, value)
        self._sync()
        self._cookies = translate_cookies(options, session_cookie_name=session_cookie)
        super().init_app(app)
        app.extensions["header_policy"].https_redirect = self._https_redirect or None
        # First of all: stale declarations are translated, then the redirect.
        app.before_request_funcs.setdefault(None, []).insert(0, self._before_request)

    def _install_redirect(self, app: Flask, state: t.Any) -> None:
        # The redirect runs in _before_request, after options changed at run
        # time are translated (as Flask-Talisman reads them per request).
        return None

    def __call__(self, **kwargs: t.Any) -> cabc.Callable[[F], F]:
        """Decorate a view with its own options, as Flask-Talisman does.

        Flask-Talisman honours ``force_https``, ``frame_options``,
        ``frame_options_allow_from``, ``content_security_policy``,
        ``content_security_policy_nonce_in``, ``feature_policy``,
        ``permissions_policy`` and ``document_policy`` per view; another
        option is ignored there (with a :class:`TalismanMigrationWarning`:
        declare it with :meth:`headers`), a misspelt one raises ``TypeError``.
        """
        check_names(kwargs)
        ignored = sorted(set(kwargs) - VIEW_OPTIONS)
        if ignored:
            warn_from_caller(
                f"@talisman({', '.join(ignored)}=...): Flask-Talisman ignores"
                " these options per view, and so does this drop-in; declare the"
                " header with @talisman.headers({...}) instead",
            )
        options = {k: v for k, v in kwargs.items() if k in VIEW_OPTIONS}
        if "content_security_policy_nonce_in" in options:
            options["content_security_policy_nonce_in"] = nonce_sections(
                options["content_security_policy_nonce_in"]
            )

        def decorator(view: F) -> F:
            self._view_options[view] = options
            self._mark_dirty()
            return view

        return decorator

    # Keeping the declarations in step with the options.

    def _options(self) -> dict[str, t.Any]:
        return {name: getattr(self, name) for name in OPTION_DEFAULTS}

    def _sync(self) -> None:
        """Translate the options again: the app layer, each decorated view's
        layer, the cookie hardening and the redirect."""
        said: set[str] = set()

        def once(message: str) -> None:
            # A view's options repeat the app's problems: say each one once.
            if message not in said:
                said.add(message)
                warn_from_caller(message)

        with self._lock:
            options = self._options()
            headers = translate_headers(options, warn=once)
            view_rules: dict[cabc.Callable[..., t.Any], _Rules] = {}
            forced = bool(options["force_https"])
            for view, own in self._view_options.items():
                local = translate_headers({**options, **own}, warn=once)
                changed: dict[str, str | HeaderValue | None] = {
                    name: value
                    for name, value in local.items()
                    if headers.get(name) != value
                }
                changed.update({name: None for name in headers if name not in local})
                name = getattr(view, "__name__", repr(view))
                view_rules[view] = declare(
                    changed, layer=f"@talisman options of {name!r}", source="view"
                )
                forced = forced or bool(own.get("force_https"))
            app_rules = declare(headers, layer="Talisman options")
            redirect = None
            if forced:
                redirect = translate_redirect(options, exempt=self._exempt)
            for state in list(self._states):
                app = state.app()
                name = app.config.get("SESSION_COOKIE_NAME") or "session"
                state.cookies = translate_cookies(options, session_cookie_name=name)
                state.https_redirect = redirect
            self._app_rules = app_rules
            self._talisman_view_rules = view_rules
            self._https_redirect = redirect
            self._local_cache.clear()
            object.__setattr__(self, "_dirty", False)
            self._sync_failed = False
            self._changed()

    def _sync_safely(self, app: Flask) -> None:
        try:
            self._sync()
        except Exception as error:
            if app.testing or app.debug:
                raise
            object.__setattr__(self, "_dirty", False)  # keep the last good ones
            if not self._sync_failed:
                self._sync_failed = True
                app.logger.error(
                    "Talisman options changed to values that cannot be sent; the"
                    " previous headers stay in force (logged once): %s",
                    error,
                )

    def _function_layers(self, view: cabc.Callable[..., t.Any]) -> list[_Rules]:
        # The view's Talisman options sit under its own @talisman.headers.
        rules = self._talisman_view_rules.get(view)
        own = super()._function_layers(view)
        return own if rules is None else [rules, *own]

    def effective(self, app: Flask, endpoint: str | None) -> tuple[Declared, ...]:
        if self._dirty:
            self._sync()
        return super().effective(app, endpoint)

    # Per request.

    def _local_options(self, endpoint: str | None) -> dict[str, t.Any]:
        """The options that apply to ``endpoint``: its view's over the app's."""
        view = current_app.view_functions.get(endpoint) if endpoint else None
        cached = self._local_cache.get(view)
        if cached is not None:
            return cached
        own: dict[str, t.Any] = {}
        function = view
        while function is not None:  # the outermost decorated function wins
            if function in self._view_options:
                own = self._view_options[function]
                break
            function = getattr(function, "__wrapped__", None)
        local = {**self._options(), **own}
        self._local_cache[view] = local
        return local

    def _exempt(self, req: t.Any) -> bool:
        """Whether the redirect skips this request (``force_https`` off)."""
        return not self._local_options(req.endpoint)["force_https"]

    def _before_request(self) -> t.Any:
        app = t.cast(Flask, t.cast(t.Any, current_app)._get_current_object())
        if self._dirty:
            self._sync_safely(app)
        environ = request.environ
        if (
            not self._warned_forwarded
            and environ.get("wsgi.url_scheme") not in _SECURE_SCHEMES
            and "HTTP_X_FORWARDED_PROTO" in environ
        ):
            self._warned_forwarded = True
            warn_from_caller(
                "A plain-HTTP request carries X-Forwarded-Proto: Flask-Talisman"
                " trusted that header from any client; this drop-in does not."
                " Behind a proxy that terminates TLS, wrap the app in"
                " werkzeug.middleware.proxy_fix.ProxyFix(app.wsgi_app,"
                " x_proto=1), so that the redirect and HSTS see HTTPS",
            )
        local = self._local_options(request.endpoint)
        nonce_in = local["content_security_policy_nonce_in"]
        if local["content_security_policy"] and nonce_in:
            # Flask-Talisman's nonce: made before the view, 32 characters,
            # also on request.csp_nonce. csp_nonce() and the CSP read it.
            nonce = environ.get(NONCE_KEY)
            if nonce is None:
                # 24 random bytes are NONCE_LENGTH (32) base64url characters.
                nonce = environ[NONCE_KEY] = secrets.token_urlsafe(_NONCE_BYTES)
            request.csp_nonce = nonce  # type: ignore[attr-defined]
        return app.extensions["header_policy"].redirect_hook()
