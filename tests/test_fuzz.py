"""Hostile query strings and path segments on every public URL: a 2xx, 3xx, 400, 404 or 405,
never a 500."""

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

URLS = [
    "/",
    "/search/",
    "/compare/",
    "/sources/",
    "/sources/konkors-13508/",
    "/topics/territory/",
    "/proposals/ru-memorandum/",
    "/demands/RU-I-4/",
    "/parties/russia/",
    "/rounds/",
    "/changes/",
    "/about/",
    "/changes/feed/",
    "/healthz",
]
KNOWN_KEYS = [
    "topic",
    "party",
    "proposal",
    "kind",
    "relation",
    "q",
    "format",
    "a",
    "b",
    "publisher",
    "page",  # the topic page's pages, with "party"
    "demand",  # the change log of one demand
]
ALLOWED = {200, 301, 302, 304, 400, 404, 405}

texts = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.just("\x00"),
    st.just("a\x00b"),
    st.just("x" * 10_000),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        ["territory", "russia", "ru-memorandum", "csv", "json", "step", "conflict", "RU-I-4"]
    ),
    st.sampled_from(["1", "2", "0", "-1", "1.0", "1e3", " 1", "last"]),
)
# Pieces of raw query strings that no browser would send, kept as they are.
raw_pieces = st.sampled_from(
    ["%", "%Z", "%ZZ", "%0", "%ED%A0%80", "%C0%AF", "%FF%FE", "%00", "%uD800", "&&", "==", ";", "+"]
)


def encode(text):
    # Lone surrogates cannot be UTF-8: percent-encode their raw bytes as a broken client would.
    return quote(text, safe="", errors="surrogatepass")


@st.composite
def query_strings(draw):
    parts = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        key = draw(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=10)))
        value = draw(texts)
        encoded = f"{encode(key)}={encode(value)}"
        if draw(st.booleans()):
            encoded += draw(raw_pieces)
        parts.append(encoded)
        if draw(st.booleans()):
            parts.append(encoded)  # repeated keys
    return "&".join(parts)


# The headers that choose between a page and an htmx fragment, and the host, as a client
# may word them.
flags = st.sampled_from(["true", "false", "%74rue", "TRUE", "", "0"])
hosts = st.one_of(
    st.sampled_from(["localhost", "127.0.0.1", "[::1]", "testserver", "example.org"]),
    st.builds(
        "{}:{}".format,
        st.sampled_from(["localhost", "127.0.0.1", "[::1]"]),
        st.integers(min_value=0, max_value=70_000),
    ),
    st.text(max_size=20),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "HX-Request": flags,
        "HX-Request-URI-AutoEncoded": flags,
        "HX-History-Restore-Request": flags,
        "Host": hosts,
    },
)


@pytest.mark.parametrize("url", URLS)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=query_strings(), headers=headers)
def test_no_query_string_or_header_causes_a_server_error_or_poisons_a_page(
    client, url, query, headers
):
    response = client.get(f"{url}?{query}", headers=headers)
    assert response.status_code in ALLOWED, (url, query, headers, response.status_code)
    page = client.get(url, headers={"Host": "localhost"})  # what the next reader gets
    if page["Content-Type"].startswith("text/html"):
        assert b"<html" in page.content, (url, query, headers)


def test_public_pages_answer_head_as_monitors_and_link_checkers_ask(client):
    for url in URLS:
        assert client.head(url).status_code == 200, url


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_writes_to_public_pages_are_refused(client, method):
    for url in URLS:
        assert getattr(client, method)(url).status_code == 405, url


# Every public URL with a path parameter, and segments no record's key can be.
PATH_PARAMETER_URLS = [
    "/demands/{}/",
    "/proposals/{}/",
    "/topics/{}/",
    "/sources/{}/",
    "/parties/{}/",
]
HOSTILE_SEGMENTS = [
    "%00",
    "RU-I-4%00",
    "%ff",
    "%FF%FE",
    "%ED%A0%80",  # an encoded lone surrogate
    "x" * 10_000,
    "%00" * 1_000,
    "é",
    "Россия",
    "%F0%9F%98%80",
    "%2e%2e",
    " ",
]


@pytest.mark.parametrize("pattern", PATH_PARAMETER_URLS)
@pytest.mark.parametrize("segment", HOSTILE_SEGMENTS, ids=lambda segment: segment[:12])
def test_hostile_path_segments_are_not_found(client, pattern, segment):
    # PostgreSQL refuses NUL in text: a key that reached the database would answer 500.
    assert client.get(pattern.format(segment)).status_code == 404
