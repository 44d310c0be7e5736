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
import threading
import typing as t
import weakref

from flask import Blueprint
from flask import Flask
from flask import has_request_context
from flask import Request
from flask import request as request_proxy

from ._apply import Branch
from ._apply import CompiledPolicy
from ._apply import COOKIES
from ._apply import HeaderList
from ._apply import OWN_CSP_FLAG
from ._config import bool_word
from ._config import config_bool
from ._config import warn_unknown_keys
from ._shapes import check_headers_shape
from ._upgrade import with_plain_variant
from .cookies import CookiePolicy
from .https_redirect import HTTPSRedirect
from .https_redirect import redirect_to_https
from .https_redirect import REDIRECTED_KEY
from .nonce import csp_nonce
from .nonce import NonceUnavailableError
from .nonce import SEALED_KEY
from .presets import Preset
from .presets import resolve_preset
from .reports.collector import CollectorOptions
from .reports.collector import ReportCollector
from .rules import declare
from .rules import Declared
from .rules import Header
from .rules import Mode
from .rules import Value
from .templates._flask import HASHES_KEY
from .templates._flask import HashSplicer
from .templates._flask import install_debug_check
from .templates._flask import install_stamping
from .templates._flask import trust_scripts
from .templates._flask import TRUSTED_KEY

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

Headers = cabc.Mapping[str, Value | Header | None]
HSTS = "strict-transport-security"
CSP = "content-security-policy"
_SECURE_SCHEMES = frozenset({"https", "wss"})
# The request object itself, not the proxy (see nonce.py).
_current_request = t.cast(t.Any, request_proxy)._get_current_object
F = t.TypeVar("F", bound=cabc.Callable[..., t.Any])
_Rules = dict[str, Declared]


