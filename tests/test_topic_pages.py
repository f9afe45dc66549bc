"""A topic page lists its provisions fifty at a time, party after party, in document order."""

import csv
import io
import json
import re

import pytest
from django.core.cache import cache

from negotiations import views
from negotiations.models import Demand, Party, Topic
from tests.pages import shown_codes

pytestmark = pytest.mark.django_db

URL = "/topics/ceasefire/"


def expected_codes(slug, party=None):
    """The topic's provisions as the page has always listed them: party after party, each
    party's in document order."""
    demands = Demand.objects.on_topic(Topic.objects.get(slug=slug)).in_document_order()
    parties = [party] if party else Party.objects.all()
    return [
        code
        for p in parties
        for code in demands.filter(section__proposal__party=p).values_list("code", flat=True)
    ]


def all_pages(client, url, params=None):
    """Follow the rel="next" links from the first page; the codes of each page in turn."""
    pages, href = (
        [],
        url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""),
    )
    while href:
        html = client.get(href if href.startswith("/") else url + href).content.decode()
        pages.append(shown_codes(html))
        found = re.search(r'<a href="([^"]+)" rel="next"', html)
        href = found and found.group(1).replace("&amp;", "&")
    return pages


@pytest.fixture
def page_size(monkeypatch):
    """A small page, so the curated data alone spans several pages."""

    def set_size(size):
        monkeypatch.setattr(views, "TOPIC_PAGE_SIZE", size)
        cache.clear()  # pages rendered at another size must not be served

    return set_size


