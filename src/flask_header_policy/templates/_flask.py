"""Stamping in a Flask app: the nonce, the hashes of a response, debug checks.

Per request: each stamped tag asks for the nonce; each template (or macro)
holding hashes adds one small int to a set in the WSGI environ, and each
``| trust_scripts`` value with inline code adds its hash set itself. When
the headers are built, a response with such sets gets the union of their
hashes spliced into its CSP headers; the spliced text is cached per policy
text and sets, so a page served again costs a lookup.
"""

from __future__ import annotations

import functools
import typing as t

from flask import Flask
from flask import request
from flask import template_rendered
from flask.wrappers import Response
from markupsafe import Markup

from .._apply import _mimetypes
from ..csp import hash_source
from ..csp import NONCE
from ..nonce import NONCE_KEY
from ..nonce import request_environ
from ..nonce import stamp_nonce
from ..presets import HTML
from ._hashes import analyse_markup
from ._hashes import Hashes
from ._hashes import hashes_for
from ._hashes import is_script
from ._scan import scan_text
from ._splice import splice_hashes
from .jinja import StampExtension

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from jinja2 import Template

    from .._apply import CompiledPolicy

__all__ = [
    "HASHES_KEY",
    "HashSplicer",
    "install_debug_check",
    "install_stamping",
    "trust_scripts",
]

#: The numbers of the hash sets of the templates a request rendered.
HASHES_KEY = "flask_header_policy.hashes"
#: The hash sets of the Markup values a request trusted. They are not
#: registered: a value may differ from request to request, and the registry
#: of numbers, which compiled templates hold, never shrinks.
TRUSTED_KEY = "flask_header_policy.trusted_hashes"
#: Under app.debug: the names of the templates a request rendered.
TEMPLATES_KEY = "flask_header_policy.templates"
_CSP_HEADERS = frozenset(
    {"content-security-policy", "content-security-policy-report-only"}
)
_CACHE_SIZE = 512
HTML_TYPES = frozenset(HTML)
# Markup larger than this is stamped but its analysis is not cached.
_CACHED_MARKUP = 64 * 1024
# The debug check reads at most this much of a body.
_DEBUG_BODY = 2 * 1024 * 1024


def record_hashes(number: int) -> None:
    """Note that the current request rendered hash set ``number``."""
    environ = request_environ()
    if environ is None:
        return
    numbers: set[int] | None = environ.get(HASHES_KEY)
    if numbers is None:
        environ[HASHES_KEY] = {number}
    else:
        numbers.add(number)


def install_stamping(app: Flask) -> None:
    """Add :class:`~.jinja.StampExtension` to ``app.jinja_env``.

    Templates compiled before (held in the environment's cache) are dropped
    so that they are compiled again, stamped.
    """
    env = app.jinja_env
    env.add_extension(StampExtension)
    env.header_policy_nonce = stamp_nonce  # type: ignore[attr-defined]
    env.header_policy_record = record_hashes  # type: ignore[attr-defined]
    if env.cache is not None:
        env.cache.clear()
    if env.bytecode_cache is not None:
        app.logger.warning(
            "Header policy: app.jinja_env has a bytecode cache, which keys"
            " compiled templates by their source only: clear it so that"
            " templates compiled without stamping are compiled again"
        )


def _record_trusted(hashes: Hashes) -> None:
    """Note that the current request trusted Markup holding ``hashes``."""
    environ = request_environ()
    if environ is not None:
        environ.setdefault(TRUSTED_KEY, set()).add(hashes)


def recorded_hashes(environ: WSGIEnvironment) -> Hashes:
    """Every hash a request recorded: its templates' and its trusted values'."""
    return hashes_for(environ.get(HASHES_KEY, ())).union(*environ.get(TRUSTED_KEY, ()))


