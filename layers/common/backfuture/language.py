"""The language of a response: English (default) or Hungarian, chosen by ``Accept-Language``.

The connection guide exists in these two languages, so every ``message``, ``remedy`` and
``status_label`` does too (texts: ``backfuture.errors`` and ``backfuture.errors_hu``). Codes never
change with the language. The choice is made once per request (``backfuture.handler``) and held in
a context variable: a Lambda execution environment serves one request at a time, and the local
runner calls each handler in its own thread, whose context starts empty (English).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Literal

Language = Literal["en", "hu"]
LANGUAGES: tuple[Language, ...] = ("en", "hu")
DEFAULT_LANGUAGE: Language = "en"

_current: ContextVar[Language] = ContextVar("backfuture_language", default=DEFAULT_LANGUAGE)


def current_language() -> Language:
    return _current.get()


def use_language(language: Language) -> None:
    _current.set(language)


def negotiate(accept_language: str | None) -> Language:
    """The best supported language for an ``Accept-Language`` header (RFC 9110, section 12.5.4).

    ``hu-HU`` counts as ``hu``; a ``q`` of 0 excludes a language; ``*`` stands for any language not
    named, which is English, the default. Anything unreadable falls back to English.
    """
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: tuple[float, int, Language] | None = None
    named: set[str] = set()
    wildcard_q: float | None = None
    for position, part in enumerate(accept_language[:512].split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        q = _quality(params)
        if q is None:
            continue
        if primary == "*":
            wildcard_q = q
            continue
        named.add(primary)
        if primary in LANGUAGES and q > 0:
            candidate = (q, -position, primary)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    if wildcard_q and DEFAULT_LANGUAGE not in named and (best is None or wildcard_q > best[0]):
        return DEFAULT_LANGUAGE
    return best[2] if best is not None else DEFAULT_LANGUAGE


def _quality(params: str) -> float | None:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return None
            return q if 0 <= q <= 1 else None
    return 1.0