class HeaderPolicy:
    """Declare response headers once for an app, its blueprints and views.

    :param app: the app to install on now; or call :meth:`init_app` later.
    :param headers: the app layer: header name to value (a
        :data:`~flask_header_policy.rules.Value`, a
        :class:`~flask_header_policy.rules.Header`, or ``None`` to cancel).
        These win over ``HEADER_POLICY_HEADERS`` from the app's config.
    :param preset: ``"strict"``, ``"basic"``, ``"api"``, ``"owasp"``, a
        :class:`~flask_header_policy.presets.Preset` or a plain mapping: the
        lowest layer, under the config and ``headers``.
    :param cookies: how to harden every ``Set-Cookie`` (add ``Secure`` on
        HTTPS, ``HttpOnly``, ``SameSite``): a :class:`CookiePolicy`, ``True``
        for ``CookiePolicy()``, or a mapping of its options, as
        ``HEADER_POLICY_COOKIES`` takes; ``False`` turns off the preset's
        hardening; ``None`` defers to ``HEADER_POLICY_COOKIES`` and the preset.
    :param https_redirect: redirect plain-HTTP requests to HTTPS: ``True``
        for the defaults of :class:`~flask_header_policy.HTTPSRedirect`
        (308, off under ``app.testing``/``app.debug`` and for loopback
        hosts), an ``HTTPSRedirect``, or ``False``; ``None`` defers to
        ``HEADER_POLICY_HTTPS_REDIRECT``.
    :raise TypeError: ``cookies`` is none of these, or a mapping holds an
        option ``CookiePolicy`` does not take.
    :param stamp_nonces: stamp the request's nonce into the ``<script>``,
        ``<style>`` and ``<link>`` tags of the app's Jinja templates, and
        allow their static inline handlers and ``style`` attributes by hash
        (:mod:`flask_header_policy.templates`); ``None`` defers to
        ``HEADER_POLICY_STAMP_NONCES`` and the preset (on in ``strict``).
    """

    #: Install the redirect hook even without a redirect at ``init_app``
    #: (a subclass that configures it later sets this).
    _redirect_later: t.ClassVar[bool] = False

    def __init__(
        self,
        app: Flask | None = None,
        *,
        headers: Headers | None = None,
        preset: str | Preset | Headers | None = None,
        cookies: CookiePolicy | bool | cabc.Mapping[str, t.Any] | None = None,
        https_redirect: HTTPSRedirect | bool | None = None,
        stamp_nonces: bool | None = None,
    ) -> None:
        self._app_rules = declare(headers, layer="app")
        self._preset = None if preset is None else resolve_preset(preset)
        self._cookies = _cookie_policy(cookies, "cookies")
        self._https_redirect = _redirect_config(https_redirect, "https_redirect")
        if stamp_nonces is not None and not isinstance(stamp_nonces, bool):
            kind = type(stamp_nonces).__name__
            raise TypeError(f"stamp_nonces must be None or a bool, not {kind}")
        self._stamp_nonces = stamp_nonces
        self._blueprint_rules: dict[Blueprint | str, _Rules] = {}
        self._endpoint_rules: dict[str, _Rules] = {}
        self._view_rules: dict[cabc.Callable[..., t.Any], _Rules] = {}
        self._states: weakref.WeakSet[_AppState] = weakref.WeakSet()
        self._reports: ReportCollector | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install the policy on ``app``.

        Reads ``HEADER_POLICY_HEADERS`` (a mapping, merged under the
        ``headers`` argument), validates it, and wraps ``app.wsgi_app``.
        An unknown ``HEADER_POLICY_*`` key warns
        (:class:`~flask_header_policy.UnknownConfigKeyWarning`).

        :raise TypeError: a config value of the wrong shape.
        :raise ValueError: a boolean key that is not a boolean spelling.
        :raise RuntimeError: a policy is installed on ``app`` already (this
            one, another, or the Flask-Talisman drop-in's): the second would
            wrap the app again and take the first one's place in
            ``app.extensions``, so ``flask headers`` would show only half of
            what is sent.
        """
        installed = app.extensions.get("header_policy")
        if installed is not None:
            which = "this" if installed.policy is self else "another"
            raise RuntimeError(
                f"A header policy is already installed on app {app.name!r}"
                f" ({which} HeaderPolicy, or a Talisman drop-in): install one per"
                " app, and declare every header on it (preset=, headers=,"
                " blueprint and view layers)"
            )
        warn_unknown_keys(app.config)
        app.config.setdefault("HEADER_POLICY_HEADERS", {})
        app.config.setdefault("HEADER_POLICY_PRESET", None)
        app.config.setdefault("HEADER_POLICY_HSTS_ONLY_SECURE", True)
        app.config.setdefault("HEADER_POLICY_COOKIES", None)
        app.config.setdefault("HEADER_POLICY_HTTPS_REDIRECT", None)
        app.config.setdefault("HEADER_POLICY_STAMP_NONCES", None)
        config_rules = declare(
            app.config["HEADER_POLICY_HEADERS"], layer="app (HEADER_POLICY_HEADERS)"
        )
        preset = self._preset
        if preset is None and app.config["HEADER_POLICY_PRESET"] is not None:
            preset = resolve_preset(
                app.config["HEADER_POLICY_PRESET"], source="HEADER_POLICY_PRESET"
            )
        preset_rules: _Rules = {}
        cookies = self._cookies
        if preset is not None:
            preset_rules = declare(
                preset.headers,
                layer=f"preset {preset.name!r}",
                source=f"preset:{preset.name}",
            )
        if cookies is None:
            cookies = _cookie_policy(
                app.config["HEADER_POLICY_COOKIES"], "HEADER_POLICY_COOKIES"
            )
        if cookies is None and preset is not None:
            cookies = preset.cookies
        redirect = self._https_redirect
        if redirect is None:
            key = "HEADER_POLICY_HTTPS_REDIRECT"
            redirect = _redirect_config(app.config[key], key)
        stamp = self._stamp_nonces
        if stamp is None:
            stamp = _config_flag(app.config["HEADER_POLICY_STAMP_NONCES"])
        if stamp is None:
            stamp = preset is not None and preset.stamp_nonces
        state = _AppState(
            app,
            self,
            _stack(preset_rules, config_rules),
            cookies=cookies or None,
            hsts_only_secure=config_bool(
                "HEADER_POLICY_HSTS_ONLY_SECURE",
                app.config["HEADER_POLICY_HSTS_ONLY_SECURE"],
            ),
            splice=HashSplicer() if stamp else None,
        )
        state.https_redirect = redirect or None
        self._states.add(state)
        app.extensions["header_policy"] = state
        app.jinja_env.globals["csp_nonce"] = csp_nonce
        if state.https_redirect is not None or self._redirect_later:
            self._install_redirect(app, state)
        app.jinja_env.filters["trust_scripts"] = trust_scripts
        if stamp:
            install_stamping(app)
        app.wsgi_app = state.wrap(app.wsgi_app)  # type: ignore[assignment,method-assign]
        if self._reports is not None:
            self._reports.init_app(app)

    def _install_redirect(self, app: Flask, state: _AppState) -> None:
        """Redirect plain-HTTP requests before the app's ``before_request``
        functions (and its URL value preprocessors) run: a login check or
        the like cannot answer them first.

        Not a ``before_request`` function itself: Flask would pay for one on
        every request. ``app.preprocess_request`` is wrapped instead, and an
        HTTPS request costs one call and one look at its scheme. The scheme
        is read inside the app, so a ``ProxyFix`` applied before or after
        ``HeaderPolicy(app)`` has set it.
        """
        preprocess = app.preprocess_request
        current = _current_request

        def preprocess_request() -> t.Any:
            if (
                state.https_redirect is not None
                and current().environ.get("wsgi.url_scheme") not in _SECURE_SCHEMES
            ):
                response = state.redirect_hook()
                if response is not None:
                    return response
            return preprocess()

        app.preprocess_request = preprocess_request  # type: ignore[method-assign]

    # Declaring layers.

    def headers(self, headers: Headers) -> cabc.Callable[[F], F]:
        """Decorate a view to declare its own headers (the highest layer).

        Works above or below ``@app.route``; the view is returned unchanged.

        :raise TypeError: ``headers`` is not a mapping, e.g. the decorator
            was used bare (``@policy.headers`` instead of
            ``@policy.headers({...})``), which would leave the view undecorated.
        """
        if callable(headers) and not isinstance(headers, cabc.Mapping):
            raise TypeError(
                "@policy.headers needs the view's headers: write"
                " @policy.headers({'X-Frame-Options': 'DENY'}), not a bare"
                f" @policy.headers above {getattr(headers, '__name__', 'the view')}"
            )
        check_headers_shape(headers, where="@policy.headers")

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
            state.restack()

    # Violation reports (the reports package; needs the "reports" extra).

    def collect_reports(
        self, app: Flask | None = None, **options: t.Unpack[CollectorOptions]
    ) -> ReportCollector:
        """Collect the violation reports browsers send, in a database.

        Adds a POST endpoint (``url``, default ``/__csp-reports``), points
        every CSP at it (``report-uri``, and ``report-to`` with
        ``Reporting-Endpoints`` over HTTPS) unless a CSP names its own, and
        keeps the reports in SQLite in the instance folder or the database
        of ``HEADER_POLICY_REPORTS_DATABASE``. Each option overrides its
        config key (``url`` overrides ``HEADER_POLICY_REPORTS_URL``, and so
        on); see :doc:`/reports`.

        :param app: install on this app now (the policy must be installed
            on it); without it, on every app the policy is or will be
            installed on.
        :raise ImportError: SQLAlchemy is missing (``pip install
            'flask-header-policy[reports]'``).
        """
        try:
            import sqlalchemy  # noqa: F401
        except ModuleNotFoundError as error:  # SQLAlchemy is an extra
            raise ImportError(
                f"collecting reports needs {error.name}: pip install"
                " 'flask-header-policy[reports]'"
            ) from error
        collector = ReportCollector(self, **options)
        self._reports = collector
        apps = [app] if app is not None else [s.app() for s in list(self._states)]
        for each in apps:
            if each is not None:
                collector.init_app(each)
        return collector

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
        chain: list[cabc.Callable[..., t.Any]] = []
        while view is not None:
            chain.append(view)
            view = getattr(view, "__wrapped__", None)
        for function in reversed(chain):  # an outer decorator wins over an inner one
            layers.extend(self._function_layers(function))
        if endpoint in self._endpoint_rules:
            layers.append(self._endpoint_rules[endpoint])
        return layers

    def _function_layers(self, view: cabc.Callable[..., t.Any]) -> list[_Rules]:
        """The layers declared on one view function, lowest first."""
        rules = self._view_rules.get(view)
        return [] if rules is None else [rules]


def _stack(*layers: _Rules) -> _Rules:
    """Merge layers, higher last; a cancelling declaration drops the name."""
    merged: _Rules = {}
    for layer in layers:
        for key, declared in layer.items():
            if declared.cancel:
                merged.pop(key, None)
            else:
                if declared.inherit_otherwise:
                    declared = _inherit_otherwise(declared, merged.get(key))
                merged[key] = declared
    return merged


def _inherit_otherwise(declared: Declared, lower: Declared | None) -> Declared:
    """A mimetype-scoped declaration that left ``otherwise`` out keeps what
    the lower layer sends to the other types: its ``otherwise``, or its
    static value when it applied to every type."""
    fallback = None
    if lower is not None and lower.mode is not Mode.REMOVE:
        fallback = lower.otherwise if lower.mimetypes is not None else lower.static
    return dataclasses.replace(declared, otherwise=fallback, inherit_otherwise=False)


def _from_config_word(value: t.Any, where: str, options: str) -> t.Any:
    """A config key's text as the environment gives it (JSON was tried
    first): ``"true"``, ``"no"``, ``"0"``... becomes a bool; an argument's
    text is left for the caller's type check."""
    if not isinstance(value, str) or not where.startswith("HEADER_POLICY_"):
        return value
    word = bool_word(value)
    if word is None:
        raise ValueError(
            f"{where}={value!r} is not a boolean (true/false, 1/0, yes/no)"
            f" nor a JSON object of {options} options"
        )
    return word