@pytest.mark.parametrize("size", [1, 4, 10, 50])
def test_paging_shows_every_provision_exactly_once_in_the_same_order(client, page_size, size):
    page_size(size)
    pages = all_pages(client, URL)
    assert [code for page in pages for code in page] == expected_codes("ceasefire")
    assert all(len(page) == size for page in pages[:-1])
    assert len(pages) == -(-len(expected_codes("ceasefire")) // size)


def test_a_short_list_has_one_page_and_no_page_links(client):
    html = client.get(URL).content.decode()
    assert shown_codes(html) == expected_codes("ceasefire")
    assert 'rel="next"' not in html and 'rel="prev"' not in html
    assert "Page 1 of" not in html


def test_the_party_filter_shows_only_that_partys_provisions(client, page_size):
    page_size(2)
    russia = Party.objects.get(slug="russia")
    pages = all_pages(client, URL, {"party": "russia"})
    assert [code for page in pages for code in page] == expected_codes("ceasefire", russia)
    html = client.get(URL, {"party": "russia"}).content.decode()
    assert 'id="party-russia"' in html and 'id="party-ukraine"' not in html
    assert '<option value="russia" selected>' in html
    assert "Russia · Ceasefire terms and monitoring · " in html  # in the title


def test_page_links_are_real_links_with_rel_and_keep_the_filter(client, page_size):
    page_size(2)
    html = client.get(URL, {"party": "russia", "page": 2}).content.decode()
    assert '<a href="?party=russia&amp;page=1" rel="prev"' in html
    assert '<a href="?party=russia&amp;page=3" rel="next"' in html
    assert 'data-hx-push-url="true"' in html
    assert '<span class="pager-position">Page 2 of' in html
    first = client.get(URL, {"party": "russia"}).content.decode()
    assert 'rel="prev"' not in first and 'rel="next"' in first


def test_the_title_names_the_page_after_the_first(client, page_size):
    page_size(4)
    pages = -(-len(expected_codes("ceasefire")) // 4)
    first = client.get(URL).content.decode()
    second = client.get(URL, {"page": 2}).content.decode()
    assert re.search(r"<title>Ceasefire terms and monitoring · ", first)
    assert re.search(rf"<title>Page 2 of {pages} · Ceasefire terms and monitoring · ", second)


def test_an_htmx_page_change_gets_the_list_and_its_title_only(client, page_size):
    page_size(4)
    html = client.get(URL, {"page": 2}, HTTP_HX_REQUEST="true").content.decode()
    assert html.startswith("<title>Page 2 of")
    assert "<h1>" not in html and 'id="topic-count"' in html
    assert shown_codes(html) == expected_codes("ceasefire")[4:8]
    # Back and Forward ask for the whole page.
    restored = client.get(
        URL, {"page": 2}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    ).content.decode()
    assert "<h1>" in restored


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "x"}, "The page must be a whole number"),
        ({"page": "1.5"}, "The page must be a whole number"),
        ({"page": "0"}, "Pages start at 1"),
        ({"page": "-3"}, "Pages start at 1"),
        ({"page": "2"}, "There is no such page: this list has 1 page."),
        ({"page": "9" * 10_000}, "The page must be a whole number"),
        ({"page": "1" + "0" * 30}, "There is no such page"),
        ({"page": "\x00"}, "Null characters are not allowed"),
        ({"party": "atlantis"}, "Select a valid choice"),
        ({"party": "\x00"}, "Select a valid choice"),
    ],
)
def test_bad_page_or_party_is_a_400_with_the_reason_on_the_page(client, params, message):
    response = client.get(URL, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "<h1>Ceasefire terms and monitoring</h1>" in html  # the full page
    assert 'role="alert"' in html and message in html
    assert shown_codes(html) == []


def test_bad_page_in_an_export_is_a_400(client):
    response = client.get(URL, {"page": "0", "format": "csv"})
    assert response.status_code == 400
    assert "Pages start at 1" in response.content.decode()


def test_alternatives_cut_by_a_page_boundary_say_they_continue(client, page_size):
    # Russia's ceasefire alternatives: RU-II-O1, then the ten points of option 2, RU-II-O2-1 to
    # RU-II-O2-10, all of them ceasefire conditions.
    page_size(1)
    codes = expected_codes("ceasefire")
    notes = {}
    for number, code in enumerate(codes, start=1):
        html = client.get(URL, {"page": number}).content.decode()
        assert shown_codes(html) == [code]
        notes[code] = (
            "continued from the previous page" in html,
            "continued on the next page" in html,
            "The other option has nothing on this topic" in html,
        )
    assert notes["RU-II-O1"] == (False, True, False)
    assert notes["RU-II-O2-5"] == (True, True, False)
    assert notes["RU-II-O2-10"] == (True, False, False)
    assert all(notes[code] == (False, False, False) for code in codes if "-O" not in code)


def test_a_whole_alternatives_block_on_one_page_does_not_say_it_continues(client):
    html = client.get(URL).content.decode()
    assert "Either / or: ceasefire conditions" in html
    assert "continued" not in html


def test_relations_and_disagreements_show_on_every_page(client, page_size):
    topic = Topic.objects.get(slug="ceasefire")
    assert topic.relations.exists()
    page_size(1)
    for number in (1, len(expected_codes("ceasefire"))):
        html = client.get(URL, {"page": number}).content.decode()
        assert "How the positions relate:" in html
        assert 'id="disagreements"' in html


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_holds_exactly_the_page_shown(client, page_size, fmt):
    page_size(4)
    for params in ({}, {"page": 2}, {"party": "russia", "page": 2}):
        shown = shown_codes(client.get(URL, params).content.decode())
        response = client.get(URL, {**params, "format": fmt})
        text = response.content.decode()
        rows = json.loads(text) if fmt == "json" else list(csv.DictReader(io.StringIO(text)))
        assert [row["code"] for row in rows] == shown
        assert shown
    response = client.get(URL, {"party": "russia", "page": 2, "format": "csv"})
    assert (
        'filename="istanbul-talks-topic-ceasefire-party-russia-page-2.csv"'
        in (response["Content-Disposition"])
    )


def test_the_comparisons_show_all_link_opens_the_topic_filtered_by_party(client):
    from django.core.management import call_command

    call_command("generate_synthetic", scale=2)
    html = client.get("/", {"topic": "ceasefire"}).content.decode()
    assert '<a href="/topics/ceasefire/?party=russia#party-russia">See all ' in html


def test_territory_page_shows_its_context_figures_with_their_quotes(client):
    html = client.get("/topics/territory/").content.decode()
    context = html[html.index('<h2 id="context">Context</h2>') : html.index("relation-block")]
    assert "79.8 %" in context
    assert '<time datetime="2025-06-02">2 June 2025</time>' in context
    assert "about 21,616 km²" in context
    assert "Institute for the Study of War" in context
    assert "Russia now occupies 79.8 percent of the four oblasts as of June 2, 2025." in context
    # Reuters' figure was read on a copy of its report and could not be re-checked.
    reuters = context[context.index('id="context-reuters-luhansk-and-70-percent-2025-06"') :]
    assert "HK Business Wire" in reuters
    assert "quote not re-verified" in reuters


def test_context_figures_show_on_their_own_topic_only(client):
    humanitarian = client.get("/topics/humanitarian/").content.decode()
    assert "at least 19,456" in humanitarian
    assert "79.8 %" not in humanitarian
    assert 'id="context"' not in client.get("/topics/nuclear/").content.decode()
