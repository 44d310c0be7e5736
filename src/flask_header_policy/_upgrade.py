"""``upgrade-insecure-requests`` is for HTTPS responses only, like HSTS.

On a page served over plain HTTP the directive rewrites every subresource URL
(``/static/site.css`` included) to ``https://``; a site without HTTPS then
loses its CSS and JavaScript. So an enforced CSP that carries it is sent
without it on plain-HTTP responses. Sans-IO: nothing here imports Flask.
"""

from __future__ import annotations

import dataclasses
import secrets
import typing as t

from .csp import parse_policy_list
from .rules import Declared

DIRECTIVE = "upgrade-insecure-requests"


def without_upgrade(value: str) -> str | None:
    """``value`` (a CSP field value) without ``upgrade-insecure-requests``;
    ``value`` itself when it has none, ``None`` when nothing else is left."""
    policies = parse_policy_list(value)
    if not any(name == DIRECTIVE for policy in policies for name, _ in policy):
        return value
    kept = []
    for policy in policies:
        directives = [" ".join([n, *s]) for n, s in policy if n != DIRECTIVE]
        if directives:
            kept.append("; ".join(directives))
    return ", ".join(kept) or None


def with_plain_variant(declared: Declared) -> Declared:
    """``declared``, with the declaration that plain-HTTP responses get
    instead (:attr:`Declared.plain`) when it carries the directive.

    A plain variant made before (the report collector's, without
    ``report-to``) is the one the directive is taken out of. Values computed
    per request are left as they are. A CSP of nothing but the directive is
    not sent over plain HTTP at all.
    """
    base = declared.plain or declared
    changes: dict[str, t.Any] = {}
    if base.template is not None:
        template = _without_upgrade_template(base.template)
        if template != base.template:
            changes["template"] = template
    elif base.static is not None:
        text = without_upgrade(base.static)
        if text != base.static:
            changes["static"] = text
    if base.otherwise is not None:
        text = without_upgrade(base.otherwise)
        if text != base.otherwise:
            changes["otherwise"] = text
    if not changes:
        return declared
    plain = dataclasses.replace(base, **changes)
    if plain.static is None and plain.template is None:
        plain = dataclasses.replace(plain, cancel=True)
    return dataclasses.replace(declared, plain=plain)


def _without_upgrade_template(
    template: tuple[str, ...],
) -> tuple[str, ...] | None:
    """A nonce template (the text around each nonce) without the directive.

    The parts are joined on a fresh random mark that none of them contains,
    so the nonce's places are kept whatever text the policy holds.
    """
    mark = secrets.token_hex(16)
    while any(mark in part for part in template):  # pragma: no cover - 2**-128
        mark = secrets.token_hex(16)
    text = without_upgrade(mark.join(template))
    if text is None:
        return None
    parts = tuple(text.split(mark))
    # The directive carries no source, so no nonce place can be lost.
    assert len(parts) == len(template)
    return parts