def _cookie_policy(value: t.Any, where: str) -> CookiePolicy | t.Literal[False] | None:
    """``cookies=`` and ``HEADER_POLICY_COOKIES`` take the same values (and
    the config key a boolean word, as the environment gives it)."""
    value = _from_config_word(value, where, "CookiePolicy")
    if value is None or value is False or isinstance(value, CookiePolicy):
        return value
    if value is True:
        return CookiePolicy()
    if isinstance(value, cabc.Mapping):
        try:
            return CookiePolicy(**value)
        except TypeError as error:  # an unknown option
            fields = ", ".join(
                f.name for f in dataclasses.fields(CookiePolicy) if f.init
            )
            raise TypeError(f"{where}: {error}; CookiePolicy takes {fields}") from None
    raise TypeError(
        f"{where} must be None, a bool, a mapping of CookiePolicy options or a"
        f" CookiePolicy, not {type(value).__name__}"
    )


def _redirect_config(
    value: t.Any, where: str
) -> HTTPSRedirect | t.Literal[False] | None:
    """``https_redirect=`` and ``HEADER_POLICY_HTTPS_REDIRECT``, likewise."""
    value = _from_config_word(value, where, "HTTPSRedirect")
    if value is None or value is False or isinstance(value, HTTPSRedirect):
        return value
    if value is True:
        return HTTPSRedirect()
    if isinstance(value, cabc.Mapping):
        return HTTPSRedirect(**value)
    raise TypeError(
        f"{where} must be None, a bool, a mapping of HTTPSRedirect options or an"
        f" HTTPSRedirect, not {type(value).__name__}"
    )


