"""Walks the whole URL configuration and turns every pattern into a concrete URL.

Used by tests/test_url_walk.py (deny by default) and open to any test that must cover every URL.
A pattern's parameters are filled in with an existing object's id where the URL names one (see
`ID_SOURCES`, keyed by the path segment in front of the parameter) and with a dummy value otherwise;
each concrete URL is checked to resolve back to the pattern it came from, so no URL is silently skipped.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter
from django.urls.resolvers import RoutePattern
from django.utils.regex_helper import normalize

# Dummy values tried, in order, for a parameter that is not an id (a format suffix, a slug, a string).
DUMMY_VALUES = ("json", ".json", "x", "1")
DUMMY_ID = "1"
ID_PARAMETERS = {"pk", "id", "seq"}


@dataclass(frozen=True)
class Route:
    """One URL pattern of the configuration, with everything needed to build a URL for it."""

    name: str  # "projects:project_detail", "project-detail", or "" when unnamed
    route: str  # as Django reports it in ResolverMatch.route
    template: str  # "/projects/%(pk)s/"
    params: tuple[str, ...]
    int_params: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_api(self) -> bool:
        return self.template.startswith("/api/")

    @property
    def label(self) -> str:
        return f"{self.name or '<unnamed>'} {self.template % {p: f'<{p}>' for p in self.params}}"

    def segment_before(self, param: str) -> str:
        """The literal path segment in front of a parameter: 'projects' for /api/v1/projects/%(pk)s/."""
        head = self.template.split(f"%({param})s", 1)[0].rstrip("/")
        return head.rsplit("/", 1)[-1]

    def url(self, id_for: Callable[[str], object | None] | None = None) -> str:
        """A concrete URL that resolves back to this pattern.

        `id_for(segment)` gives an existing object's id for the segment in front of an id parameter, or None.
        """
        options: list[list[str]] = []
        for param in self.params:
            candidates: list[str] = []
            if param in self.int_params or param in ID_PARAMETERS:
                existing = id_for(self.segment_before(param)) if id_for else None
                candidates.append(str(existing) if existing is not None else DUMMY_ID)
            options.append([*candidates, *DUMMY_VALUES])
        for combination in itertools.product(*options):
            url = self.template % dict(zip(self.params, combination, strict=True))
            if self._resolves_back(url):
                return url
        raise AssertionError(f"No parameter values make a URL that resolves back to {self.label}")

    def _resolves_back(self, url: str) -> bool:
        try:
            match = resolve(url)
        except Resolver404:
            return False
        return match.route == self.route and set(match.kwargs) == set(self.params)


def _join_route(route1: str, route2: str) -> str:
    # As django.urls.resolvers.URLResolver._join_route, so routes compare equal to ResolverMatch.route.
    if not route1:
        return route2
    return route1 + route2.removeprefix("^")


def _walk(patterns, template: str, route: str, namespace: str, int_params: frozenset[str]) -> Iterator[Route]:
    for pattern in patterns:
        fmt, _params = normalize(pattern.pattern.regex.pattern)[0]
        level_ints = frozenset(
            name
            for name, converter in getattr(pattern.pattern, "converters", {}).items()
            if isinstance(pattern.pattern, RoutePattern) and isinstance(converter, IntConverter)
        )
        sub_template = template + fmt
        sub_route = _join_route(route, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            sub_namespace = namespace
            if pattern.namespace:
                sub_namespace = f"{namespace}{pattern.namespace}:"
            yield from _walk(pattern.url_patterns, sub_template, sub_route, sub_namespace, int_params | level_ints)
        elif isinstance(pattern, URLPattern):
            all_params = tuple(dict.fromkeys(_params_of(sub_template)))
            yield Route(
                name=f"{namespace}{pattern.name}" if pattern.name else "",
                route=sub_route,
                template=sub_template,
                params=all_params,
                int_params=int_params | level_ints,
            )


def _params_of(template: str) -> list[str]:
    return re.findall(r"%\(([^)]+)\)s", template)


def all_routes(urlconf=None) -> list[Route]:
    """Every URL pattern of the configuration (the root URLconf by default), in order."""
    resolver = get_resolver(urlconf)
    return list(_walk(resolver.url_patterns, "/", "", "", frozenset()))


def route_id(route: Route) -> str:
    return route.label


def ids_from(mapping: Mapping[str, Callable[[], object]]) -> Callable[[str], object | None]:
    """Turns {segment: () -> id} into the `id_for` callable Route.url expects."""

    def id_for(segment: str):
        factory = mapping.get(segment)
        return factory() if factory else None

    return id_for
