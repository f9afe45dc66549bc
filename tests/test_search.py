"""Search: the same interface on PostgreSQL (full-text) and SQLite (words), best match first."""

import re
import time

import pytest
from django.urls import reverse

from negotiations.models import Citation, Demand, Topic
from negotiations.search import MAX_TERMS, TOPIC_ALIASES

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


def test_search_reaches_quotes_but_not_source_names():
    # "Kiev" appears only in quotes; "Sputnik" is a publisher, "News-Pravda" in a source's
    # name: they describe a source, not what a provision says.
    assert "RU-II-O2-10" in codes("Kiev")
    assert codes("Sputnik") == codes("News-Pravda") == []


def test_search_page_groups_by_topic_and_party_and_highlights(client):
    response = client.get(reverse("search"), {"q": "Orthodox"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<mark>Orthodox</mark>" in html
    assert 'href="/demands/RU-I-11/"' in html
    assert 'id="group-identity"' in html
    assert "1 provision matches “Orthodox”." in html


def codes(query):
    return [demand.code for demand in Demand.objects.search(query)]


def card(html, code):
    """The search result card of one demand."""
    [article] = re.findall(
        rf'<article[^>]*>\s*<h4[^>]*><a href="/demands/{code}/".*?</article>', html, re.S
    )
    return article


def test_sources_whose_name_matches_are_listed_apart_from_the_provisions(client):
    html = client.get(reverse("search"), {"q": "Sputnik"}).content.decode()
    assert "0 provisions match “Sputnik”." in html
    assert "No provision matches “Sputnik”." in html
    sources = html.split('<h2 id="group-sources">Sources</h2>')[1]
    assert re.search(r'<li><a href="/sources/[^"]+/"><mark>Sputnik</mark></a>: ', sources)
    assert "/demands/" not in sources


def test_a_result_found_by_its_quote_shows_which(client):
    html = client.get(reverse("search"), {"q": "Kiev"}).content.decode()
    found = card(html, "RU-II-O2-10")
    assert re.search(r"Cited from <a href=\"/sources/[^\"]+/#citation-\d+\">[^<]+</a>: <q", found)
    assert "<mark>Kiev</mark>" in found.split("Cited from")[1]

    # Found by its own words, which the card shows marked: no quote is added.
    html = client.get(reverse("search"), {"q": "Orthodox"}).content.decode()
    assert "<mark>Orthodox</mark>" in card(html, "RU-I-11")
    assert "Cited from" not in card(html, "RU-I-11")


def test_an_excluded_word_does_not_count_as_the_demands_own_match(client):
    # Its summary says Luhansk and "part"; a quote says Lugansk without "part". (PostgreSQL's
    # headline marks "part" in the summary although the query excludes it.)
    html = client.get(reverse("search"), {"q": "Lugansk -part"}).content.decode()
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


# What an analyst types, and what must come first: (query, codes expected among the first
# `within` results, codes that must not be found at all). The same on SQLite and PostgreSQL.
# To add one, search for it on the site, read the provisions it should find (their own words,
# topic and quotes, not their sources' names), and add a line.
EXPECTED_RESULTS = [
    # The first and third rounds and the 2024 conditions speak of the same things: where they
    # rank among the 2 June provisions, the window is wider.
    # Ukraine's non-recognition clause through the territory topic; not the Russian provisions
    # whose sources' bracketed descriptions mention Crimea.
    ("Crimea", ["RU-I-1a"], 1, ["RU-I-1b", "RU-I-2a", "RU-I-4", "RU-I-5a"]),
    ("Crimea", ["UA-P-12"], 4, []),
    # Not the territory clause whose source is named "News-Pravda NATO".
    ("NATO", ["RU-PT-3", "UA-P-9"], 3, ["UA-P-14"]),
    ("ceasefire", ["UA-P-1", "UA-T-1", "UA-R-1", "RU-III-5"], 11, ["AG-3", "AG-7", "RU-III-3"]),
    ("cease-fire", ["UA-P-1", "UA-T-1", "UA-R-1", "RU-III-5"], 11, ["AG-3", "AG-7", "RU-III-3"]),
    ("Zaporizhzhia", ["RU-I-1a", "RU-II-O1"], 4, []),
    ("Zaporozhye", ["RU-I-1a", "RU-II-O1"], 4, []),
    ("Lugansk", ["RU-I-1a", "RU-II-O1"], 4, []),
    ("Kyiv", ["RU-II-O2-10", "RU-II-O2-5", "UA-T-1"], 18, ["UA-P-14", "AG-1"]),
    ("prisoners", ["AG-1", "AG-2", "AG-3", "UA-P-3", "UA-T-2", "UA-R-3", "RU-II-O2-7"], 11, []),
    ("children", ["AG-6", "R2-RU-1", "UA-P-2", "UA-R-3", "UA-T-3"], 8, []),
    ("elections", ["RU-II-O2-9", "RU-III-6"], 2, ["RU-III-3", "RU-III-8", "RU-III-9"]),
    ("sanctions", ["RU-I-8", "RU-PT-4", "UA-P-15", "UA-T-6"], 4, []),
    ("1000", ["AG-3", "R1-AG-1"], 2, ["AG-7"]),
    ("1,000 prisoners", ["AG-3", "R1-AG-1"], 2, []),
    ("memorandum", ["RU-III-4", "AG-8", "RU-PT-1"], 6, ["RU-I-10", "RU-I-11", "UA-P-10"]),
    # In the name of the topic, not in any provision's words.
    ("denazification", ["RU-I-6", "RU-I-7"], 4, []),
    ("reparations", ["UA-P-17", "UA-P-16", "RU-I-10"], 3, []),
    ("martial law", ["RU-II-O2-8", "RU-II-O2-9"], 2, []),
    ("security guarantees", ["UA-P-6"], 1, []),
    ("nuclear", ["RU-I-4"], 1, []),
]


@pytest.mark.parametrize(("query", "expected", "within", "absent"), EXPECTED_RESULTS)
def test_an_analysts_query_finds_what_it_means(query, expected, within, absent):
    found = codes(query)
    assert set(expected) <= set(found[:within]), found
    assert not set(absent) & set(found), found


@pytest.mark.parametrize(
    "spellings",
    [
        ("Zaporizhzhia", "Zaporozhye", "zaporizhia"),
        ("Luhansk", "Lugansk"),
        ("ceasefire", "cease-fire", '"cease fire"'),
        ("Kyiv", "Kiev"),
        ("1000", "1,000"),
        ("6000 bodies", "6,000 bodies"),
    ],
)
def test_variant_spellings_find_the_same_provisions_in_the_same_order(spellings):
    first, *others = [codes(spelling) for spelling in spellings]
    assert first
    for other in others:
        assert other == first


@pytest.mark.parametrize(("slug", "aliases"), TOPIC_ALIASES.items())
def test_each_alias_of_a_topic_finds_its_provisions(slug, aliases):
    topic = Topic.objects.get(slug=slug)  # a renamed topic must take its aliases along
    provisions = {demand.code for demand in topic.demands.all()}
    for alias in aliases.split():
        assert provisions <= set(codes(alias)), alias


def test_a_variant_spelling_is_marked_where_it_is_found(client):
    html = client.get(reverse("search"), {"q": "Lugansk"}).content.decode()
    assert "<mark>Luhansk</mark>" in card(html, "RU-I-1a")


# Many words: the cost of a search must not grow with them (it once doubled with each word, and
# took 20 s for twelve on SQLite; forty were more tables than SQLite can join).
TWELVE_WORDS = " ".join(["e"] * 12)
REPEATED_WORDS = " ".join(["e"] * 40)
DISTINCT_WORDS = (
    "the of and to in on for as at by it or an be is was are this that with from a i o u e "
    "y s t r n l d c m p h g w f"
)
FAST = 1.0  # seconds: generous, where the old search took minutes


@pytest.mark.parametrize("q", [TWELVE_WORDS, REPEATED_WORDS, DISTINCT_WORDS])
def test_a_long_search_answers_at_once(q):
    started = time.perf_counter()
    list(Demand.objects.search(q))
    list(Citation.objects.matching(q))
    assert time.perf_counter() - started < FAST


@pytest.mark.parametrize("url", ["/", "/search/", "/api/demands"])
def test_a_long_search_answers_at_once_on_every_page(client, url):
    client.get(url)  # the process's first request compiles templates: not the search's cost
    started = time.perf_counter()
    response = client.get(url, {"q": DISTINCT_WORDS})
    assert len(DISTINCT_WORDS.split()) == 40
    assert time.perf_counter() - started < FAST
    assert response.status_code == 200


def test_only_the_first_terms_of_a_long_query_count():
    terms = [f"word{n}" for n in range(MAX_TERMS)]
    # The query's first terms find nothing, so adding a term past them changes nothing.
    assert codes(" ".join(terms)) == codes(" ".join([*terms, "Orthodox"])) == []
    assert codes(" ".join(["Orthodox", *terms[1:], "word0"])) == []
    assert codes(" ".join(["Orthodox"] * 40)) == codes("Orthodox") == ["RU-I-11"]


def test_phrases_alternatives_and_exclusions_read_alike_on_both_databases():
    assert codes('"100 days"')[0] == "RU-II-O2-9"
    assert "RU-II-O2-9" in codes("days 100") and codes('"days 100"') == []
    either = codes("truce or satellite")
    assert {"RU-III-2", "RU-II-O2-3"} <= set(either)
    assert "RU-II-O2-3" not in codes("truce")
    assert codes("satellite") == ["RU-II-O2-3"] and codes("satellite -intelligence") == []
    assert "RU-PT-4" in codes("sanctions") and "RU-PT-4" not in codes("sanctions -assets")
