"""A bounded crawler over the site's own pages with Django's test client: start at some paths, follow the
links of every HTML page (same site only), and hand each response to the caller's checks.

Paths that differ only in their numbers (`/registry/volunteers/12/`, `/…/13/`) are one page shape; at most
`per_shape` of each are fetched, so a list of thousands does not make thousands of requests."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

# A full mainland ID number (region, birth date 19xx/20xx, sequence, check digit) and a full mobile number,
# not inside a longer run of letters or digits (hashes, tokens).
FULL_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
FULL_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")

# Never followed: leaving the session, switching language, static and media files, the API and its docs
# (the API has its own proofs), downloads that are not pages.
SKIP = re.compile(
    r"^/(static/|media/|api/|accounts/logout|i18n/|sw\.js|manifest)|\.(pdf|xlsx|csv|png|js|css)$"
)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def links(base: str, html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    out = []
    for href in parser.links:
        url, _ = urldefrag(urljoin(base, href))
        parts = urlsplit(url)
        if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith("/") and not SKIP.search(parts.path):
            out.append(path)
    return out


def shape(path: str) -> str:
    return re.sub(r"\d+", "N", re.sub(r"=[^&]*", "=", path))


@dataclass
class Crawl:
    visited: dict[str, int] = field(default_factory=dict)  # path → status
    html_pages: int = 0


def crawl(
    client: Any,
    start: Iterable[str],
    check: Callable[[str, Any], None],
    *,
    max_pages: int = 300,
    per_shape: int = 3,
) -> Crawl:
    result = Crawl()
    queue = list(start)
    shapes: Counter[str] = Counter()
    seen: set[str] = set()
    while queue and len(result.visited) < max_pages:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        key = shape(path)
        if shapes[key] >= per_shape:
            continue
        shapes[key] += 1
        response = client.get(path)
        result.visited[path] = response.status_code
        check(path, response)
        if response.status_code in (301, 302) and response.get("Location", "").startswith("/"):
            queue.append(response["Location"])
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            result.html_pages += 1
            queue.extend(p for p in links(path, response.content.decode()) if p not in seen)
    return result
