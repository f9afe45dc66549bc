"""Search: the same interface on PostgreSQL (full-text) and SQLite (words), best match first."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from negotiations.models import Demand

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("Orthodox", "RU-I-11"),
        ("satellite", "RU-II-O2-3"),
        ("100 days", "RU-II-O2-9"),
        ("Security Council", "RU-III-8"),
        ("Moscow Patriarchate", "RU-I-11"),
    ],
)
def test_known_queries_rank_the_expected_demand_first(query, first):
    assert Demand.objects.search(query)[0].code == first


def test_search_reaches_quotes_and_source_names():
    # "Sputnik" is a publisher, "Lugansk" only appears in quotes.
    assert "RU-II-O1" in {d.code for d in Demand.objects.search("Sputnik")}
    assert "RU-I-1a" in {d.code for d in Demand.objects.search("Lugansk")}


def test_search_page_groups_by_topic_and_party_and_highlights(client):
    response = client.get(reverse("search"), {"q": "Orthodox"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<mark>Orthodox</mark>" in html
    assert 'href="/demands/RU-I-11/"' in html
    assert 'id="group-identity"' in html
    assert "1 provision matches “Orthodox”." in html


def card(html, code):
    """The search result card of one demand."""
    [article] = re.findall(
        rf'<article[^>]*>\s*<h4[^>]*><a href="/demands/{code}/".*?</article>', html, re.S
    )
    return article


def test_a_result_found_by_its_quote_or_source_shows_which(client):
    html = client.get(reverse("search"), {"q": "Lugansk"}).content.decode()
    found = card(html, "RU-I-1a")
    assert re.search(r"Cited from <a href=\"/sources/[^\"]+/#citation-\d+\">[^<]+</a>: <q", found)
    assert "<mark>Lugansk</mark>" in found.split("Cited from")[1]

    html = client.get(reverse("search"), {"q": "Sputnik"}).content.decode()
    assert "Cited from" in card(html, "RU-II-O1")
    assert "><mark>Sputnik</mark></a>: <q" in card(html, "RU-II-O1")

    # Found by its own words, which the card shows marked: no quote is added.
    html = client.get(reverse("search"), {"q": "Orthodox"}).content.decode()
    assert "<mark>Orthodox</mark>" in card(html, "RU-I-11")
    assert "Cited from" not in card(html, "RU-I-11")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="excluding a word is PostgreSQL's web search syntax"
)
def test_an_excluded_word_does_not_count_as_the_demands_own_match(client):
    # PostgreSQL's headline marks "Russia" in the summary although the query excludes it.
    html = client.get(reverse("search"), {"q": "Lugansk -Russia"}).content.decode()
    assert "Cited from" in card(html, "RU-I-1a")


def test_search_on_the_comparison_highlights_the_term(client):
    html = client.get("/", {"q": "Orthodox"}).content.decode()
    assert "<mark>Orthodox</mark>" in html
    assert "Lift the restrictions on the Ukrainian" in html


def test_active_search_returns_the_results_fragment(client):
    response = client.get(reverse("search"), {"q": "satellite"}, **HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="search-count"' in html and 'data-hx-swap-oob="true"' in html
    assert "Vary" in response and "HX-Request" in response["Vary"]


def test_highlighting_escapes_markup(client):
    demand = Demand.objects.get(code="RU-I-11")
    demand.summary = "<script>alert(1)</script> Orthodox"
    demand.save()
    html = client.get(reverse("search"), {"q": "Orthodox"}).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("q", ["a\x00b", "x" * 201])
def test_bad_search_input_is_a_form_error(client, q):
    assert client.get(reverse("search"), {"q": q}).status_code == 400


def test_search_without_a_query_shows_the_form(client):
    response = client.get(reverse("search"))
    assert response.status_code == 200
    assert "Type a word to search." in response.content.decode()


def test_punctuation_only_and_operator_queries_do_not_fail(client):
    for q in ['"', "-", "!!", "OR", '"100 days"', "ceasefire -Russia"]:
        assert client.get(reverse("search"), {"q": q}).status_code == 200, q
