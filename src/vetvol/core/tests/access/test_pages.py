"""Access matrix of the pages: every URL pattern of the resolver × every role of the cast and anonymous ×
an object inside and outside the role's subtree. A pattern without an entry in pages.PAGES fails here."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from vetvol.core.tests.access.matrix import page_url, run
from vetvol.core.tests.access.pages import PAGES


def patterns(resolvers=None, namespace=None, prefix=""):
    """(key, route, view) of every URL pattern, namespaces included; the key is `namespace:name`, or the
    route for an unnamed pattern."""
    for p in get_resolver().url_patterns if resolvers is None else resolvers:
        if isinstance(p, URLResolver):
            ns = (p.namespace and (f"{namespace}:{p.namespace}" if namespace else p.namespace)) or namespace
            yield from patterns(p.url_patterns, ns, prefix + str(p.pattern))
        else:
            assert isinstance(p, URLPattern)
            key = (f"{namespace}:{p.name}" if namespace else p.name) if p.name else prefix + str(p.pattern)
            yield key, prefix + str(p.pattern), p.callback


def is_api_operation(view) -> bool:
    """API operations are covered by the OpenAPI matrix (test_api.py), one entry per method and path."""
    return getattr(view, "__module__", "") == "ninja.operation"


def page_patterns() -> dict[str, str]:
    return {key: route for key, route, view in patterns() if not is_api_operation(view)}


def test_every_url_pattern_has_an_entry():
    found = page_patterns()
    missing = sorted(set(found) - set(PAGES))
    stale = sorted(set(PAGES) - set(found))
    assert not missing, "URL patterns without an entry in core/tests/access/pages.py PAGES: " + ", ".join(
        f"{k} ({found[k]})" for k in missing
    )
    assert not stale, "entries in PAGES for URL patterns that no longer exist: " + ", ".join(stale)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_access(world, clients, db, name):
    entry = PAGES[name]

    def call(client, role, side, ids):
        url = page_url(name, entry, ids)
        return client.post(url) if entry.post else client.get(url)

    problems = run(entry, clients, world, call, name)
    assert not problems, f"{name} ({entry.note or 'no note'}):\n" + "\n".join(problems)
