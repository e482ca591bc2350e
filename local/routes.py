"""Route selection as API Gateway HTTP APIs do it: the most specific route wins.

Literal segments beat ``{param}`` segments, which beat a greedy ``{proxy+}``; an exact method beats
``ANY``; ``$default`` catches what nothing else matches. An unmatched request is a 404, also when
only the method differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from local.template import HttpRoute

_LITERAL, _PARAM, _GREEDY = 0, 1, 2


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str]


def match_route(routes: Iterable[HttpRoute], method: str, raw_path: str) -> RouteMatch | None:
    segments = [unquote(segment) for segment in raw_path.split("/")[1:]]
    best: tuple[tuple[int, ...], RouteMatch] | None = None
    for route in routes:
        if route.path == "$default":
            continue
        if route.method not in ("ANY", method.upper()):
            continue
        matched = _match_path(route.path, segments)
        if matched is None:
            continue
        kinds, params = matched
        rank = (*kinds, 1 if route.method == "ANY" else 0)
        if best is None or rank < best[0]:
            best = (rank, RouteMatch(route, params))
    if best is not None:
        return best[1]
    default = next((route for route in routes if route.path == "$default"), None)
    return RouteMatch(default, {}) if default is not None else None


def _match_path(pattern: str, segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    parts = pattern.split("/")[1:]
    params: dict[str, str] = {}
    kinds: list[int] = []
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            rest = segments[index:]
            if not rest or rest == [""]:
                return None
            params[part[1:-2]] = "/".join(rest)
            kinds.append(_GREEDY)
            return tuple(kinds), params
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            if not segments[index]:
                return None
            params[part[1:-1]] = segments[index]
            kinds.append(_PARAM)
        elif part == segments[index]:
            kinds.append(_LITERAL)
        else:
            return None
    if len(parts) != len(segments):
        return None
    return tuple(kinds), params