class HashSplicer:
    """Adds the hashes a response recorded to its CSP.

    :meth:`value` splices one CSP text, cached per text and hash sets: a
    policy's branch asks once per set of templates
    (:meth:`flask_header_policy._apply.Branch.hashed`). Called with a final
    header list, it splices every CSP header there (HTML only): for a
    response that carries a CSP of its own, trusted markup with hashes, or
    took the general path.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, frozenset[int], frozenset[Hashes]], str] = {}

    def value(
        self,
        text: str,
        numbers: frozenset[int],
        trusted: frozenset[Hashes] = frozenset(),
    ) -> str:
        """``text`` (a CSP field value, its nonce as ``'nonce-{nonce}'``)
        with the hash sets ``numbers`` and ``trusted`` spliced in."""
        key = (text, numbers, trusted)
        spliced = self._cache.get(key)
        if spliced is None:
            spliced = splice_hashes(text, hashes_for(numbers).union(*trusted))
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = spliced
        return spliced

    def __call__(
        self, environ: WSGIEnvironment, headers: list[tuple[str, str]]
    ) -> None:
        numbers: set[int] | None = environ.get(HASHES_KEY)
        trusted: set[Hashes] | None = environ.get(TRUSTED_KEY)
        if not numbers and not trusted:
            return
        if HTML_TYPES.isdisjoint(_mimetypes(headers)):
            return
        frozen_numbers = frozenset(numbers or ())
        frozen_trusted = frozenset(trusted or ())
        nonce = environ.get(NONCE_KEY)
        source = f"'nonce-{nonce}'" if nonce else None
        for index, (name, value) in enumerate(headers):
            if name.lower() not in _CSP_HEADERS:
                continue
            # Cache by the policy's text without this response's nonce.
            generic = value.replace(source, NONCE) if source else value
            spliced = self.value(generic, frozen_numbers, frozen_trusted)
            if source:
                spliced = spliced.replace(NONCE, source)
            headers[index] = (name, spliced)


_analyse = functools.lru_cache(maxsize=256)(analyse_markup)


def trust_scripts(markup: t.Any) -> Markup:
    """Stamp this request's nonce into the tags of one trusted Markup value.

    For markup that Python code builds, which stamping never touches:
    ``{{ moment.include_moment() | trust_scripts }}``. Every ``<script>``,
    ``<style>`` and ``<link rel=stylesheet|preload|modulepreload>`` without a
    nonce gets one, and the hashes of its static inline handlers and
    ``style`` attributes are added to the response's CSP, as if the markup
    were written in the template. Trust only markup your code builds from
    constants: never a value that holds user input.

    :param markup: a :class:`~markupsafe.Markup` (or any object with
        ``__html__``), that is: text already declared safe HTML.
    :raise TypeError: for a plain ``str``: it is not declared safe, and
        stamping it would turn text into trusted markup.
    """
    render = getattr(markup, "__html__", None)
    if render is None:
        raise TypeError(
            f"trust_scripts takes Markup (HTML a helper declared safe), not"
            f" {type(markup).__name__}: a plain string is text, and text never"
            " gets a nonce"
        )
    text = str(render())
    if len(text) <= _CACHED_MARKUP:
        offsets, hashes = _analyse(text)
    else:
        offsets, hashes = analyse_markup(text)
    if hashes:
        _record_trusted(hashes)
    nonce = stamp_nonce()
    if not offsets or not nonce:
        return Markup(text)
    attribute = f' nonce="{nonce}"'
    parts: list[str] = []
    last = 0
    for offset in offsets:
        parts += (text[last:offset], attribute)
        last = offset
    parts.append(text[last:])
    return Markup("".join(parts))


def _remember_template(sender: Flask, template: Template, **extra: t.Any) -> None:
    environ = request_environ()
    if environ is not None:
        names = environ.setdefault(TEMPLATES_KEY, [])
        names.append(template.name or "(from a string)")


def install_debug_check(
    app: Flask, compiled: t.Callable[[str | None], CompiledPolicy]
) -> None:
    """Under ``app.debug``: warn about HTML responses whose ``<script>`` tags
    do not carry the nonce of a policy that has one.

    :param compiled: the compiled policy of an endpoint.
    """
    template_rendered.connect(_remember_template, app)

    def check_scripts(response: Response) -> Response:
        if not app.debug or response.is_streamed or response.mimetype not in HTML:
            return response
        try:
            _check_scripts(app, response, compiled)
        except Exception:  # a development aid must never break the page
            app.logger.exception("Header policy: the debug check of <script> failed")
        return response

    # Not app.after_request(): installed at the first request, when Flask
    # refuses setup methods to other threads' requests.
    app.after_request_funcs.setdefault(None, []).append(check_scripts)


def _check_scripts(
    app: Flask, response: Response, compiled: t.Callable[[str | None], CompiledPolicy]
) -> None:
    rule = request.url_rule
    endpoint = rule.endpoint if rule is not None else None
    mimetype = response.mimetype
    if not any(
        declared.key in _CSP_HEADERS
        and declared.template is not None
        and (declared.mimetypes is None or mimetype in declared.mimetypes)
        for declared in compiled(endpoint).entries
    ):
        return  # no nonce in this response's policy
    environ = request.environ
    nonce = environ.get(NONCE_KEY)
    hashed = recorded_hashes(environ).script_elem
    body = response.get_data(as_text=True)[:_DEBUG_BODY]
    blocked = []
    for tag in scan_text(body):
        if not is_script(tag):
            continue
        given = tag.get("nonce")
        if nonce is not None and given is not None and given.value == nonce:
            continue
        src = tag.get("src")
        if src is None and tag.content is not None:
            if hash_source(tag.content.replace("\r\n", "\n")) in hashed:
                continue
        blocked.append(
            f"<script src={src.value!r}>"
            if src is not None
            else f"<script>{(tag.content or '')[:40]!r}"
        )
    if not blocked:
        return
    templates = environ.get(TEMPLATES_KEY) or ["(none: the view built the HTML)"]
    used = nonce is not None and nonce in body
    app.logger.warning(
        "Header policy: %d <script> tag(s) of the HTML response of endpoint %r"
        " carry no nonce of this response, so its CSP blocks them%s (templates"
        " rendered: %s; first: %s). Templates are stamped at compile time, but"
        " markup that arrives through a variable or a Python helper never is:"
        " pipe a helper's trusted Markup through `| trust_scripts`.",
        len(blocked),
        endpoint,
        "" if used else "; the page never uses the nonce",
        ", ".join(dict.fromkeys(templates)),
        blocked[0],
    )
