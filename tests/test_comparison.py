"""The comparison page: the grid, its filters, the htmx fragment and its failure modes."""

import itertools
import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape

from negotiations import views
from negotiations.models import Citation, Demand, Source, Topic
from tests.pages import shown_codes

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_home_shows_every_topic_and_both_sides(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert html.count('<th scope="row">') == 14
    for column in ("Russia", "Ukraine", "Both delegations"):
        assert f'<th scope="col">{column}</th>' in html
    assert "Recognise Crimea, Donetsk, Luhansk, Zaporizhzhia and Kherson as part of Russia" in html
    assert "Memorandum · II · Option 2 · 3" in html
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_russian_options_stay_alternatives(client):
    html = client.get("/", {"topic": "ceasefire"}).content.decode()
    assert "Either / or: ceasefire conditions" in html
    assert '<strong class="or">or</strong> Option 2' in html


def test_an_empty_cell_says_so(client):
    html = client.get("/", {"topic": "nuclear"}).content.decode()
    assert "No provision on this topic in Ukraine's documents." in html


def test_a_proposal_filter_says_the_document_has_nothing_not_the_party(client):
    # Russia's 28 May position is one of its documents: the memorandum has what it lacks.
    html = client.get("/", {"proposal": "ru-position-2025-05-28"}).content.decode()
    assert "No provision on this topic in Russia's documents." not in html
    assert "Nothing on this topic in the chosen document." in html
    assert 'scope="row"><a href="/topics/territory/">' in html  # a topic it leaves out is shown


def test_an_option_shown_alone_under_a_search_does_not_say_the_other_has_nothing(client):
    html = client.get("/", {"topic": "ceasefire", "q": "sabotage"}).content.decode()
    assert "Either / or: ceasefire conditions" in html
    assert "The other option has nothing on this topic." not in html
    assert "The other option has no provision matching this filter on this topic." in html


def test_alternatives_cut_by_the_cell_cap_do_not_say_the_other_option_has_nothing(
    client, monkeypatch
):
    russian = list(
        Demand.objects.on_topic(Topic.objects.get(slug="ceasefire"))
        .filter(section__proposal__party__slug="russia")
        .in_document_order()
    )
    # Cap the cell just after the first option's last provision, before the second option's.
    cut = next(
        i
        for i, (this, after) in enumerate(itertools.pairwise(russian))
        if this.option
        and after.option
        and this.section == after.section
        and this.option != after.option
    )
    monkeypatch.setattr(views, "CELL_LIMIT", cut + 1)
    html = client.get("/", {"topic": "ceasefire"}).content.decode()
    assert "Either / or: ceasefire conditions" in html
    assert "See all" in html
    assert "The other option has nothing on this topic." not in html


def test_relation_is_labelled_as_our_analysis(client):
    html = client.get("/", {"topic": "neutrality"}).content.decode()
    assert "Conflict" in html
    assert "Our analysis" in html


def test_citation_markers_link_to_their_quote_on_the_source_page(client):
    html = client.get("/", {"topic": "nuclear"}).content.decode()
    citation = Citation.objects.get(demand__code="RU-I-4", source__slug="tass-1967385")
    assert f'href="/sources/tass-1967385/#citation-{citation.pk}"' in html
    page = client.get("/sources/tass-1967385/").content.decode()
    quoted = re.search(rf'<li id="citation-{citation.pk}">.*?</li>', page, re.S).group()
    assert escape(citation.quote) in quoted


def test_a_marker_says_in_words_when_its_quote_was_not_re_checked(client):
    html = client.get("/", {"topic": "ceasefire"}).content.decode()
    citation = Citation.objects.get(demand__code="UA-T-1", source__publisher="Kyiv Independent")
    assert not citation.quote_verified
    card = card_of(html, "UA-T-1")
    chip = re.search(r'<span class="cite [^"]*cite--unverified">.*?</span></span>', card).group()
    assert "Kyiv Independent" in chip and "(quote not re-verified)" in chip
    link = re.search(rf'<a href="([^"]*#citation-{citation.pk})">quote \d+</a>([^<·]*)', card)
    assert "(not re-verified)" in link.group(2)
    page = client.get(link.group(1).split("#")[0]).content.decode()
    quoted = re.search(rf'<li id="citation-{citation.pk}">.*?</li>', page, re.S).group()
    assert "quote not re-verified" in quoted


def test_a_demand_card_without_its_citation_markers_fails_loudly():
    demand = Demand.objects.listing().get(code="RU-I-4")  # markers not loaded
    with pytest.raises(TypeError, match="no citation markers"):
        render_to_string("negotiations/_demand.html", {"demand": demand, "tag": "p"})


def card_of(html, code):
    """One demand's card on a page."""
    start = html.index(f'<a href="/demands/{code}/">')
    return html[start : html.index("</article>", start)]


def test_a_marker_names_its_publisher_and_kind_in_words_and_shape(client):
    html = client.get("/", {"topic": "nuclear"}).content.decode()
    card = card_of(html, "RU-I-4")
    assert (
        '<span class="cite cite--agency"><span class="cite-shape" aria-hidden="true">●</span> '
        'TASS <span class="cite-kind">state agency</span></span>'
    ) in card
    assert '<span class="cite-kind">copy</span>' in card  # The Moscow Times, read on a copy
    assert "The Moscow Times</a> (copy), " in card  # its copy rewords it: no \"via\"
    # The copy's address is given as a copy's, never as the publisher's.
    assert '<a class="external" href="https://world-news.vip/?p=5823"' in card
    assert ">copy at world-news.vip</a>" in card


def test_one_marker_per_source_lists_each_of_its_quotes(client):
    html = client.get("/", {"topic": "ceasefire"}).content.decode()
    card = card_of(html, "RU-II-O1")
    assert card.count('<span class="cite-shape"') == 2  # TASS twice and Sputnik: two sources
    tass = re.search(r'<li><a href="/sources/tass-1967401/">TASS</a>.*?</li>', card).group()
    pks = Citation.objects.filter(demand__code="RU-II-O1", source__slug="tass-1967401")
    for number, pk in enumerate(pks.values_list("pk", flat=True), 1):
        assert f'<a href="/sources/tass-1967401/#citation-{pk}">quote {number}</a>' in tass
    assert "(state agency), 2 Jun 2025" in tass
    assert '<a class="external" href="https://tass.com/politics/1967401"' in tass


def test_a_cards_sources_are_one_disclosure_so_one_tab_stop(client):
    html = client.get("/").content.decode()
    card = card_of(html, "RU-I-4")
    sources = re.search(r'<details class="sources"><summary>(.*?)</summary>', card).group(1)
    assert "<a " not in sources  # the markers themselves are no tab stops


def test_markers_escape_what_sources_say(client):
    source = Source.objects.get(slug="tass-1967385")
    source.short_name = '<b>"TASS" & co</b>'
    source.save()
    html = client.get("/", {"topic": "nuclear"}).content.decode()
    assert "&lt;b&gt;&quot;TASS&quot; &amp; co&lt;/b&gt;" in html
    assert "<b>" not in html


def test_a_provision_backed_only_by_aggregators_or_copies_says_so_and_can_be_hidden(client):
    secondhand = set(Demand.objects.values_list("code", flat=True)) - set(
        Demand.objects.firsthand().values_list("code", flat=True)
    )
    assert secondhand  # e.g. a provision seen only in a seed read on a copy
    code = sorted(secondhand)[0]
    topic = Demand.objects.get(code=code).topic.slug
    html = client.get("/", {"topic": topic}).content.decode()
    assert "Backed only by aggregators or copies." in card_of(html, code)
    firsthand = client.get("/", {"topic": topic, "sources": "firsthand"})
    assert f'<a href="/demands/{code}/">' not in firsthand.content.decode()
    assert "Not only aggregators or copies" in firsthand.content.decode()  # the menu keeps it
    shown = Demand.objects.filter(topic__slug=topic).exclude(code__in=secondhand)
    assert f'<a href="/demands/{shown.first().code}/">' in firsthand.content.decode()
    assert client.get("/", {"sources": "nonsense"}).status_code == 400


def test_every_page_with_markers_explains_them(client):
    for path in ("/", "/topics/ceasefire/", "/proposals/ru-memorandum/", "/search/?q=ceasefire"):
        html = client.get(path).content.decode()
        assert 'class="marker-legend"' in html, path
        assert "a dashed frame, a quote not re-verified" in html, path


def test_hiding_second_hand_provisions_keeps_the_query_count(client, django_assert_num_queries):
    with django_assert_num_queries(HOME_QUERIES):
        client.get(reverse("home"), {"sources": "firsthand"})


@pytest.mark.parametrize(
    ("params", "present", "absent"),
    [
        ({"topic": "neutrality"}, "Ukraine is neutral", "Recognise Crimea"),
        ({"party": "ukraine"}, "Russia&#x27;s territorial gains", "Recognise Crimea"),
        ({"proposal": "agreed-2025-06-02"}, "permanent medical commissions", "Ukraine is neutral"),
        ({"kind": "step"}, "Work starts on the text of a peace treaty", "Ukraine is neutral"),
        ({"relation": "no-counterpart"}, "Ukraine confirmed free of nuclear", "Ukraine is neutral"),
        ({"q": "Orthodox"}, "Lift the restrictions on the Ukrainian", "Ukraine is neutral"),
        ({"q": "satellite"}, "Foreign arms, military aid", "Lift the restrictions"),
    ],
)
def test_each_filter_narrows_the_grid(client, params, present, absent):
    response = client.get("/", params)
    html = response.content.decode()
    assert response.status_code == 200
    assert present in html
    assert absent not in html


@pytest.mark.parametrize(
    "params", [{"relation": "conflict"}, {"relation": "no-counterpart"}, {"topic": "ceasefire"}]
)
def test_the_count_is_of_the_provisions_in_the_rows_shown(client, params):
    html = client.get("/", params).content.decode()
    codes = set(shown_codes(html))
    # A full cell shows CELL_LIMIT of its provisions: the count then says how many match.
    assert re.search(rf"\b{len(codes)}( of \d+)? provisions shown for this filter", html)


def test_the_count_says_when_a_provision_is_listed_under_two_topics(client):
    html = client.get("/").content.decode()
    listings = shown_codes(html)
    assert len(listings) > len(set(listings))  # some provisions have a secondary topic
    # With three rounds, the fullest cell (what both delegations agreed and carried out on
    # humanitarian questions) holds more than a cell shows: the count says how many match.
    assert (
        f"{len(set(listings))} of {Demand.objects.count()} provisions shown ({len(listings)}"
        " listings: some provisions belong to more than one topic)."
    ) in html


def test_with_full_cells_the_count_is_of_what_is_shown_and_of_what_matches(client, tenfold_data):
    html = client.get("/", {"q": "ceasefire"}).content.decode()
    listings = shown_codes(html)
    matching = Demand.objects.search("ceasefire").count()
    assert len(set(listings)) < matching  # some cells are full
    assert (
        f"{len(set(listings))} of {matching} provisions shown for this filter"
        f" ({len(listings)} listings: some provisions belong to more than one topic)."
        " A full cell links to its topic page for the rest."
    ) in html


def test_the_relation_menu_offers_only_recorded_kinds(client):
    html = client.get("/").content.decode()
    menu = re.search(r'<select name="relation".*?</select>', html, re.S).group()
    assert re.findall(r'<option value="([^"]*)"', menu) == [
        "",
        "conflict",
        "partial-overlap",
        "no-counterpart",
    ]  # no topic has a compatible or agreed relation yet
    assert client.get("/", {"relation": "agreed"}).status_code == 400


def test_search_matches_quotes_and_publishers(client):
    html = client.get("/", {"q": "Moscow Patriarchate"}).content.decode()
    assert "Lift the restrictions on the Ukrainian Orthodox Church" in html


def test_htmx_request_gets_only_the_results_and_the_count(client):
    response = client.get("/", {"topic": "neutrality"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert '<table class="comparison">' in html
    assert 'id="result-count"' in html and 'data-hx-swap-oob="true"' in html
    assert "8 provisions shown for this filter." in html


def test_the_title_names_the_filter_on_the_page_and_in_the_fragment(client):
    params = {"topic": "neutrality", "party": "ukraine", "q": "NATO"}
    title = (
        "<title>Neutrality and alliances (NATO, EU) · Ukraine · “NATO” · "
        "Istanbul talks 2025 · positions side by side</title>"
    )
    assert title in client.get("/", params).content.decode()
    assert client.get("/", params, **HTMX).content.decode().startswith(title)
    assert "<title>Istanbul talks 2025" in client.get("/").content.decode()


def test_history_restore_gets_the_full_page(client):
    response = client.get(
        "/", {"topic": "neutrality"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
    )
    assert "<html" in response.content.decode()


def test_filtered_url_loaded_directly_renders_the_whole_page(client):
    html = client.get("/?topic=neutrality&party=russia").content.decode()
    assert "<html" in html and 'id="results"' in html
    assert '<option value="neutrality" selected>' in html


@pytest.mark.parametrize(
    "params",
    [
        {"topic": "nonsense"},
        {"party": "narnia"},
        {"kind": "bad"},
        {"relation": "x"},
        {"q": "a\x00b"},
    ],
)
def test_bad_filter_value_is_a_form_error_not_a_500(client, params):
    page = client.get("/", params)
    assert page.status_code == 400
    assert "Some filter values are not valid" in page.content.decode()
    fragment = client.get("/", params, **HTMX)
    assert fragment.status_code == 400
    assert "<html" not in fragment.content.decode()


def test_a_party_with_another_partys_proposal_says_they_contradict(client):
    page = client.get("/", {"party": "ukraine", "proposal": "ru-memorandum"})
    assert page.status_code == 400
    assert page.context["form"].errors["proposal"] == ["Russia's, not Ukraine's."]
    assert "Some filter values are not valid" in page.content.decode()
    assert client.get("/", {"party": "russia", "proposal": "ru-memorandum"}).status_code == 200


def test_unknown_and_repeated_parameters_are_harmless(client):
    response = client.get("/?topic=neutrality&topic=territory&colour=red", follow=True)
    assert response.redirect_chain == [("/?topic=neutrality&topic=territory", 302)]
    assert response.status_code == 200
    assert response.context["form"].cleaned_data["topic"].slug == "territory"  # the last value


def test_cards_are_reused_by_a_filter_never_asked_for(client, django_assert_num_queries):
    client.get("/")
    # The data version, topics and relations, proposals, placements and the listing: the
    # numbers and citation markers of cards already rendered are not loaded again.
    with django_assert_num_queries(HOME_QUERIES - 2):
        response = client.get("/", {"party": "russia", "kind": "step"})
    cards = response.content.decode().count('<article class="demand')
    assert cards == response.context["listing_count"] > 0


def test_only_reading_is_allowed(client):
    assert client.post("/").status_code == 405
    assert client.head("/").status_code == 200


# The page cache's data version; topics and their relations; proposals with their parties; the
# links between provisions; where every matching demand sits; the demands shown, their
# parameters and citation markers.
HOME_QUERIES = 9


def test_home_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "RU-I-4" in response.content.decode()  # the comparison, not an error page


def test_home_query_count_does_not_grow_with_tenfold_data(
    client, tenfold_data, django_assert_num_queries
):
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(reverse("home"))
    assert response.context["demand_count"] >= 10 * 76


def test_home_shows_all_three_rounds_by_default(client):
    codes = shown_codes(client.get("/").content.decode())
    for code in ("R1-UA-1", "R1-RU-1", "R1-AG-1", "RU-I-4", "AG-1", "R3-UA-1", "R3-RU-1"):
        assert code in codes, code


def test_the_round_filter_shows_one_rounds_provisions(client):
    response = client.get("/", {"round": "round-3"})
    codes = shown_codes(response.content.decode())
    assert {"R3-UA-2", "R3-RU-2", "R3-AG-1"} <= set(codes)
    assert not [code for code in codes if not code.startswith("R3-")]
    assert "Round 3 (23 July 2025)" in response.content.decode()  # the title names the filter
    menu = response.context["form"].fields["round"].choices
    assert [slug for slug, _ in menu] == ["", "round-1", "round-2", "round-3"]


def test_a_round_with_another_rounds_proposal_says_they_contradict(client):
    response = client.get("/", {"round": "round-1", "proposal": "ru-memorandum"})
    assert response.status_code == 400
    assert "Made for Round 2 (2 June 2025), not Round 1 (16 May 2025)." in response.content.decode()
    assert client.get("/", {"round": "round-9"}).status_code == 400
