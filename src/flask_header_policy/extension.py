"""The Flask extension: layers of declarations, applied to every response.

Precedence, lowest to highest: app (``HEADER_POLICY_HEADERS`` config, then the
``headers`` argument), blueprints (outer to inner), the view. For each header
name the highest layer that declares it wins; ``None`` there cancels the lower
layers. The winning declaration then meets the response's own header by its
mode: the response wins unless the mode is ``force``, ``append`` or ``remove``.

The policy is applied where the response's header list is handed to the WSGI
server (``start_response``), so it reaches every path Flask can take: views,
redirects, ``abort``, 404 and 405, unhandled errors, error handlers, static
files, streaming, ``HEAD`` and ``OPTIONS``, and the session cookie.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import functools
import typing as t
import weakref

from flask import Blueprint
from flask import Flask
from flask import has_request_context
from flask import Request
from flask import request as request_proxy

from ._apply import CompiledPolicy
from ._apply import HeaderList
from .cookies import CookiePolicy
from .nonce import csp_nonce
from .nonce import SEALED_KEY
from .presets import Preset
from .presets import resolve_preset
from .rules import declare
from .rules import Declared
from .rules import Header
from .rules import Value
from .templates._flask import HashSplicer
from .templates._flask import install_debug_check
from .templates._flask import install_stamping
from .templates._flask import trust_scripts

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

Headers = cabc.Mapping[str, Value | Header | None]
HSTS = "strict-transport-security"
_SECURE_SCHEMES = frozenset({"https", "wss"})
F = t.TypeVar("F", bound=cabc.Callable[..., t.Any])
_Rules = dict[str, Declared]


class HeaderPolicy:
    """Declare response headers once for an app, its blueprints and views.

    :param app: the app to install on now; or call :meth:`init_app` later.
    :param headers: the app layer: header name to value, see :func:`declare
        <flask_header_policy.rules.declare>` for what a value may be. These
        win over ``HEADER_POLICY_HEADERS`` from the app's config.
    :param preset: ``"strict"``, ``"basic"``, ``"api"``, ``"owasp"``, a
        :class:`~flask_header_policy.presets.Preset` or a plain mapping: the
        lowest layer, under the config and ``headers``.
    :param cookies: how to harden every ``Set-Cookie`` (add ``Secure`` on
        HTTPS, ``HttpOnly``, ``SameSite``); ``False`` turns off the preset's
        hardening; ``None`` defers to ``HEADER_POLICY_COOKIES`` and the preset.
    :param stamp_nonces: stamp the request's nonce into the ``<script>``,
        ``<style>`` and ``<link>`` tags of the app's Jinja templates, and
        allow their static inline handlers and ``style`` attributes by hash
        (:mod:`flask_header_policy.templates`); ``None`` defers to
        ``HEADER_POLICY_STAMP_NONCES`` and the preset (on in ``strict``).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        headers: Headers | None = None,
        preset: str | Preset | Headers | None = None,
        cookies: CookiePolicy | None | t.Literal[False] = None,
        stamp_nonces: bool | None = None,
    ) -> None:
        self._app_rules = declare(headers, layer="app")
        self._preset = None if preset is None else resolve_preset(preset)
        self._cookies = cookies
        self._stamp_nonces = stamp_nonces
        self._blueprint_rules: dict[Blueprint | str, _Rules] = {}
        self._endpoint_rules: dict[str, _Rules] = {}
        self._view_rules: dict[cabc.Callable[..., t.Any], _Rules] = {}
        self._states: weakref.WeakSet[_AppState] = weakref.WeakSet()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install the policy on ``app``.

        Reads ``HEADER_POLICY_HEADERS`` (a mapping, merged under the
        ``headers`` argument), validates it, and wraps ``app.wsgi_app``.
        """
        app.config.setdefault("HEADER_POLICY_HEADERS", {})
        app.config.setdefault("HEADER_POLICY_PRESET", None)
        app.config.setdefault("HEADER_POLICY_HSTS_ONLY_SECURE", True)
        app.config.setdefault("HEADER_POLICY_COOKIES", None)
        app.config.setdefault("HEADER_POLICY_STAMP_NONCES", None)
        config_rules = declare(
            app.config["HEADER_POLICY_HEADERS"], layer="app (HEADER_POLICY_HEADERS)"
        )
        preset = self._preset
        if preset is None and app.config["HEADER_POLICY_PRESET"] is not None:
            preset = resolve_preset(app.config["HEADER_POLICY_PRESET"])
        preset_rules: _Rules = {}
        cookies = self._cookies
        if preset is not None:
            preset_rules = declare(
                preset.headers,
                layer=f"preset {preset.name!r}",
                source=f"preset:{preset.name}",
            )
        if cookies is None:
            cookies = _config_cookies(app.config["HEADER_POLICY_COOKIES"])
        if cookies is None and preset is not None:
            cookies = preset.cookies
        stamp = self._stamp_nonces
        if stamp is None:
            stamp = _config_flag(app.config["HEADER_POLICY_STAMP_NONCES"])
        if stamp is None:
            stamp = preset is not None and preset.stamp_nonces
        state = _AppState(
            app,
            self,
            _stack(preset_rules, config_rules, self._app_rules),
            cookies=cookies or None,
            hsts_only_secure=bool(app.config["HEADER_POLICY_HSTS_ONLY_SECURE"]),
            splice=HashSplicer() if stamp else None,
        )
        self._states.add(state)
        app.extensions["header_policy"] = state
        app.jinja_env.globals["csp_nonce"] = csp_nonce
        app.jinja_env.filters["trust_scripts"] = trust_scripts
        if stamp:
            install_stamping(app)
        if app.debug:
            # Decided once: production pays nothing for this development aid.
            install_debug_check(app, functools.partial(state.compiled, app))
        app.wsgi_app = state.wrap(app.wsgi_app)  # type: ignore[assignment,method-assign]

    # Declaring layers.

    def headers(self, headers: Headers) -> cabc.Callable[[F], F]:
        """Decorate a view to declare its own headers (the highest layer).

        Works above or below ``@app.route``; the view is returned unchanged.
        """

        def decorator(view: F) -> F:
            self.add_view_headers(view, headers)
            return view

        return decorator

    def add_view_headers(
        self, view: str | cabc.Callable[..., t.Any], headers: Headers
    ) -> None:
        """Declare a view's headers, by its endpoint name or its function.

        The plain-call twin of :meth:`headers`, for views registered elsewhere
        (``add_url_rule``, class-based views, other extensions).
        """
        if isinstance(view, str):
            rules = declare(headers, layer=f"view {view!r}", source="view")
            self._endpoint_rules[view] = {**self._endpoint_rules.get(view, {}), **rules}
        else:
            name = getattr(view, "__name__", repr(view))
            rules = declare(headers, layer=f"view {name!r}", source="view")
            self._view_rules[view] = {**self._view_rules.get(view, {}), **rules}
        self._changed()

    def add_blueprint_headers(
        self, blueprint: Blueprint | str, headers: Headers
    ) -> None:
        """Declare the headers of a blueprint and the blueprints nested in it.

        :param blueprint: the blueprint, or its registered (dotted) name.
        """
        name = blueprint if isinstance(blueprint, str) else blueprint.name
        rules = declare(
            headers, layer=f"blueprint {name!r}", source=f"blueprint:{name}"
        )
        self._blueprint_rules[blueprint] = {
            **self._blueprint_rules.get(blueprint, {}),
            **rules,
        }
        self._changed()

    def _changed(self) -> None:
        for state in self._states:
            state.cache.clear()

    # Reading the effective policy.

    def effective(self, app: Flask, endpoint: str | None) -> tuple[Declared, ...]:
        """The declarations that apply to ``endpoint`` (``None``: unmatched URLs).

        This is what ``flask headers show`` prints.
        """
        return _state(app).compiled(app, endpoint).entries

    def _layers(self, app: Flask, endpoint: str | None) -> list[_Rules]:
        if endpoint is None:
            return []
        layers: list[_Rules] = []
        prefix = endpoint.rpartition(".")[0]
        parts = prefix.split(".") if prefix else []
        for depth in range(1, len(parts) + 1):
            name = ".".join(parts[:depth])
            for key in (app.blueprints.get(name), name):
                if key is not None and key in self._blueprint_rules:
                    layers.append(self._blueprint_rules[key])
        # Follow functools.wraps: @policy.headers may sit under another decorator.
        view = app.view_functions.get(endpoint)
        wrapped: list[_Rules] = []
        while view is not None:
            if view in self._view_rules:
                wrapped.append(self._view_rules[view])
            view = getattr(view, "__wrapped__", None)
        layers.extend(reversed(wrapped))  # an outer decorator wins over an inner one
        if endpoint in self._endpoint_rules:
            layers.append(self._endpoint_rules[endpoint])
        return layers


def _stack(*layers: _Rules) -> _Rules:
    """Merge layers, higher last; a cancelling declaration drops the name."""
    merged: _Rules = {}
    for layer in layers:
        for key, declared in layer.items():
            if declared.cancel:
                merged.pop(key, None)
            else:
                merged[key] = declared
    return merged


def _config_cookies(value: t.Any) -> CookiePolicy | t.Literal[False] | None:
    if value is None or value is False or isinstance(value, CookiePolicy):
        return value
    if value is True:
        return CookiePolicy()
    if isinstance(value, cabc.Mapping):
        return CookiePolicy(**value)
    raise TypeError(
        "HEADER_POLICY_COOKIES must be None, a bool, a mapping of CookiePolicy"
        f" options or a CookiePolicy, not {type(value).__name__}"
    )


def _config_flag(value: t.Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise TypeError(
        f"HEADER_POLICY_STAMP_NONCES must be None or a bool, not {type(value).__name__}"
    )


def _state(app: Flask) -> _AppState:
    try:
        return t.cast(_AppState, app.extensions["header_policy"])
    except KeyError:
        raise RuntimeError(
            "HeaderPolicy is not installed on this app: call"
            " HeaderPolicy(app) or policy.init_app(app)"
        ) from None


class _AppState:
    """What one app's policy keeps: its app layer and per-endpoint cache."""

    def __init__(
        self,
        app: Flask,
        policy: HeaderPolicy,
        app_rules: _Rules,
        *,
        cookies: CookiePolicy | None,
        hsts_only_secure: bool,
        splice: HashSplicer | None = None,
    ) -> None:
        # The state lives in app.extensions: a strong reference would be a cycle.
        self.app = t.cast("cabc.Callable[[], Flask]", weakref.ref(app))
        self.policy = policy
        self.app_rules = app_rules
        self.cookies = cookies
        self.hsts_only_secure = hsts_only_secure
        #: Adds the hashes of the templates a response rendered to its CSP.
        self.splice = splice
        self.cache: dict[str | None, CompiledPolicy] = {}
        self.reported: set[tuple[str | None, str]] = set()

    def compiled(self, app: Flask, endpoint: str | None) -> CompiledPolicy:
        compiled = self.cache.get(endpoint)
        if compiled is None:
            layers = self.policy._layers(app, endpoint)
            merged = _stack(self.app_rules, *layers)
            if self.hsts_only_secure and HSTS in merged:
                merged[HSTS] = dataclasses.replace(merged[HSTS], secure_only=True)
            compiled = CompiledPolicy(list(merged.values()))
            for problem in compiled.problems:
                self._problem(app, endpoint, problem)
            self.cache[endpoint] = compiled
        return compiled

    def wrap(self, wsgi_app: WSGIApplication) -> WSGIApplication:
        # Chosen once, so that apps without stamping pay nothing for it.
        apply = self.apply if self.splice is None else self.apply_stamped

        def header_policy_wsgi_app(
            environ: WSGIEnvironment, start_response: StartResponse
        ) -> cabc.Iterable[bytes]:
            def policy_start_response(
                status: str, headers: HeaderList, exc_info: t.Any = None
            ) -> t.Any:
                apply(environ, status, headers)
                return start_response(status, headers, exc_info)

            return wsgi_app(environ, policy_start_response)

        return header_policy_wsgi_app

    def apply(self, environ: WSGIEnvironment, status: str, headers: HeaderList) -> None:
        """Merge the policy into one response's header list; never raises in
        production (tests and the debugger see the error)."""
        app = self.app()
        endpoint: str | None = None
        try:
            request = environ.get("werkzeug.request")
            if not isinstance(request, Request):
                # A view replaced it with a plain Werkzeug request, or a
                # non-Flask app mounted below this one answers: use Flask's
                # context when there is one, else the app layer.
                request = _flask_request()
            rule = request.url_rule if request is not None else None
            # A rule of another Flask app mounted below this one is no route
            # of this app: the app layer applies, as for unmatched URLs.
            if rule is not None and rule.map is app.url_map:
                endpoint = rule.endpoint
            compiled = self.cache.get(endpoint)
            if compiled is None:
                compiled = self.compiled(app, endpoint)
            # What request.is_secure reads, after any ProxyFix has rewritten it.
            is_secure = environ.get("wsgi.url_scheme") in _SECURE_SCHEMES
            if compiled.needs_state:
                per_request = _RequestState(app, request, status, headers)
                on_error = self._on_error(app, endpoint)
                compiled.apply(headers, is_secure, per_request, on_error)
            else:
                compiled.apply(headers, is_secure)
            if self.cookies is not None:
                self.cookies.apply(headers, is_secure=is_secure)
        except Exception as error:
            if app.testing or app.debug:
                raise
            self._report(app, endpoint, "internal", error)
        finally:
            environ[SEALED_KEY] = True

    def apply_stamped(
        self, environ: WSGIEnvironment, status: str, headers: HeaderList
    ) -> None:
        """:meth:`apply`, then the hashes of the rendered templates."""
        self.apply(environ, status, headers)
        assert self.splice is not None
        try:
            self.splice(environ, headers)
        except Exception as error:
            app = self.app()
            if app.testing or app.debug:
                raise
            self._report(app, None, "hashes", error)

    def _problem(self, app: Flask, endpoint: str | None, error: Exception) -> None:
        if app.testing or app.debug:
            raise error
        self._report(app, endpoint, "configuration", error)

    def _on_error(
        self, app: Flask, endpoint: str | None
    ) -> cabc.Callable[[Declared, Exception], None]:
        def on_error(declared: Declared, error: Exception) -> None:
            if app.testing or app.debug:
                raise error
            self._report(app, endpoint, declared.name, error)

        return on_error

    def _report(
        self, app: Flask, endpoint: str | None, what: str, error: Exception
    ) -> None:
        """Log a problem once per endpoint and kind."""
        if (endpoint, what) in self.reported:
            return
        self.reported.add((endpoint, what))
        app.logger.error(
            "Header policy, endpoint %r: %s (logged once): %s",
            endpoint,
            _WHAT.get(what, f"header {what!r} omitted"),
            error,
        )


_WHAT = {
    "internal": "policy not applied to this response",
    "hashes": "hashes of the rendered templates not added to the CSP",
    "configuration": "inconsistent declarations",
}


def _flask_request() -> Request | None:
    if not has_request_context():
        return None
    return t.cast(Request, t.cast(t.Any, request_proxy)._get_current_object())


class _RequestState:
    """Lazy per-request facts for conditional and dynamic declarations."""

    __slots__ = ("request", "_app", "_status", "_headers", "_response")

    def __init__(
        self, app: Flask, request: t.Any, status: str, headers: HeaderList
    ) -> None:
        self._app = app
        self.request = request
        self._status = status
        self._headers = headers
        self._response: t.Any = None

    def response(self) -> t.Any:
        """A read-only snapshot of the response: status and headers, no body."""
        if self._response is None:
            self._response = self._app.response_class(
                status=self._status, headers=list(self._headers)
            )
        return self._response

    def nonce(self) -> str:
        return csp_nonce()