def _config_flag(value: t.Any) -> bool | None:
    """``HEADER_POLICY_STAMP_NONCES``: ``None`` (the preset decides) or a
    boolean, also as the environment spells it (``"true"``, ``"0"``...)."""
    if value is None:
        return None
    return config_bool("HEADER_POLICY_STAMP_NONCES", value)


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
        lower_rules: _Rules,
        *,
        cookies: CookiePolicy | None,
        hsts_only_secure: bool,
        splice: HashSplicer | None = None,
    ) -> None:
        # The state lives in app.extensions: a strong reference would be a cycle.
        self.app = t.cast("cabc.Callable[[], Flask]", weakref.ref(app))
        self.policy = policy
        #: The preset and config layers, under the policy's own app layer.
        self.lower_rules = lower_rules
        self.app_rules = _stack(lower_rules, policy._app_rules)
        self.cookies = cookies
        self.hsts_only_secure = hsts_only_secure
        #: Where plain-HTTP requests are redirected; ``None``: they are not.
        self.https_redirect: HTTPSRedirect | None = None
        #: Adds the hashes of the templates a response rendered to its CSP.
        self.splice = splice
        self.cache: dict[str | None, CompiledPolicy] = {}
        #: Compiled policies by their declarations, shared by endpoints.
        self.shared: dict[tuple[Declared, ...], CompiledPolicy] = {}
        self.reported: set[tuple[str | None, str]] = set()
        # Bumped by every declaration: a policy compiled from older rules is
        # used for its own request but never cached over the newer ones.
        self.generation = 0
        self._lock = threading.Lock()
        #: Called with (endpoint, merged declarations) before they are
        #: compiled; may change them in place (the report collector adds its
        #: report-uri / report-to there).
        self.amenders: list[cabc.Callable[[str | None, _Rules], None]] = []
        #: Whether the app served its first request (see :meth:`start`).
        self.started = False

    def start(self) -> None:
        """Decide, at the app's first request, what depends on how it is
        served: under ``app.debug`` the check of ``<script>`` tags without
        the nonce is installed. Not at ``init_app``: ``app.run(debug=True)``
        turns debug on later. Production pays nothing per request for it."""
        with self._lock:
            if self.started:
                return
            app = self.app()
            if app.debug:
                install_debug_check(app, functools.partial(self.compiled, app))
            self.started = True

    def restack(self) -> None:
        """Take up changed declarations: the app layer again, every endpoint
        anew (a compile already under way is not cached)."""
        with self._lock:
            self.generation += 1
            self.app_rules = _stack(self.lower_rules, self.policy._app_rules)
            self.cache.clear()
            self.shared.clear()

    def redirect_hook(self) -> t.Any:
        """Redirect a plain-HTTP request as :attr:`https_redirect` says, or
        return ``None``; called before the app's ``before_request`` functions."""
        config = self.https_redirect
        if config is None or _current_request().environ.get("wsgi.url_scheme") in (
            _SECURE_SCHEMES
        ):
            return None
        return redirect_to_https(self.app(), config, self._redirect_error)

    def _redirect_error(self, error: Exception) -> None:
        app = self.app()
        if app.testing or app.debug:
            raise error
        self._report(app, request_proxy.endpoint, "https_redirect", error)

    def compiled(self, app: Flask, endpoint: str | None) -> CompiledPolicy:
        compiled = self.cache.get(endpoint)
        if compiled is None:
            generation = self.generation
            layers = self.policy._layers(app, endpoint)
            merged = _stack(self.app_rules, *layers)
            for amend in self.amenders:
                amend(endpoint, merged)
            # Endpoints that end up with the same declarations (most of an
            # app's) share one compiled policy, and its branches.
            key: tuple[Declared, ...] | None = tuple(merged.values())
            try:
                shared = self.shared.get(key)  # type: ignore[arg-type]
            except TypeError:  # a callable that cannot be hashed
                shared, key = None, None
            if shared is not None:
                compiled = shared
            else:
                if self.hsts_only_secure and HSTS in merged:
                    merged[HSTS] = dataclasses.replace(merged[HSTS], secure_only=True)
                if self.hsts_only_secure and CSP in merged:
                    # upgrade-insecure-requests too is for HTTPS responses only.
                    merged[CSP] = with_plain_variant(merged[CSP])
                compiled = CompiledPolicy(list(merged.values()))
            for problem in compiled.problems:
                self._problem(app, endpoint, problem)
            with self._lock:
                if generation == self.generation:
                    self.cache[endpoint] = compiled
                    if key is not None:
                        self.shared[key] = compiled
        return compiled

    def wrap(self, wsgi_app: WSGIApplication) -> WSGIApplication:
        """Wrap ``wsgi_app``: the policy joins each response's header list
        where it is handed to the server (``start_response``).

        Per response, the common case: the endpoint's compiled policy (one
        lookup), its branch for the scheme and the ``Content-Type`` (one
        lookup), a look at the response's header names (each name looked up
        in the branch's table, none lower-cased), and one ``extend`` of
        prebuilt tuples, with the request's nonce joined in when the branch's
        CSP carries one. A response that has a header the branch declares,
        or a branch with a value computed per request, takes the general
        path (:meth:`apply_general`). Written inline but for
        :meth:`~flask_header_policy._apply.Branch.extend`: every call costs.
        Never raises in production (tests and the debugger see the error).
        """
        state = self
        cache = self.cache
        # Chosen once: only an app that redirects has redirected requests.
        redirects = self.https_redirect is not None or self.policy._redirect_later
        # The app's map when it was wrapped (no cycle: a Map knows no app);
        # a map assigned to the app later is checked through the app.
        url_map = self.app().url_map

        def header_policy_wsgi_app(
            environ: WSGIEnvironment, start_response: StartResponse
        ) -> cabc.Iterable[bytes]:
            if not state.started:
                state.start()

            def policy_start_response(
                status: str, headers: HeaderList, exc_info: t.Any = None
            ) -> t.Any:
                endpoint: str | None = None
                # What request.is_secure reads, after any ProxyFix has
                # rewritten it.
                is_secure = environ.get("wsgi.url_scheme") in _SECURE_SCHEMES
                # The request's own environ: where csp_nonce() and the
                # templates keep the nonce and the hashes.
                renv: WSGIEnvironment = environ
                harden = True  # every Set-Cookie, unless the branch looked
                try:
                    request = environ.get("werkzeug.request")
                    try:
                        rule = request.url_rule  # type: ignore[union-attr]
                        renv = request.environ  # type: ignore[union-attr]
                    except AttributeError:
                        rule = None
                    if rule is None:
                        # No URL matched; or a view replaced the request with
                        # one of its own (a Werkzeug one, or a Flask one that
                        # was never routed), or a non-Flask app mounted below
                        # this one answers: Flask's context if there is one,
                        # else the app layer.
                        request = _flask_request()
                        if request is not None:
                            rule, renv = request.url_rule, request.environ
                    # A rule of another Flask app mounted below this one is
                    # no route of this app: the app layer applies, as for
                    # unmatched URLs. So does a redirect to HTTPS: it is not
                    # the view's response.
                    if (
                        rule is not None
                        and (rule.map is url_map or rule.map is state.app().url_map)
                        and not (redirects and REDIRECTED_KEY in renv)
                    ):
                        endpoint = rule.endpoint
                    compiled = cache.get(endpoint)
                    if compiled is None:
                        compiled = state.compiled(state.app(), endpoint)
                    side = compiled.secure if is_secure else compiled.plain
                    count = len(headers)
                    flags = -1  # the general path
                    if count and headers[0][0] == "Content-Type":
                        # Flask's responses: the Content-Type first.
                        content_type = headers[0][1]
                        branch = side.by_type.get(content_type) or side.for_type(
                            content_type
                        )
                        if (
                            count == 2
                            and headers[1][0] == "Content-Length"
                            and branch.simple
                        ):
                            flags = 0  # Flask's own response: nothing to look at
                        else:
                            flags = branch.scan(headers)
                    if flags >= 0:
                        if flags & COOKIES and state.cookies is not None:
                            # Before the policy's headers: fewer to look at.
                            state.harden_cookies(endpoint, headers, is_secure)
                        if state.splice is not None and branch.html:
                            if TRUSTED_KEY in renv:
                                # Hashes of this response only: spliced
                                # into the final headers, never cached.
                                flags |= OWN_CSP_FLAG
                            else:
                                numbers = renv.get(HASHES_KEY)
                                if numbers and not flags & OWN_CSP_FLAG:
                                    branch = state.hashed(branch, numbers, endpoint)
                        branch.extend(headers, renv)
                        if (
                            flags & OWN_CSP_FLAG
                            and state.splice is not None
                            and branch.html
                        ):
                            state.splice_final(renv, headers)
                        # A Set-Cookie the branch declares is hardened too.
                        harden = branch.sets_cookie
                    else:
                        state.apply_general(
                            compiled,
                            endpoint,
                            request,
                            renv,
                            status,
                            headers,
                            is_secure,
                        )
                except Exception as error:
                    state.internal_error(endpoint, error)
                finally:
                    renv[SEALED_KEY] = True
                if harden and state.cookies is not None:
                    state.harden_cookies(endpoint, headers, is_secure)
                return start_response(status, headers, exc_info)

            return wsgi_app(environ, policy_start_response)

        return header_policy_wsgi_app

    def internal_error(self, endpoint: str | None, error: Exception) -> None:
        """The policy could not be applied to a response: raise under
        ``app.testing`` or ``app.debug``, else log once and send it as is."""
        app = self.app()
        if app.testing or app.debug:
            raise error
        self._report(app, endpoint, "internal", error)

    def harden_cookies(
        self, endpoint: str | None, headers: HeaderList, is_secure: bool
    ) -> None:
        assert self.cookies is not None
        try:
            self.cookies.apply(headers, is_secure=is_secure)
        except Exception as error:
            app = self.app()
            if app.testing or app.debug:
                raise
            self._report(app, endpoint, "cookies", error)

    def apply_general(
        self,
        compiled: CompiledPolicy,
        endpoint: str | None,
        request: t.Any,
        renv: WSGIEnvironment,
        status: str,
        headers: HeaderList,
        is_secure: bool,
    ) -> None:
        """Merge declaration by declaration: the response has some of the
        branch's headers (or no ``Content-Type`` first), or a value is
        computed per request."""
        app = self.app()
        if compiled.needs_state:
            per_request = _RequestState(app, request, status, headers)
            on_error = self._on_error(app, endpoint)
            compiled.apply(headers, is_secure, per_request, on_error, environ=renv)
        else:
            compiled.apply(headers, is_secure, environ=renv)
        if self.splice is not None:
            self.splice_final(renv, headers)

    def hashed(self, branch: Branch, numbers: set[int], endpoint: str | None) -> Branch:
        """``branch`` with the hashes of the rendered templates in its CSP
        (spliced once per set of templates); ``branch`` if that fails."""
        try:
            assert self.splice is not None
            return branch.hashed(numbers, self.splice.value)
        except Exception as error:
            app = self.app()
            if app.testing or app.debug:
                raise
            self._report(app, endpoint, "hashes", error)
            return branch

    def splice_final(self, renv: WSGIEnvironment, headers: HeaderList) -> None:
        """Splice the rendered templates' hashes into the CSP headers of a
        final header list."""
        assert self.splice is not None
        try:
            self.splice(renv, headers)
        except Exception as error:
            app = self.app()
            if app.testing or app.debug:
                raise
            self._report(app, None, "hashes", error)

    def check_nonce(self, app: Flask, request: Request) -> None:
        """Complain when ``csp_nonce()`` is called for an endpoint whose
        policy sends no CSP with ``NONCE``: raise under testing/debug, log a
        warning once per endpoint in production."""
        rule = request.url_rule
        endpoint = None
        if rule is not None and rule.map is app.url_map:
            endpoint = rule.endpoint
        compiled = self.cache.get(endpoint) or self.compiled(app, endpoint)
        if compiled.sends_nonce:
            return
        error = NonceUnavailableError(
            f"csp_nonce() was called for endpoint {endpoint!r}, whose policy sends"
            " no Content-Security-Policy with NONCE: no header allows the nonce,"
            " so it protects nothing (and under a CSP the element it marks is"
            " blocked). Declare a ContentSecurityPolicy with NONCE for this view"
            " (the strict preset has one), or stop calling csp_nonce() there."
        )
        if app.testing or app.debug:
            raise error
        if (endpoint, "nonce") not in self.reported:
            self.reported.add((endpoint, "nonce"))
            app.logger.warning("Header policy (logged once): %s", error)

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
    "internal": "header policy not applied to this response",
    "cookies": "Set-Cookie not hardened on this response (sent as the app set it)",
    "hashes": "hashes of the rendered templates not added to the CSP",
    "configuration": "inconsistent declarations",
    "https_redirect": "the https_redirect exempt() predicate raised; the request"
    " was redirected",
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
